import type { Middleware } from 'koa';

import type { Database } from '@tollgate/db';

/** Liveness says the process serves; readiness says it can reach its database too. */
export function healthRoutes(database: Database): Middleware {
  return async (ctx, next) => {
    if (ctx.method !== 'GET' && ctx.method !== 'HEAD') {
      return next();
    }

    if (ctx.path === '/healthz') {
      ctx.body = { status: 'ok' };
      return;
    }

    if (ctx.path === '/readyz') {
      const ready = await database.ping().then(
        () => true,
        () => false,
      );

      ctx.status = ready ? 200 : 503;
      ctx.body = { status: ready ? 'ready' : 'database unavailable' };

      if (!ready) {
        ctx.set('Retry-After', '1');
      }

      return;
    }

    return next();
  };
}

/**
 * RFC 8414 §3: authorization server metadata lives at /.well-known/oauth-authorization-server,
 * with the issuer's path (if any) appended. oidc-provider serves the same document as OpenID
 * discovery, so the alias hands the request over to it.
 */
export function authorizationServerMetadata(issuer: string): Middleware {
  const issuerPath = new URL(issuer).pathname.replace(/\/$/, '');
  const aliasPath = `/.well-known/oauth-authorization-server${issuerPath}`;

  return async (ctx, next) => {
    if (ctx.path === aliasPath) {
      ctx.path = '/.well-known/openid-configuration';
    }

    await next();
  };
}
