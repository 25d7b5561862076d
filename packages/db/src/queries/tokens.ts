import { sql, type Kysely } from 'kysely';

import type { AccessTokenRow, Schema } from '../schema.js';
import { ledgerRow, type LedgerEventInput } from './ledger.js';

export interface NewIssuedToken {
  tokenId: string;
  clientPk: string;
  sessionId: string | null;
  model: string;
  audience: string | null;
  scope: string | null;
  payload: Record<string, unknown>;
  issuedAt: Date;
  expiresAt: Date;
}

/**
 * Stores an issued token and its ledger event in one statement, so that neither can exist
 * without the other: a token whose event did not commit was never stored and never works.
 */
export async function insertTokenWithEvent(
  db: Kysely<Schema>,
  token: NewIssuedToken,
  event: LedgerEventInput,
): Promise<void> {
  await db
    .with('issued', (qb) =>
      qb.insertInto('access_tokens').values({
        token_id: token.tokenId,
        client_pk: token.clientPk,
        session_id: token.sessionId,
        model: token.model,
        audience: token.audience,
        scope: token.scope,
        payload: JSON.stringify(token.payload),
        issued_at: token.issuedAt,
        expires_at: token.expiresAt,
      }),
    )
    .insertInto('ledger_events')
    .values(ledgerRow(event))
    .execute();
}

/**
 * Finds a token that can still be honoured: not revoked, not expired, and issued to a client
 * that is still active. Disablement and revocation therefore show on the very next lookup.
 */
export async function findLiveToken(
  db: Kysely<Schema>,
  tokenId: string,
): Promise<AccessTokenRow | undefined> {
  return db
    .selectFrom('access_tokens as t')
    .innerJoin('clients as c', 'c.id', 't.client_pk')
    .selectAll('t')
    .where('t.token_id', '=', tokenId)
    .where('t.revoked_at', 'is', null)
    .where('t.expires_at', '>', sql<Date>`now()`)
    .where('c.status', '=', 'active')
    .executeTakeFirst();
}

export async function findTokenById(
  db: Kysely<Schema>,
  tokenId: string,
): Promise<AccessTokenRow | undefined> {
  return db
    .selectFrom('access_tokens')
    .selectAll()
    .where('token_id', '=', tokenId)
    .executeTakeFirst();
}

/**
 * Marks one token revoked and records the event in the same transaction. Returns false when
 * the token was unknown or already revoked (then nothing is written).
 */
export async function revokeTokenWithEvent(
  db: Kysely<Schema>,
  tokenId: string,
  reason: string,
  event: LedgerEventInput,
): Promise<boolean> {
  return db.transaction().execute(async (trx) => {
    const revoked = await trx
      .updateTable('access_tokens')
      .set({ revoked_at: sql<Date>`now()`, revoked_reason: reason })
      .where('token_id', '=', tokenId)
      .where('revoked_at', 'is', null)
      .returning(['token_id', 'session_id'])
      .executeTakeFirst();

    if (revoked === undefined) {
      return false;
    }

    await trx
      .insertInto('ledger_events')
      .values(ledgerRow({ ...event, tokenId, sessionId: revoked.session_id }))
      .execute();

    return true;
  });
}

/** Revokes every live token of a client (e.g. when the agent is disabled); returns how many. */
export async function revokeTokensOfClient(
  db: Kysely<Schema>,
  clientPk: string,
  reason: string,
): Promise<number> {
  const result = await db
    .updateTable('access_tokens')
    .set({ revoked_at: sql<Date>`now()`, revoked_reason: reason })
    .where('client_pk', '=', clientPk)
    .where('revoked_at', 'is', null)
    .where('expires_at', '>', sql<Date>`now()`)
    .executeTakeFirst();

  return Number(result.numUpdatedRows);
}

/** Deletes token rows that expired before `before` (kept until then for audit and late usage). */
export async function deleteExpiredTokens(db: Kysely<Schema>, before: Date): Promise<number> {
  const result = await db
    .deleteFrom('access_tokens')
    .where('expires_at', '<', before)
    .executeTakeFirst();

  return Number(result.numDeletedRows);
}
