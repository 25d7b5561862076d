import { sql, type Kysely } from 'kysely';

import type { Schema, SigningKeyRow } from '../schema.js';

/** Keys still published in JWKS (not retired), newest activation first. */
export async function listPublishedKeys(db: Kysely<Schema>): Promise<SigningKeyRow[]> {
  return db
    .selectFrom('signing_keys')
    .selectAll()
    .where('retired_at', 'is', null)
    .orderBy('activates_at', 'desc')
    .orderBy('kid')
    .execute();
}

export interface NewSigningKey {
  kid: string;
  alg: string;
  privateJwk: Record<string, unknown>;
  activatesAt: Date;
}

export async function insertSigningKey(db: Kysely<Schema>, key: NewSigningKey): Promise<void> {
  await db
    .insertInto('signing_keys')
    .values({
      kid: key.kid,
      alg: key.alg,
      private_jwk: JSON.stringify(key.privateJwk),
      activates_at: key.activatesAt,
    })
    .execute();
}

/** Retires every published key whose activation precedes `before`, except `keepKid`. */
export async function retireKeysBefore(
  db: Kysely<Schema>,
  keepKid: string,
  before: Date,
): Promise<string[]> {
  const rows = await db
    .updateTable('signing_keys')
    .set({ retired_at: sql<Date>`now()` })
    .where('retired_at', 'is', null)
    .where('kid', '<>', keepKid)
    .where('activates_at', '<', before)
    .returning('kid')
    .execute();

  return rows.map((row) => row.kid);
}

/** Serialises key creation across instances for the rest of the transaction. */
export async function lockSigningKeys(db: Kysely<Schema>): Promise<void> {
  await sql`SELECT pg_advisory_xact_lock(7411820260)`.execute(db);
}

/** Returns the named server secret, creating it with `value` when absent (first writer wins). */
export async function ensureServerSecret(
  db: Kysely<Schema>,
  name: string,
  value: string,
): Promise<string> {
  await db
    .insertInto('server_secrets')
    .values({ name, value })
    .onConflict((oc) => oc.column('name').doNothing())
    .execute();

  const row = await db
    .selectFrom('server_secrets')
    .select('value')
    .where('name', '=', name)
    .executeTakeFirstOrThrow();

  return row.value;
}
