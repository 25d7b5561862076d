import { LedgerKind, recordEvent } from '@tollgate/core';
import type { Kysely, Schema } from '@tollgate/db';
import type { Middleware } from 'koa';
import type { KoaContextWithOIDC } from 'oidc-provider';

import type { Logger } from '../logger.js';
import type { OidcRequestState } from './request-state.js';

const AUTHENTICATED_ROUTES = new Set(['token', 'introspection', 'revocation']);

interface ErrorBody {
  error?: unknown;
  error_description?: unknown;
}

/**
 * Records every failed client authentication in the ledger before the answer leaves: which
 * client it claimed to be and why it failed, never what it presented.
 */
export function recordAuthFailures(db: Kysely<Schema>): Middleware {
  return async (ctx, next) => {
    await next();

    const oidcCtx = ctx as KoaContextWithOIDC;
    const body = ctx.body as ErrorBody | undefined;

    if (!AUTHENTICATED_ROUTES.has(oidcCtx.oidc?.route ?? '') || body?.error !== 'invalid_client') {
      return;
    }

    const state = ctx.state as OidcRequestState & { log?: Logger };
    const clientId = claimedClientId(oidcCtx);
    const claimed = clientId === null ? undefined : state.clients?.get(clientId);

    // The caller already gets its 401; a ledger outage must not turn that into a 500.
    await recordEvent(
      db,
      { actor: clientId, requestId: state.requestId ?? null, ip: state.ip ?? null },
      {
        kind: LedgerKind.clientAuthenticationFailed,
        agentId: claimed?.kind === 'agent' ? claimed.id : null,
        clientId,
        data: {
          endpoint: oidcCtx.oidc.route,
          reason: state.authFailure ?? 'invalid_client',
        },
      },
    ).catch((error: unknown) => {
      state.log?.error({ err: error, event: 'ledger.write_failed' }, 'auth failure not recorded');
    });
  };
}

/** The client id the caller claimed, from whichever authentication method it used. */
function claimedClientId(ctx: KoaContextWithOIDC): string | null {
  const fromOidc = ctx.oidc.client?.clientId ?? ctx.oidc.params?.client_id;

  if (typeof fromOidc === 'string') {
    return fromOidc.slice(0, 200);
  }

  const header = ctx.get('authorization');

  if (!header.toLowerCase().startsWith('basic ')) {
    return null;
  }

  const decoded = Buffer.from(header.slice(6), 'base64').toString('utf8');
  const separator = decoded.indexOf(':');

  return separator > 0 ? safeDecode(decoded.slice(0, separator)).slice(0, 200) : null;
}

function safeDecode(value: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
}
