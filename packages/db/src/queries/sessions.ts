import { sql, type Kysely } from 'kysely';

import type { NewSession, Schema, SessionRow } from '../schema.js';

/**
 * SQL condition (alias s): the session can still carry tokens (not closed, before deadline, not
 * idle). Also kept as plain text, for the hot statements that are prepared by name.
 */
export const SESSION_IS_OPEN_SQL = `(
  s.closed_at IS NULL
  AND s.deadline > now()
  AND (s.idle_timeout_seconds IS NULL
       OR s.last_activity_at + make_interval(secs => s.idle_timeout_seconds) > now())
)`;

export const SESSION_IS_OPEN = sql.raw<boolean>(SESSION_IS_OPEN_SQL);

export async function insertSession(db: Kysely<Schema>, session: NewSession): Promise<SessionRow> {
  return db.insertInto('sessions').values(session).returningAll().executeTakeFirstOrThrow();
}

export async function findSession(
  db: Kysely<Schema>,
  id: string,
): Promise<(SessionRow & { is_open: boolean }) | undefined> {
  return db
    .selectFrom('sessions as s')
    .selectAll('s')
    .select(SESSION_IS_OPEN.as('is_open'))
    .where('s.id', '=', id)
    .executeTakeFirst();
}

/** Marks activity on an open session; returns false when it is no longer open. */
export async function touchOpenSession(db: Kysely<Schema>, id: string): Promise<boolean> {
  const result = await db
    .updateTable('sessions as s')
    .set({ last_activity_at: sql<Date>`now()` })
    .where('s.id', '=', id)
    .where(SESSION_IS_OPEN)
    .executeTakeFirst();

  return Number(result.numUpdatedRows) > 0;
}

/**
 * Closes sessions and every session opened from them (agent-to-agent delegation). The roots are
 * closed for `reason`, the sessions below them as 'parent_closed'. Returns the sessions this
 * call closed; sessions already closed are left as they were. Run it in a transaction.
 *
 * Two statements on purpose: closing a root waits for any exchange that is opening a session
 * below it (the exchange holds a share lock on the root), and only a statement that starts after
 * that wait sees the new session, so the sessions below are looked for second.
 */
export async function closeSessionTrees(
  db: Kysely<Schema>,
  rootIds: readonly string[],
  reason: string,
): Promise<SessionRow[]> {
  if (rootIds.length === 0) {
    return [];
  }

  const roots = sql`${[...rootIds]}::uuid[]`;
  const closedRoots = await sql<SessionRow>`
    UPDATE sessions SET closed_at = now(), close_reason = ${reason}
    WHERE id = ANY (${roots}) AND closed_at IS NULL
    RETURNING *`.execute(db);
  const closedBelow = await sql<SessionRow>`
    WITH RECURSIVE tree(id) AS (
      SELECT child.id FROM sessions child WHERE child.parent_session_id = ANY (${roots})
      UNION
      SELECT child.id FROM sessions child JOIN tree ON child.parent_session_id = tree.id
    )
    UPDATE sessions SET closed_at = now(), close_reason = 'parent_closed'
    WHERE id IN (SELECT id FROM tree) AND closed_at IS NULL
    RETURNING *`.execute(db);

  return [...closedRoots.rows, ...closedBelow.rows];
}

/** Open sessions opened by exchanging the given token, whose lives hang on that token's. */
export async function findSessionsFromToken(
  db: Kysely<Schema>,
  tokenId: string,
): Promise<string[]> {
  const rows = await db
    .selectFrom('sessions')
    .select('id')
    .where('parent_token_id', '=', tokenId)
    .where('closed_at', 'is', null)
    .execute();

  return rows.map((row) => row.id);
}

/** Open sessions of a client (to close them when it is disabled). */
export async function findOpenSessionIds(db: Kysely<Schema>, clientPk: string): Promise<string[]> {
  const rows = await db
    .selectFrom('sessions')
    .select('id')
    .where('client_pk', '=', clientPk)
    .where('closed_at', 'is', null)
    .execute();

  return rows.map((row) => row.id);
}

/** Sessions past their deadline or idle limit that nobody has closed yet (for the sweeper). */
export async function findLapsedSessionIds(db: Kysely<Schema>, limit: number): Promise<string[]> {
  const rows = await db
    .selectFrom('sessions as s')
    .select('s.id')
    .where('s.closed_at', 'is', null)
    .where(sql<boolean>`NOT ${SESSION_IS_OPEN}`)
    .limit(limit)
    .execute();

  return rows.map((row) => row.id);
}

export interface SessionFilter {
  clientPk?: string | undefined;
  subject?: string | undefined;
  state?: 'open' | 'closed' | undefined;
  from?: Date | undefined;
  to?: Date | undefined;
  after?: { openedAt: Date; id: string } | undefined;
  limit: number;
}

/** Lists sessions, most recently opened first, with keyset pagination. */
export async function listSessions(
  db: Kysely<Schema>,
  filter: SessionFilter,
): Promise<(SessionRow & { is_open: boolean })[]> {
  const openedMs = sql<Date>`date_trunc('milliseconds', s.opened_at)`;
  let query = db.selectFrom('sessions as s').selectAll('s').select(SESSION_IS_OPEN.as('is_open'));

  if (filter.clientPk !== undefined) query = query.where('s.client_pk', '=', filter.clientPk);
  if (filter.subject !== undefined) query = query.where('s.subject', '=', filter.subject);
  if (filter.state === 'open') query = query.where(SESSION_IS_OPEN);
  if (filter.state === 'closed') query = query.where(sql<boolean>`NOT ${SESSION_IS_OPEN}`);
  if (filter.from !== undefined) query = query.where('s.opened_at', '>=', filter.from);
  if (filter.to !== undefined) query = query.where('s.opened_at', '<', filter.to);

  if (filter.after !== undefined) {
    const { openedAt, id } = filter.after;
    query = query.where(sql<boolean>`(${openedMs}, s.id) < (${openedAt}, ${id})`);
  }

  return query.orderBy(openedMs, 'desc').orderBy('s.id', 'desc').limit(filter.limit).execute();
}

/** The tokens of one session, newest first, for the session's detail view. */
export async function listSessionTokens(db: Kysely<Schema>, sessionId: string) {
  return db
    .selectFrom('access_tokens')
    .select([
      'token_id',
      'scope',
      'audience',
      'issued_at',
      'expires_at',
      'revoked_at',
      'revoked_reason',
    ])
    .where('session_id', '=', sessionId)
    .orderBy('issued_at', 'desc')
    .execute();
}
