import type { Database } from '../database.js';
import type { AccessTokenRow, Budget } from '../schema.js';
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
 * Introspection runs this on every call, so it is prepared once per connection. It confirms, in
 * the same round trip, that the caller's cached credentials are still current, and it returns
 * one row even when the token is unknown so that the confirmation is never lost.
 */
const FIND_LIVE_TOKEN = `
SELECT
  EXISTS (
    SELECT 1 FROM clients WHERE id = $2::uuid AND version = $3::bigint AND status = 'active'
  ) AS client_current,
  t.token_id, t.client_pk, t.session_id, t.model, t.audience, t.scope, t.payload,
  t.issued_at, t.expires_at, t.revoked_at, t.revoked_reason, t.stored_at,
  c.budget AS client_budget
FROM (SELECT 1) AS one
LEFT JOIN (
  access_tokens t
  JOIN clients c ON c.id = t.client_pk
  LEFT JOIN sessions s ON s.id = t.session_id
) ON t.token_id = $1 AND ${TOKEN_IS_LIVE_SQL}`;

type LookupRow = { client_current: boolean } & {
  [Column in keyof LiveToken]: LiveToken[Column] | null;
};

/**
 * Finds a token that can still be honoured: not revoked, not expired, issued to a client that
 * is still active, in a session that is still open. Disablement, revocation and session close
 * therefore show on the very next lookup, on every instance. With `confirm`, it also tells
 * whether that client's remembered row is still current.
 */
export async function lookUpLiveToken(
  database: Database,
  tokenId: string,
  confirm?: ClientToConfirm,
): Promise<LiveTokenLookup> {
  const [row] = await database.prepared<LookupRow>('tollgate_find_live_token', FIND_LIVE_TOKEN, [
    tokenId,
    confirm?.clientPk ?? null,
    confirm?.version ?? null,
  ]);

  if (row === undefined) {
    throw new Error('the token lookup returned no row');
  }

  const { client_current: clientCurrent, ...token } = row;

  return {
    token: token.token_id === null ? undefined : (token as LiveToken),
    clientCurrent,
  };
}
