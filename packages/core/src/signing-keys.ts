import { exportJWK, generateKeyPair, calculateJwkThumbprint } from 'jose';

import {
  insertSigningKey,
  listPublishedKeys,
  lockSigningKeys,
  retireKeysBefore,
  type Kysely,
  type Schema,
} from '@tollgate/db';

import { LedgerKind, recordEvent, type AuditContext } from './ledger.js';

/** ES256: compact signatures, supported by every JOSE library resource servers use. */
export const SIGNING_ALG = 'ES256';

/** A private JWK as oidc-provider's `jwks` option takes it. */
export type PrivateJwk = Record<string, unknown> & { kid: string; alg: string };

async function newSigningKey(): Promise<PrivateJwk> {
  const { privateKey } = await generateKeyPair(SIGNING_ALG, { extractable: true });
  const jwk = await exportJWK(privateKey);
  const kid = await calculateJwkThumbprint(jwk);

  return { ...jwk, kid, alg: SIGNING_ALG, use: 'sig' };
}

/**
 * Returns the published signing keys, the one to sign with first, creating the first key when
 * the database has none. Every instance on the database gets the same keys.
 */
export async function loadSigningKeys(db: Kysely<Schema>, now = new Date()): Promise<PrivateJwk[]> {
  let rows = await listPublishedKeys(db);

  if (rows.length === 0) {
    await db.transaction().execute(async (trx) => {
      await lockSigningKeys(trx);

      if ((await listPublishedKeys(trx)).length === 0) {
        const jwk = await newSigningKey();
        await insertSigningKey(trx, {
          kid: jwk.kid,
          alg: jwk.alg,
          privateJwk: jwk,
          activatesAt: now,
        });
      }
    });
    rows = await listPublishedKeys(db);
  }

  // The newest key already active signs; keys still waiting for activation are only published.
  const active = rows.filter((row) => row.activates_at <= now);
  const pending = rows.filter((row) => row.activates_at > now);

  return [...active, ...pending].map((row) => row.private_jwk as PrivateJwk);
}

export interface RotationResult {
  kid: string;
  activates_at: string;
  retired: string[];
}

/**
 * Adds a signing key that is published at once and signs only after `activateAfterSeconds`, so
 * verifiers fetch it before they see it (RFC 9068 key rotation). Keys superseded by the active
 * key more than `retireAfterSeconds` ago leave the JWKS.
 */
export async function rotateSigningKey(
  db: Kysely<Schema>,
  options: { activateAfterSeconds: number; retireAfterSeconds: number },
  audit: AuditContext,
): Promise<RotationResult> {
  const jwk = await newSigningKey();
  const activatesAt = new Date(Date.now() + options.activateAfterSeconds * 1000);

  return db.transaction().execute(async (trx) => {
    await lockSigningKeys(trx);
    await insertSigningKey(trx, { kid: jwk.kid, alg: jwk.alg, privateJwk: jwk, activatesAt });

    const retired = await retireSupersededKeys(trx, options.retireAfterSeconds);

    await recordEvent(trx, audit, {
      kind: LedgerKind.signingKeyAdded,
      data: { kid: jwk.kid, activates_at: activatesAt.toISOString(), retired },
    });

    return { kid: jwk.kid, activates_at: activatesAt.toISOString(), retired };
  });
}

/** Retires keys older than the key signing now, once it has signed for the grace period. */
async function retireSupersededKeys(
  trx: Kysely<Schema>,
  retireAfterSeconds: number,
): Promise<string[]> {
  const now = Date.now();
  const signing = (await listPublishedKeys(trx)).find((row) => row.activates_at.getTime() <= now);

  if (signing === undefined || now - signing.activates_at.getTime() < retireAfterSeconds * 1000) {
    return [];
  }

  return retireKeysBefore(trx, signing.kid, signing.activates_at);
}
