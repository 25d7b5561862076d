import { randomUUID } from 'node:crypto';

import { LedgerKind } from '@tollgate/core';
import type { KoaContextWithOIDC } from 'oidc-provider';

import { planIssuance, plannedIssuance, rememberedClient } from './request-state.js';

interface IssuedToken {
  kind: string;
  clientId?: string | undefined;
  scope?: string | undefined;
  aud?: unknown;
}

/**
 * oidc-provider's extraTokenClaims hook: the claims Tollgate adds to every access token. An
 * exchanged token gets the claims its exchange decided (sub, act, sid, subject issuer); a
 * client_credentials token opens a session of its own (the agent acting for itself).
 */
export function extraTokenClaims(
  _ctx: KoaContextWithOIDC,
  token: IssuedToken,
): Record<string, unknown> | undefined {
  const planned = plannedIssuance();

  if (planned !== undefined) {
    return planned.claims;
  }

  return token.kind === 'ClientCredentials'
    ? { sub: token.clientId, sid: planClientCredentialsSession(token) }
    : undefined;
}

function planClientCredentialsSession(token: IssuedToken): string | undefined {
  const client = token.clientId === undefined ? undefined : rememberedClient(token.clientId);

  if (client === undefined) {
    return undefined;
  }

  const id = randomUUID();
  const tools = token.scope === undefined ? [] : token.scope.split(' ');
  const audience = typeof token.aud === 'string' ? token.aud : null;

  planIssuance({
    sessionId: id,
    openSession: {
      id,
      client_pk: client.id,
      tools,
      audience,
      deadline: new Date(Date.now() + client.session_max_seconds * 1000),
      idle_timeout_seconds: client.session_idle_seconds,
    },
    renewal: false,
    subject: null,
    claims: {},
    eventKind: LedgerKind.tokenIssued,
    eventData: {},
  });

  return id;
}
