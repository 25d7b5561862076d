import { tokenIdOf } from '@tollgate/core';
import type { Middleware } from 'koa';
import type { KoaContextWithOIDC } from 'oidc-provider';

/**
 * Brings oidc-provider's answers in line with the RFCs where they differ, and adds the
 * members Tollgate promises in introspection responses.
 */
export const shapeResponses: Middleware = async (ctx, next) => {
  await next();

  const oidcCtx = ctx as KoaContextWithOIDC;
  const route = oidcCtx.oidc?.route;

  if (route === 'introspection') {
    shapeIntrospection(oidcCtx);
  } else if (route === 'revocation') {
    shapeRevocation(oidcCtx);
  }
};

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

  const sessionId: unknown = token.extra?.sid;

  if (typeof sessionId === 'string') {
    body.sid = sessionId;
  }
}

/** RFC 7009 §2.2: an invalid token, whatever its shape, is answered with 200. */
function shapeRevocation(ctx: KoaContextWithOIDC): void {
  if (isUnsupportedTokenType(ctx)) {
    ctx.status = 200;
    ctx.body = '';
  }
}
