import { CompiledQuery, sql, type Kysely } from 'kysely';

import type { AccessTokenRow, ActorClaim, NewSession, Schema } from '../schema.js';
import { ledgerRow, type LedgerEventInput } from './ledger.js';
import { issueOutcomes, storeIssuesQuery, type StoredIssueRow } from './issue-writer.js';
import { TOKEN_IS_LIVE_SQL } from './live-token.js';

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

/** The live-token condition of live-token.ts, for the Kysely-built statements. */
const TOKEN_IS_LIVE = sql.raw<boolean>(TOKEN_IS_LIVE_SQL);

export interface TokenIssue {
  token: NewIssuedToken;
  /** A session this token opens, stored in the same statement. */
  openSession?: NewSession | undefined;
  /** An open session this token renews: its activity time moves to now. */
  renewSessionId?: string | undefined;
  /** Ledger events of the issue (token issued, session opened or renewed, ...). */
  events: LedgerEventInput[];
  /**
   * The version of the client row the token was issued from. When given, nothing is stored
   * unless the client is still active at that version (checked in the storing statement).
   */
  clientVersion?: string | undefined;
}

/**
 * Stores an issued token, the session it opens or renews, and their ledger events in one
 * statement, so that none can exist without the others: a token whose events did not commit
 * was never stored and never works. It is the statement TokenIssueWriter batches, run for one
 * issue; returns false when the client gate refused it (nothing was written then).
 */
export async function insertIssuedToken(db: Kysely<Schema>, issue: TokenIssue): Promise<boolean> {
  const { text, values } = storeIssuesQuery([issue]);
  const result = await db.executeQuery<StoredIssueRow>(CompiledQuery.raw(text, values));

  return issueOutcomes([issue], result.rows)[0] === 'stored';
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
 * Marks one token revoked and records the event in the same statement (one round trip).
 * Returns false when the token was unknown or already revoked (then nothing is written).
 */
export async function revokeTokenWithEvent(
  db: Kysely<Schema>,
  tokenId: string,
  reason: string,
  event: LedgerEventInput,
): Promise<boolean> {
  const row = ledgerRow({ ...event, tokenId });
  const result = await sql<{ id: string }>`
    WITH revoked AS (
      UPDATE access_tokens SET revoked_at = now(), revoked_reason = ${reason}
      WHERE token_id = ${tokenId} AND revoked_at IS NULL
      RETURNING token_id, session_id
    )
    INSERT INTO ledger_events
      (kind, agent_id, client_id, token_id, session_id, subject, actor, request_id, ip, data)
    SELECT ${row.kind}, ${row.agent_id}::uuid, ${row.client_id}, token_id, session_id,
           ${row.subject}, ${row.actor}, ${row.request_id}, ${row.ip}, ${row.data}::jsonb
    FROM revoked
    RETURNING id`.execute(db);

  return result.rows.length > 0;
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

/** A live token with the session it belongs to and the client it was issued to. */
export interface LiveSessionToken {
  token_id: string;
  client_pk: string;
  client_id: string;
  scope: string | null;
  audience: string | null;
  expires_at: Date;
  session_id: string;
  session_subject: string | null;
  session_subject_issuer: string | null;
  session_tools: string[];
  session_audience: string | null;
  session_actor_chain: ActorClaim | null;
  session_deadline: Date;
}

/** Like findLiveToken, for tokens that belong to a session, with what exchange needs of both. */
export async function findLiveSessionToken(
  db: Kysely<Schema>,
  tokenId: string,
): Promise<LiveSessionToken | undefined> {
  return db
    .selectFrom('access_tokens as t')
    .innerJoin('clients as c', 'c.id', 't.client_pk')
    .innerJoin('sessions as s', 's.id', 't.session_id')
    .select([
      't.token_id',
      't.client_pk',
      'c.client_id',
      't.scope',
      't.audience',
      't.expires_at',
      's.id as session_id',
      's.subject as session_subject',
      's.subject_issuer as session_subject_issuer',
      's.tools as session_tools',
      's.audience as session_audience',
      's.actor_chain as session_actor_chain',
      's.deadline as session_deadline',
    ])
    .where('t.token_id', '=', tokenId)
    .where(TOKEN_IS_LIVE)
    .executeTakeFirst();
}

/**
 * Revokes a client's live tokens that its narrowed policy no longer allows: a tool that was
 * removed, or an audience it may no longer call. Returns how many.
 */
export async function revokeTokensOutsidePolicy(
  db: Kysely<Schema>,
  clientPk: string,
  allowed: { tools: string[]; audiences: string[] },
  reason: string,
): Promise<number> {
  const result = await db
    .updateTable('access_tokens')
    .set({ revoked_at: sql<Date>`now()`, revoked_reason: reason })
    .where('client_pk', '=', clientPk)
    .where('revoked_at', 'is', null)
    .where('expires_at', '>', sql<Date>`now()`)
    .where(
      sql<boolean>`NOT (
        coalesce(string_to_array(scope, ' '), '{}') <@ ${allowed.tools}::text[]
        AND audience = ANY (${allowed.audiences}::text[])
      )`,
    )
    .executeTakeFirst();

  return Number(result.numUpdatedRows);
}
