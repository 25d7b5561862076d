import {
  expireOtherSecrets,
  insertSecret,
  listSecrets,
  revokeSecret,
  type ClientRow,
  type ClientSecretRow,
  type Kysely,
  type Schema,
} from '@tollgate/db';

import { generateClientSecret, hashClientSecret } from './client-secrets.js';
import { invalidInput, notFound } from './errors.js';
import { LedgerKind, recordEvent, type AuditContext } from './ledger.js';

export interface SecretView {
  id: string;
  status: 'active' | 'expired' | 'revoked';
  created_at: string;
  expires_at: string | null;
  revoked_at: string | null;
}

export function secretView(row: ClientSecretRow, now = new Date()): SecretView {
  const status =
    row.revoked_at !== null
      ? 'revoked'
      : row.expires_at !== null && row.expires_at <= now
        ? 'expired'
        : 'active';

  return {
    id: row.id,
    status,
    created_at: row.created_at.toISOString(),
    expires_at: row.expires_at?.toISOString() ?? null,
    revoked_at: row.revoked_at?.toISOString() ?? null,
  };
}

export interface AddSecretOptions {
  /** Lifetime of the new secret; it never expires when absent. */
  expiresInSeconds?: number | undefined;
  /** Keep the client's other secrets working this long, then let them expire (0: at once). */
  oldSecretsExpireInSeconds?: number | undefined;
}

export interface IssuedSecret {
  secret: SecretView;
  client_secret: string;
}

/** Creates a client secret in the caller's transaction; the clear value is returned once. */
export async function issueSecret(
  trx: Kysely<Schema>,
  client: ClientRow,
  options: AddSecretOptions,
  audit: AuditContext,
): Promise<IssuedSecret> {
  const { id, secret } = generateClientSecret();
  const expiresAt = secondsFromNow(options.expiresInSeconds, 'expires_in_seconds');
  const row = await insertSecret(trx, {
    id,
    clientPk: client.id,
    hash: await hashClientSecret(secret),
    expiresAt,
  });
  const oldExpireAt = secondsFromNow(
    options.oldSecretsExpireInSeconds,
    'old_secrets_expire_in_seconds',
  );
  const shortened =
    oldExpireAt === null ? [] : await expireOtherSecrets(trx, client.id, id, oldExpireAt);

  await recordEvent(trx, audit, {
    kind: LedgerKind.secretAdded,
    agentId: client.kind === 'agent' ? client.id : null,
    clientId: client.client_id,
    data: {
      secret_id: id,
      expires_at: expiresAt?.toISOString() ?? null,
      old_secrets_expire_at: oldExpireAt?.toISOString() ?? null,
      shortened_secret_ids: shortened.map((old) => old.id),
    },
  });

  return { secret: secretView(row), client_secret: secret };
}

export async function listClientSecrets(
  db: Kysely<Schema>,
  client: ClientRow,
): Promise<SecretView[]> {
  const now = new Date();

  return (await listSecrets(db, client.id)).map((row) => secretView(row, now));
}

export async function revokeClientSecret(
  db: Kysely<Schema>,
  client: ClientRow,
  secretId: string,
  audit: AuditContext,
): Promise<SecretView> {
  return db.transaction().execute(async (trx) => {
    const row = await revokeSecret(trx, client.id, secretId);

    if (row === undefined) {
      throw notFound('active secret');
    }

    await recordEvent(trx, audit, {
      kind: LedgerKind.secretRevoked,
      agentId: client.kind === 'agent' ? client.id : null,
      clientId: client.client_id,
      data: { secret_id: secretId },
    });

    return secretView(row);
  });
}

const MAX_SECRET_LIFETIME_SECONDS = 5 * 366 * 86_400;

function secondsFromNow(seconds: number | undefined, path: string): Date | null {
  if (seconds === undefined) {
    return null;
  }

  if (!Number.isInteger(seconds) || seconds < 0 || seconds > MAX_SECRET_LIFETIME_SECONDS) {
    throw invalidInput('invalid secret lifetime', [
      { path, message: `must be an integer from 0 to ${MAX_SECRET_LIFETIME_SECONDS}` },
    ]);
  }

  return new Date(Date.now() + seconds * 1000);
}
