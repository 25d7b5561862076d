import type { Middleware, ParameterizedContext } from 'koa';

import { AppError } from '@tollgate/core';

import type { AdminPrincipal, AdminState } from './context.js';

export type Authenticate = (bearerToken: string) => Promise<AdminPrincipal | undefined>;

/** Everything under /v1 needs an admin; the OpenAPI document is the only public resource. */
const PROTECTED_PREFIX = '/v1';

const REALM = 'tollgate-admin';

/** RFC 6750 §2.1: `Bearer` and a token of b64token characters. */
const BEARER = /^Bearer +([A-Za-z0-9\-._~+/]+=*)$/i;

/** Lets /v1 requests through only with a live admin token, recording the admin in state. */
export function requireAdmin(authenticate: Authenticate): Middleware<AdminState> {
  return async (ctx, next) => {
    if (isProtected(ctx.path)) {
      ctx.state.principal = await principalOf(ctx, authenticate);
    }

    await next();
  };
}

function isProtected(path: string): boolean {
  return path === PROTECTED_PREFIX || path.startsWith(`${PROTECTED_PREFIX}/`);
}

async function principalOf(
  ctx: ParameterizedContext<AdminState>,
  authenticate: Authenticate,
): Promise<AdminPrincipal> {
  const header = ctx.get('Authorization');

  if (header === '') {
    return refuse(ctx, false);
  }

  const token = BEARER.exec(header)?.[1];
  const principal = token === undefined ? undefined : await authenticate(token);

  return principal ?? refuse(ctx, true);
}

/** RFC 6750 §3: a request without credentials gets a bare challenge, a bad token an error. */
function refuse(ctx: ParameterizedContext<AdminState>, tokenSent: boolean): never {
  const challenge = tokenSent
    ? `Bearer realm="${REALM}", error="invalid_token"`
    : `Bearer realm="${REALM}"`;

  ctx.set('WWW-Authenticate', challenge);

  throw new AppError(
    'unauthorized',
    401,
    tokenSent ? 'the access token is invalid or expired' : 'an admin access token is required',
  );
}
