import { CompiledQuery, type Kysely } from 'kysely';

import { Batcher, type BatcherOptions } from '../batcher.js';
import type { Database } from '../database.js';
import type { AccessTokenRow, Budget, Schema } from '../schema.js';
import { SESSION_IS_OPEN_SQL } from './sessions.js';

/**
 * The one definition of a token that can still be honoured (aliases t, c, s): not revoked, not
 * expired, its client active, not stored before the client was last re-enabled (such a token
 * raced a disable), and its session, if any, open.
 */
export const TOKEN_IS_LIVE_SQL = `(
  t.revoked_at IS NULL
  AND t.expires_at > now()
  AND c.status = 'active'
  AND (c.tokens_valid_after IS NULL OR t.stored_at > c.tokens_valid_after)
  AND (t.session_id IS NULL OR ${SESSION_IS_OPEN_SQL})
)`;

/** A live token, with its client's budget (introspection reports what is left of it). */
export type LiveToken = AccessTokenRow & { client_budget: Budget };

/** A client whose in-memory copy was trusted for this request, at the version it was read. */
export interface ClientToConfirm {
  clientPk: string;
  version: string;
}

export interface LiveTokenLookup {
  token: LiveToken | undefined;
  /** Whether the confirmed client is still active at that version (false when none given). */
  clientCurrent: boolean;
}

/*
 * Introspection runs this on every call, so it is prepared once per connection, and the lookups
 * of concurrent requests share one execution (one round trip): each input row is one lookup. It
 * confirms, in the same round trip, that each caller's remembered credentials are still current,
 * and it returns one row per lookup even when the token is unknown, so that the confirmation is
 * never lost. A batch starts after each of its requests arrived, so it sees every revocation
 * committed before them. Each lookup must be its own probe of the token's primary key: as a
 * join, the generic plan of a prepared statement follows the table statistics, and while they
 * lag a fast-growing table it joined every token of every client (tens of milliseconds). The
 * LIMIT (harmless: token_id is unique) keeps the planner from flattening the LATERAL subquery.
 */
export const FIND_LIVE_TOKENS = `
WITH input AS (
  SELECT token_id, client_pk, version, ord
  FROM unnest($1::text[], $2::uuid[], $3::bigint[])
    WITH ORDINALITY AS i(token_id, client_pk, version, ord)
)
SELECT
  i.ord,
  EXISTS (
    SELECT 1 FROM clients k
    WHERE k.id = i.client_pk AND k.version = i.version AND k.status = 'active'
  ) AS client_current,
  live.token_id, live.client_pk, live.session_id, live.model, live.audience, live.scope,
  live.payload, live.issued_at, live.expires_at, live.revoked_at, live.revoked_reason,
  live.stored_at, live.client_budget
FROM input i
LEFT JOIN LATERAL (
  SELECT t.token_id, t.client_pk, t.session_id, t.model, t.audience, t.scope, t.payload,
         t.issued_at, t.expires_at, t.revoked_at, t.revoked_reason, t.stored_at,
         c.budget AS client_budget
  FROM access_tokens t
  JOIN clients c ON c.id = t.client_pk
  LEFT JOIN sessions s ON s.id = t.session_id
  WHERE t.token_id = i.token_id AND ${TOKEN_IS_LIVE_SQL}
  LIMIT 1
) AS live ON true
ORDER BY i.ord`;

const FIND_LIVE_TOKENS_NAME = 'tollgate_find_live_tokens';

type LookupRow = { ord: string; client_current: boolean } & {
  [Column in keyof LiveToken]: LiveToken[Column] | null;
};

/** One token lookup, with the client to confirm alongside (if any). */
export interface TokenLookup {
  tokenId: string;
  confirm?: ClientToConfirm | undefined;
}

function lookupValues(lookups: readonly TokenLookup[]): unknown[] {
  return [
    lookups.map((lookup) => lookup.tokenId),
    lookups.map((lookup) => lookup.confirm?.clientPk ?? null),
    lookups.map((lookup) => lookup.confirm?.version ?? null),
  ];
}

/** One answer per lookup, in their order. */
function lookupAnswers(lookups: readonly TokenLookup[], rows: LookupRow[]): LiveTokenLookup[] {
  if (rows.length !== lookups.length) {
    throw new Error('the token lookup did not answer every lookup');
  }

  return rows.map(({ ord: _ord, client_current: clientCurrent, ...token }) => ({
    token: token.token_id === null ? undefined : (token as LiveToken),
    clientCurrent,
  }));
}

/** Runs the lookups in one prepared statement (the hot path, see LiveTokenReader). */
async function lookUpLiveTokens(
  database: Database,
  lookups: readonly TokenLookup[],
): Promise<LiveTokenLookup[]> {
  const rows = await database.prepared<LookupRow>(
    FIND_LIVE_TOKENS_NAME,
    FIND_LIVE_TOKENS,
    lookupValues(lookups),
  );

  return lookupAnswers(lookups, rows);
}

/**
 * Finds a token that can still be honoured: not revoked, not expired, issued to a client that
 * is still active, in a session that is still open. Disablement, revocation and session close
 * therefore show on the very next lookup, on every instance. With `confirm`, it also tells
 * whether that client's remembered row is still current. The same statement as the batched
 * lookups, for one token, inside any transaction.
 */
export async function lookUpLiveToken(
  db: Kysely<Schema>,
  tokenId: string,
  confirm?: ClientToConfirm,
): Promise<LiveTokenLookup> {
  const lookups = [{ tokenId, confirm }];
  const result = await db.executeQuery<LookupRow>(
    CompiledQuery.raw(FIND_LIVE_TOKENS, lookupValues(lookups)),
  );

  return lookupAnswers(lookups, result.rows)[0] as LiveTokenLookup;
}

/** A token that can still be honoured (see lookUpLiveToken), or undefined. */
export async function findLiveToken(
  db: Kysely<Schema>,
  tokenId: string,
): Promise<LiveToken | undefined> {
  return (await lookUpLiveToken(db, tokenId)).token;
}

/** Measured like the writers: one batch in flight; a batch never waits for more lookups. */
export const DEFAULT_TOKEN_READER_OPTIONS: BatcherOptions = { maxInFlight: 1, maxBatch: 64 };

/** Token lookups of concurrent requests, batched into one round trip (see Batcher). */
export class LiveTokenReader {
  readonly #batches: Batcher<TokenLookup, LiveTokenLookup>;

  constructor(database: Database, options: BatcherOptions = DEFAULT_TOKEN_READER_OPTIONS) {
    this.#batches = new Batcher((lookups) => lookUpLiveTokens(database, lookups), options);
  }

  /** Like lookUpLiveToken, sharing the round trip with the lookups of concurrent requests. */
  lookUp(tokenId: string, confirm?: ClientToConfirm): Promise<LiveTokenLookup> {
    return this.#batches.submit({ tokenId, confirm });
  }
}
