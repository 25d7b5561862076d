import { measureBudget, tokenIdOf } from '@tollgate/core';
import type { Kysely, Schema } from '@tollgate/db';
import type { Middleware } from 'koa';
import type { KoaContextWithOIDC } from 'oidc-provider';

import type { OidcRequestState } from './request-state.js';

/**
 * Brings oidc-provider's answers in line with the RFCs where they differ, and adds the
 * members Tollgate promises in introspection responses.
 */
export function shapeResponses(db: Kysely<Schema>): Middleware {
  return async (ctx, next) => {
    await next();
    await shapeResponse(ctx as KoaContextWithOIDC, db);
  };
}

async function shapeResponse(oidcCtx: KoaContextWithOIDC, db: Kysely<Schema>): Promise<void> {
  const route = oidcCtx.oidc?.route;

  if (route === 'token' || route === 'introspection' || route === 'revocation') {
    shapeMissingClientAuth(oidcCtx);
    shapeRateLimited(oidcCtx);
    shapeUnavailable(oidcCtx);
  }

  if (route === 'introspection') {
    shapeIntrospection(oidcCtx);
    await addSessionBudget(oidcCtx, db);
  } else if (route === 'revocation') {
    shapeRevocation(oidcCtx);
  } else if (route === 'token') {
    shapeTokenError(oidcCtx);
  }
}

/**
 * For a token whose agent has session limits, introspection tells the resource server what is
 * left of them, so that a gateway can stop a generation before it overruns.
 */
async function addSessionBudget(ctx: KoaContextWithOIDC, db: Kysely<Schema>): Promise<void> {
  const body = ctx.body as Record<string, unknown> | undefined;
  const presented = ctx.oidc.params?.token;

  if (body?.active !== true || typeof body.sid !== 'string' || typeof presented !== 'string') {
    return;
  }

  const row = await (ctx.state as OidcRequestState).tokenLookups?.get(presented);
  const uses =
    row === undefined
      ? []
      : await measureBudget(db, 'session', body.sid, row.client_budget, new Date());

  if (uses.length > 0) {
    body.budget_remaining = Object.fromEntries(
      uses.map((use) => [use.limit, Math.max(0, use.max - use.used)]),
    );
  }
}

/** oidc-provider's own wording for a grant type the client is not registered for. */
const GRANT_TYPE_NOT_ALLOWED = 'requested grant type is not allowed for this client';

/** RFC 6749 §5.2: a client not allowed a grant type gets unauthorized_client. */
function shapeTokenError(ctx: KoaContextWithOIDC): void {
  const body = ctx.body as
    { error?: unknown; error_description?: unknown; scope?: unknown } | undefined;

  if (body?.error === 'invalid_request' && body.error_description === GRANT_TYPE_NOT_ALLOWED) {
    body.error = 'unauthorized_client';
  }

  // oidc-provider echoes the offending scope; when no single scope is at fault there is none.
  if (body?.error === 'invalid_scope' && body.scope === '') {
    delete body.scope;
  }
}

interface ErrorBody {
  error?: unknown;
}

/** oidc-provider refuses JWT-shaped values outright; every token we cannot honour is inactive. */
const isUnsupportedTokenType = (ctx: KoaContextWithOIDC): boolean =>
  ctx.status === 400 && (ctx.body as ErrorBody | undefined)?.error === 'unsupported_token_type';

function shapeIntrospection(ctx: KoaContextWithOIDC): void {
  if (isUnsupportedTokenType(ctx)) {
    ctx.status = 200;
    ctx.body = { active: false };
    return;
  }

  const body = ctx.body as Record<string, unknown> | undefined;
  const token = ctx.oidc.entities.ClientCredentials ?? ctx.oidc.entities.AccessToken;
  const presented = ctx.oidc.params?.token;

  if (body?.active !== true || token === undefined || typeof presented !== 'string') {
    return;
  }

  // RFC 7662 §2.2: jti names the token; an opaque value's digest does so without being it.
  body.jti = tokenIdOf(presented);

  // oidc-provider writes its own (login) session id over ours; Tollgate's is the task session.
  // An active token's session is open: tokens of closed sessions never get this far.
  const sessionId: unknown = token.extra?.sid;

  if (typeof sessionId === 'string') {
    body.sid = sessionId;
    body.session_state = 'open';
  }
}

/** RFC 7009 §2.2: an invalid token, whatever its shape, is answered with 200. */
function shapeRevocation(ctx: KoaContextWithOIDC): void {
  if (isUnsupportedTokenType(ctx)) {
    ctx.status = 200;
    ctx.body = '';
  }

  // RFC 6749 §5.1 asks this of every token-bearing or error answer; oidc-provider omits it here.
  if (ctx.status >= 400) {
    ctx.set('Cache-Control', 'no-store');
  }
}

const NO_CLIENT_AUTH = 'no client authentication mechanism provided';

/**
 * RFC 6749 §5.2: a request without any client authentication is `invalid_client` with 401;
 * oidc-provider answers it as invalid_request.
 */
function shapeMissingClientAuth(ctx: KoaContextWithOIDC): void {
  const body = ctx.body as { error?: unknown; error_description?: unknown } | undefined;

  if (body?.error === 'invalid_request' && body.error_description === NO_CLIENT_AUTH) {
    ctx.status = 401;
    ctx.body = { error: 'invalid_client', error_description: 'client authentication is required' };
    ctx.set('WWW-Authenticate', `Basic realm="${ctx.oidc.provider.issuer}"`);
  }
}

/** How long a client should wait before retrying when Tollgate cannot serve it now. */
const RETRY_AFTER_SECONDS = '1';

/**
 * RFC 6749 §5.2 and RFC 7009 §2.2.1: a database outage is temporary, so the answer is 503 with
 * Retry-After and `temporarily_unavailable`, not a 500; nothing was issued without its ledger row.
 */
function shapeUnavailable(ctx: KoaContextWithOIDC): void {
  const state = ctx.state as OidcRequestState;

  if (state.invalidValue === true) {
    ctx.status = 400;
    ctx.body = {
      error: 'invalid_request',
      error_description: 'a parameter holds an invalid value',
    };
    ctx.set('Cache-Control', 'no-store');
    return;
  }

  if (state.unavailable !== true) {
    return;
  }

  ctx.status = 503;
  ctx.body = {
    error: 'temporarily_unavailable',
    error_description: 'the authorization server cannot reach its database; retry shortly',
  };
  ctx.set('Retry-After', RETRY_AFTER_SECONDS);
  ctx.set('Cache-Control', 'no-store');
}

/** Too many failed secrets: 429 with Retry-After, still an invalid_client answer. */
function shapeRateLimited(ctx: KoaContextWithOIDC): void {
  const state = ctx.state as OidcRequestState;

  if (state.authFailure === 'rate_limited' && ctx.status === 401) {
    ctx.status = 429;
    ctx.set('Retry-After', String(state.retryAfterSeconds ?? 60));
    ctx.body = {
      error: 'invalid_client',
      error_description: 'too many failed authentications; retry later',
    };
  }
}
