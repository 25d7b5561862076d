import {
  appendLedgerEvents,
  closeSessionTrees,
  findSessionsFromToken,
  revokeTokenWithEvent,
  type LedgerEventInput,
  findLapsedSessionIds,
  findOpenSessionIds,
  findSession,
  listLedgerEvents,
  listSessions,
  listSessionTokens,
  type ActorClaim,
  type Kysely,
  type Schema,
  type SessionRow,
} from '@tollgate/db';

import { notFound } from './errors.js';
import { auditFields, LedgerKind, type AuditContext } from './ledger.js';
import { ledgerEventView, type LedgerEventView } from './ledger-list.js';
import { inTransaction } from './transactions.js';
import {
  decodeTimeCursor,
  encodeCursor,
  isRowId,
  pageSize,
  toPage,
  type Page,
} from './pagination.js';

/** Why a session ended; part of the ledger and API vocabulary. */
export type SessionCloseReason =
  | 'closed_by_agent'
  | 'closed_by_admin'
  | 'agent_disabled'
  | 'deadline'
  | 'idle'
  | 'parent_closed'
  | 'parent_token_revoked'
  | 'budget_reached';

export interface SessionView {
  id: string;
  agent_id: string;
  state: 'open' | 'closed';
  subject: string | null;
  subject_issuer: string | null;
  tools: string[];
  audience: string | null;
  act: ActorClaim | null;
  parent_session_id: string | null;
  opened_at: string;
  deadline: string;
  idle_timeout_seconds: number | null;
  last_activity_at: string;
  closed_at: string | null;
  close_reason: string | null;
}

export function sessionView(row: SessionRow & { is_open: boolean }): SessionView {
  return {
    id: row.id,
    agent_id: row.client_pk,
    state: row.is_open ? 'open' : 'closed',
    subject: row.subject,
    subject_issuer: row.subject_issuer,
    tools: row.tools,
    audience: row.audience,
    act: row.actor_chain,
    parent_session_id: row.parent_session_id,
    opened_at: row.opened_at.toISOString(),
    deadline: row.deadline.toISOString(),
    idle_timeout_seconds: row.idle_timeout_seconds,
    last_activity_at: row.last_activity_at.toISOString(),
    closed_at: row.closed_at?.toISOString() ?? null,
    close_reason: row.close_reason,
  };
}

/**
 * Closes a session and the sessions opened from it, recording one ledger event for each.
 * Their tokens stop being active at once, because every token lookup checks its session.
 */
export async function closeSession(
  db: Kysely<Schema>,
  sessionId: string,
  reason: SessionCloseReason,
  audit: AuditContext,
): Promise<SessionRow[]> {
  return closeTrees(db, [sessionId], reason, audit);
}

/** Closes session trees and records one event per closed session, in one transaction. */
async function closeTrees(
  db: Kysely<Schema>,
  rootIds: readonly string[],
  reason: SessionCloseReason,
  audit: AuditContext,
): Promise<SessionRow[]> {
  return inTransaction(db, async (trx) => {
    const closed = await closeSessionTrees(trx, rootIds, reason);
    const events = closed.map((row) => ({
      ...auditFields(audit),
      kind: LedgerKind.sessionClosed,
      agentId: row.client_pk,
      sessionId: row.id,
      subject: row.subject,
      data: { reason: row.close_reason },
    }));

    // Bound each insert well below Postgres's 65,535 parameters (ten per event).
    for (let start = 0; start < events.length; start += EVENTS_PER_INSERT) {
      await appendLedgerEvents(trx, events.slice(start, start + EVENTS_PER_INSERT));
    }

    return closed;
  });
}

const EVENTS_PER_INSERT = 1000;

/** Closes every open session of an agent (when it is disabled, or its budget is used up). */
export async function closeSessionsOfAgent(
  db: Kysely<Schema>,
  clientPk: string,
  audit: AuditContext,
  reason: SessionCloseReason = 'agent_disabled',
): Promise<number> {
  const closed = await closeTrees(db, await findOpenSessionIds(db, clientPk), reason, audit);

  return closed.length;
}

