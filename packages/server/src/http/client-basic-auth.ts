import type { ParameterizedContext } from 'koa';

import { AppError, LedgerKind, recordEvent, type ClientSecretVerifier } from '@tollgate/core';
import {
  findClientForAuthentication,
  type ClientKind,
  type ClientWithSecrets,
  type Kysely,
  type Schema,
} from '@tollgate/db';

import type { RequestState } from './request-context.js';

/**
 * HTTP Basic client authentication (RFC 6749 §2.3.1) for Tollgate's own endpoints, with the
 * same argon2id check and verification cache as the token endpoint. A failure is recorded in
 * the ledger (claimed client id and reason, never the secret) and answered 401.
 */
export async function authenticateClient(
  ctx: ParameterizedContext<RequestState>,
  deps: { db: Kysely<Schema>; verifier: ClientSecretVerifier },
  kind: ClientKind,
): Promise<ClientWithSecrets> {
  const credentials = basicCredentials(ctx.get('authorization'));
  const client =
    credentials === undefined
      ? undefined
      : await findClientForAuthentication(deps.db, credentials.id);
  const limitKeys = [`client:${credentials?.id ?? ''}`, `ip:${ctx.state.ip}`];
  const reason = await failureReason(client, credentials, kind, deps.verifier, limitKeys);

  if (reason === undefined && client !== undefined) {
    return client;
  }

  await recordEvent(
    deps.db,
    { actor: credentials?.id ?? null, requestId: ctx.state.requestId, ip: ctx.state.ip },
    {
      kind: LedgerKind.clientAuthenticationFailed,
      agentId: client?.kind === 'agent' ? client.id : null,
      clientId: credentials?.id ?? null,
      data: { endpoint: ctx.path, reason },
    },
  );
  ctx.set('WWW-Authenticate', 'Basic realm="tollgate"');

  if (reason === 'rate_limited') {
    ctx.set('Retry-After', '60');
    throw new AppError('too_many_requests', 429, 'too many failed authentications; retry later');
  }

  throw new AppError('unauthorized', 401, 'client authentication failed');
}

async function failureReason(
  client: ClientWithSecrets | undefined,
  credentials: { id: string; secret: string } | undefined,
  kind: ClientKind,
  verifier: ClientSecretVerifier,
  limitKeys: string[],
): Promise<string | undefined> {
  if (credentials === undefined) return 'no_credentials';
  if (client === undefined) return 'unknown_client';
  if (client.status !== 'active') return 'client_disabled';
  if (client.kind !== kind) return 'wrong_client_kind';

  const check = await verifier.check(credentials.secret, client.live_secrets, limitKeys);

  return check.ok ? undefined : check.reason;
}

function basicCredentials(header: string): { id: string; secret: string } | undefined {
  const match = /^Basic ([A-Za-z0-9+/]+=*)$/i.exec(header);
  const decoded = match?.[1] === undefined ? '' : Buffer.from(match[1], 'base64').toString('utf8');
  const separator = decoded.indexOf(':');

  if (separator <= 0) {
    return undefined;
  }

  try {
    const id = decodeURIComponent(decoded.slice(0, separator));
    const secret = decodeURIComponent(decoded.slice(separator + 1));

    // RFC 6749 §2.3.1 credentials are printable; anything else cannot name a client.
    return CONTROL_CHARACTERS.test(id + secret) ? undefined : { id: id.slice(0, 200), secret };
  } catch {
    return undefined;
  }
}

// eslint-disable-next-line no-control-regex -- matching control characters is the point here
const CONTROL_CHARACTERS = /[\u0000-\u001f\u007f]/;
