import {
  decideExchange,
  ExchangeRefusal,
  LedgerKind,
  recordEvent,
  type ExchangeDecision,
  type ExchangeRequest,
  type IssuerKeys,
  tokenIdOf,
  TokenType,
} from '@tollgate/core';
import { findTokenById, type Kysely, type Schema } from '@tollgate/db';
import type { Middleware } from 'koa';
import type Provider from 'oidc-provider';
import { errors, type Client, type KoaContextWithOIDC } from 'oidc-provider';

import { budgetExceeded } from './budget-error.js';
import { clientProperty, TOKEN_EXCHANGE_GRANT } from './client-metadata.js';
import { currentRequestState, planIssuance, rememberedClient } from './request-state.js';

/** RFC 8693 §2.1 request parameters; resource and audience may repeat. */
const PARAMETERS = [
  'subject_token',
  'subject_token_type',
  'actor_token',
  'actor_token_type',
  'requested_token_type',
  'resource',
  'audience',
  'scope',
];
const REPEATABLE = ['resource', 'audience'];

export interface TokenExchangeDeps {
  db: Kysely<Schema>;
  issuer: string;
  issuerKeys: IssuerKeys;
}

/** Registers RFC 8693 token exchange at the token endpoint. */
export function registerTokenExchange(provider: Provider, deps: TokenExchangeDeps): void {
  provider.registerGrantType(
    TOKEN_EXCHANGE_GRANT,
    exchangeHandler(provider, deps),
    PARAMETERS,
    REPEATABLE,
  );
}

function exchangeHandler(provider: Provider, deps: TokenExchangeDeps) {
  return async (ctx: KoaContextWithOIDC): Promise<void> => {
    const { client } = ctx.oidc;
    const agent = client === undefined ? undefined : rememberedClient(client.clientId);

    if (client === undefined || agent?.kind !== 'agent') {
      throw new errors.UnauthorizedClient('only agents may exchange tokens');
    }

    const context = {
      db: deps.db,
      issuerKeys: deps.issuerKeys,
      issuer: deps.issuer,
      agent,
      now: new Date(),
    };
    const decision = await decideExchange(context, exchangeRequest(ctx)).catch(
      async (error: unknown) => {
        throw await refusalToOAuthError(deps.db, ctx, agent, error);
      },
    );

    ctx.body = await issueExchangedToken(provider, client, decision);
  };
}

function exchangeRequest(ctx: KoaContextWithOIDC): ExchangeRequest {
  const params = ctx.oidc.params ?? {};
  const text = (name: string) => (typeof params[name] === 'string' ? params[name] : undefined);
  const list = (name: string): string[] => {
    const value: unknown = params[name];

    return Array.isArray(value) ? value.map(String) : typeof value === 'string' ? [value] : [];
  };

  return {
    subjectToken: text('subject_token'),
    subjectTokenType: text('subject_token_type'),
    actorToken: text('actor_token'),
    actorTokenType: text('actor_token_type'),
    requestedTokenType: text('requested_token_type'),
    resources: list('resource'),
    audiences: list('audience'),
    scope: text('scope'),
  };
}

/** Records a refused exchange in the ledger, then answers with its RFC 6749 error. */
async function refusalToOAuthError(
  db: Kysely<Schema>,
  ctx: KoaContextWithOIDC,
  agent: { id: string; client_id: string },
  error: unknown,
): Promise<Error> {
  if (!(error instanceof ExchangeRefusal)) {
    return error instanceof Error ? error : new Error(String(error));
  }

  const state = currentRequestState();
  const session = await subjectSession(db, ctx);

  await recordEvent(
    db,
    { actor: agent.client_id, requestId: state?.requestId ?? null, ip: state?.ip ?? null },
    {
      kind: LedgerKind.exchangeRefused,
      agentId: agent.id,
      clientId: agent.client_id,
      sessionId: session?.session_id ?? null,
      data: { error: error.error, reason: error.reason, description: error.description },
    },
  );

  switch (error.error) {
    case 'invalid_target':
      return new errors.InvalidTarget(error.description);
    case 'invalid_scope':
      return new errors.InvalidScope(error.description, '');
    case 'unauthorized_client':
      return new errors.UnauthorizedClient(error.description);
    case 'invalid_request':
      return new errors.InvalidRequest(error.description);
    case 'budget_exceeded':
      return budgetExceeded(error.description);
  }
}

/**
 * The session of a Tollgate subject token, whatever its state, so that a refused renewal shows
 * in that session's history.
 */
async function subjectSession(db: Kysely<Schema>, ctx: KoaContextWithOIDC) {
  const { subject_token: token, subject_token_type: type } = ctx.oidc.params ?? {};

  if (type !== TokenType.accessToken || typeof token !== 'string') {
    return undefined;
  }

  return findTokenById(db, tokenIdOf(token));
}

/** Saves the access token the exchange decided on and builds the RFC 8693 §2.2.1 response. */
async function issueExchangedToken(
  provider: Provider,
  client: Client,
  decision: ExchangeDecision,
): Promise<Record<string, unknown>> {
  const scope = decision.tools.join(' ');
  const expiresIn = Math.max(1, Math.floor((decision.expiresAt.getTime() - Date.now()) / 1000));

  planIssuance({
    sessionId: decision.sessionId,
    ...(decision.openSession === undefined ? {} : { openSession: decision.openSession }),
    renewal: decision.renewal,
    subject: decision.subject,
    claims: {
      sub: decision.subject,
      sid: decision.sessionId,
      subject_issuer: decision.subjectIssuer,
      ...(decision.act === undefined ? {} : { act: decision.act }),
    },
    eventKind: LedgerKind.tokenExchanged,
    eventData: decision.eventData,
  });

  // Stored as oidc-provider's ClientCredentials model: a grant-less access token whose subject
  // and actor chain Tollgate supplies as extra claims.
  const token = new provider.ClientCredentials({ client, scope, expiresIn });
  token.resourceServer = new provider.ResourceServer(decision.audience, {
    scope,
    audience: decision.audience,
    accessTokenFormat: 'opaque',
    accessTokenTTL: expiresIn,
  });
  token.scope = scope;

  const value = await token.save();

  return {
    access_token: value,
    issued_token_type: decision.issuedTokenType,
    token_type: 'Bearer',
    expires_in: expiresIn,
    scope,
  };
}

/**
 * oidc-provider refuses the exchange grant to clients that are not agents before the handler
 * runs; this records those refusals in the ledger like every other refused exchange.
 */
export function recordNonAgentExchangeRefusals(db: Kysely<Schema>): Middleware {
  return async (ctx, next) => {
    await next();

    const oidcCtx = ctx as KoaContextWithOIDC;
    const body = ctx.body as { error?: unknown } | undefined;
    const client = oidcCtx.oidc?.client;
    const isRefusedExchange =
      oidcCtx.oidc?.route === 'token' &&
      oidcCtx.oidc.params?.grant_type === TOKEN_EXCHANGE_GRANT &&
      body?.error === 'unauthorized_client' &&
      client !== undefined &&
      clientProperty(client, 'tollgate_kind') !== 'agent';

    if (!isRefusedExchange) {
      return;
    }

    const state = ctx.state as { requestId?: string; ip?: string };

    await recordEvent(
      db,
      { actor: client.clientId, requestId: state.requestId ?? null, ip: state.ip ?? null },
      {
        kind: LedgerKind.exchangeRefused,
        clientId: client.clientId,
        data: { error: 'unauthorized_client', reason: 'client_not_agent' },
      },
    );
  };
}