/**
 * Revokes a token (RFC 7009) with its ledger event and, RFC 8693 chains, ends the sessions
 * opened by exchanging it, in one transaction. The sessions are looked for after the revocation
 * holds the token's row: an exchange that was opening one from this token has committed by then
 * (it holds a share lock on the token), and a later one sees the token revoked and stops.
 * Returns whether the token was live until now.
 */
export async function revokeToken(
  db: Kysely<Schema>,
  tokenId: string,
  audit: AuditContext,
  event: LedgerEventInput,
): Promise<boolean> {
  return inTransaction(db, async (trx) => {
    const revoked = await revokeTokenWithEvent(trx, tokenId, 'revoked_by_client', event);
    const opened = await findSessionsFromToken(trx, tokenId);
    await closeTrees(trx, opened, 'parent_token_revoked', audit);

    return revoked;
  });
}

/**
 * Records the close of sessions that lapsed (deadline or idle limit). Their tokens died at the
 * deadline already; this makes the close visible in the ledger and the session's state.
 */
export async function closeLapsedSessions(
  db: Kysely<Schema>,
  audit: AuditContext,
): Promise<number> {
  let count = 0;

  for (const id of await findLapsedSessionIds(db, 500)) {
    const session = await findSession(db, id);
    const reason = session !== undefined && session.deadline <= new Date() ? 'deadline' : 'idle';
    count += (await closeSession(db, id, reason, audit)).length;
  }

  return count;
}

/** Loads a session or fails with 404. */
export async function requireSession(db: Kysely<Schema>, id: string) {
  const row = isRowId(id) ? await findSession(db, id) : undefined;

  if (row === undefined) {
    throw notFound('session');
  }

  return row;
}

export interface SessionDetail extends SessionView {
  tokens: {
    token_id: string;
    tools: string[];
    audience: string | null;
    issued_at: string;
    expires_at: string;
    revoked_at: string | null;
    revoked_reason: string | null;
  }[];
  events: LedgerEventView[];
}

export async function getSessionDetail(db: Kysely<Schema>, id: string): Promise<SessionDetail> {
  const row = await requireSession(db, id);
  const tokens = await listSessionTokens(db, row.id);
  const events = await listLedgerEvents(db, { sessionId: row.id, limit: 500 });

  return {
    ...sessionView(row),
    tokens: tokens.map((token) => ({
      token_id: token.token_id,
      tools: token.scope === null ? [] : token.scope.split(' '),
      audience: token.audience,
      issued_at: token.issued_at.toISOString(),
      expires_at: token.expires_at.toISOString(),
      revoked_at: token.revoked_at?.toISOString() ?? null,
      revoked_reason: token.revoked_reason,
    })),
    events: events.map(ledgerEventView),
  };
}

export interface SessionListQuery {
  agentId?: string | undefined;
  subject?: string | undefined;
  state?: 'open' | 'closed' | undefined;
  from?: Date | undefined;
  to?: Date | undefined;
  cursor?: string | undefined;
  limit?: number | undefined;
}

export async function listSessionViews(
  db: Kysely<Schema>,
  query: SessionListQuery,
): Promise<Page<SessionView>> {
  const limit = pageSize(query.limit);
  const position = query.cursor === undefined ? undefined : decodeTimeCursor(query.cursor, 'o');

  if (query.agentId !== undefined && !isRowId(query.agentId)) {
    return { items: [], next_cursor: null };
  }

  const rows = await listSessions(db, {
    clientPk: query.agentId,
    subject: query.subject,
    state: query.state,
    from: query.from,
    to: query.to,
    after: position === undefined ? undefined : { openedAt: position.at, id: position.id },
    limit: limit + 1,
  });

  return toPage(rows, limit, sessionView, (row) =>
    encodeCursor({ o: row.opened_at.toISOString(), i: row.id }),
  );
}
