import { sql, type Kysely } from 'kysely';

import { translateDatabaseError } from '../errors.js';
import type { Schema, TrustedIssuerRow } from '../schema.js';

export interface NewTrustedIssuer {
  id: string;
  issuer: string;
  jwksUri: string | null;
  jwks: Record<string, unknown> | null;
  audiences: string[];
  userClaim: string;
}

export async function insertTrustedIssuer(
  db: Kysely<Schema>,
  input: NewTrustedIssuer,
): Promise<TrustedIssuerRow> {
  try {
    return await db
      .insertInto('trusted_issuers')
      .values({
        id: input.id,
        issuer: input.issuer,
        jwks_uri: input.jwksUri,
        jwks: input.jwks === null ? null : JSON.stringify(input.jwks),
        audiences: input.audiences,
        user_claim: input.userClaim,
      })
      .returningAll()
      .executeTakeFirstOrThrow();
  } catch (error) {
    throw translateDatabaseError(error);
  }
}

export async function findTrustedIssuerById(
  db: Kysely<Schema>,
  id: string,
): Promise<TrustedIssuerRow | undefined> {
  return db.selectFrom('trusted_issuers').selectAll().where('id', '=', id).executeTakeFirst();
}

export async function findActiveTrustedIssuer(
  db: Kysely<Schema>,
  issuer: string,
): Promise<TrustedIssuerRow | undefined> {
  return db
    .selectFrom('trusted_issuers')
    .selectAll()
    .where('issuer', '=', issuer)
    .where('status', '=', 'active')
    .executeTakeFirst();
}

export async function listTrustedIssuers(db: Kysely<Schema>): Promise<TrustedIssuerRow[]> {
  return db.selectFrom('trusted_issuers').selectAll().orderBy('issuer').execute();
}

export interface TrustedIssuerChanges {
  audiences?: string[];
  user_claim?: string;
  jwks_uri?: string | null;
  jwks?: string | null;
  status?: 'active' | 'disabled';
}

export async function updateTrustedIssuer(
  db: Kysely<Schema>,
  id: string,
  changes: TrustedIssuerChanges,
): Promise<TrustedIssuerRow | undefined> {
  return db
    .updateTable('trusted_issuers')
    .set({ ...changes, updated_at: sql<Date>`now()` })
    .where('id', '=', id)
    .returningAll()
    .executeTakeFirst();
}
