import { sql, type Kysely } from 'kysely';

import type { ClientSecretRow, Schema } from '../schema.js';

export interface NewSecret {
  id: string;
  clientPk: string;
  hash: string;
  expiresAt: Date | null;
}

export async function insertSecret(
  db: Kysely<Schema>,
  secret: NewSecret,
): Promise<ClientSecretRow> {
  return db
    .insertInto('client_secrets')
    .values({
      id: secret.id,
      client_pk: secret.clientPk,
      hash: secret.hash,
      expires_at: secret.expiresAt,
    })
    .returningAll()
    .executeTakeFirstOrThrow();
}

export async function listSecrets(
  db: Kysely<Schema>,
  clientPk: string,
): Promise<ClientSecretRow[]> {
  return db
    .selectFrom('client_secrets')
    .selectAll()
    .where('client_pk', '=', clientPk)
    .orderBy('created_at')
    .orderBy('id')
    .execute();
}

/** Revokes one secret; returns undefined when it does not exist or was already revoked. */
export async function revokeSecret(
  db: Kysely<Schema>,
  clientPk: string,
  secretId: string,
): Promise<ClientSecretRow | undefined> {
  return db
    .updateTable('client_secrets')
    .set({ revoked_at: sql<Date>`now()` })
    .where('client_pk', '=', clientPk)
    .where('id', '=', secretId)
    .where('revoked_at', 'is', null)
    .returningAll()
    .executeTakeFirst();
}

/**
 * Shortens the life of a client's other live secrets to `expiresAt` (rotation with overlap);
 * a secret that already expires earlier keeps its own expiry.
 */
export async function expireOtherSecrets(
  db: Kysely<Schema>,
  clientPk: string,
  keepId: string,
  expiresAt: Date,
): Promise<ClientSecretRow[]> {
  return db
    .updateTable('client_secrets')
    .set({ expires_at: expiresAt })
    .where('client_pk', '=', clientPk)
    .where('id', '<>', keepId)
    .where('revoked_at', 'is', null)
    .where((eb) => eb.or([eb('expires_at', 'is', null), eb('expires_at', '>', expiresAt)]))
    .returningAll()
    .execute();
}
