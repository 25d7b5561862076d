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
    const isMetadata = ctx.path === aliasPath || ctx.path === '/.well-known/openid-configuration';

    if (ctx.path === aliasPath) {
      ctx.path = '/.well-known/openid-configuration';
    }

    await next();

    if (isMetadata && ctx.status === 200) {
      completeMetadata(ctx.body as Record<string, unknown>);
    }
  };
}

/**
 * RFC 8414 §2 members oidc-provider 9 leaves out: every endpoint authenticates clients the same
 * way as the token endpoint, and Tollgate accepts token exchange grants.
 */
function completeMetadata(metadata: Record<string, unknown>): void {
  const methods = metadata.token_endpoint_auth_methods_supported;
  const algs = metadata.token_endpoint_auth_signing_alg_values_supported;

  for (const endpoint of ['introspection', 'revocation']) {
    metadata[`${endpoint}_endpoint_auth_methods_supported`] ??= methods;
    metadata[`${endpoint}_endpoint_auth_signing_alg_values_supported`] ??= algs;
  }
}
