import { listLedgerEvents, type Kysely, type LedgerEventRow, type Schema } from '@tollgate/db';

import { invalidInput } from './errors.js';
import { decodeCursor, encodeCursor, isRowId, pageSize, toPage, type Page } from './pagination.js';

/** A ledger event as the management API shows it. */
export interface LedgerEventView {
  id: string;
  kind: string;
  at: string;
  agent_id: string | null;
  client_id: string | null;
  token_id: string | null;
  session_id: string | null;
  subject: string | null;
  actor: string | null;
  request_id: string | null;
  ip: string | null;
  data: Record<string, unknown>;
}

export function ledgerEventView(row: LedgerEventRow): LedgerEventView {
  return {
    id: row.id,
    kind: row.kind,
    at: row.at.toISOString(),
    agent_id: row.agent_id,
    client_id: row.client_id,
    token_id: row.token_id,
    session_id: row.session_id,
    subject: row.subject,
    actor: row.actor,
    request_id: row.request_id,
    ip: row.ip,
    data: row.data,
  };
}

export interface LedgerListQuery {
  agentId?: string | undefined;
  kinds?: string[] | undefined;
  /** Inclusive lower bound on the event time. */
  from?: Date | undefined;
  /** Exclusive upper bound on the event time. */
  to?: Date | undefined;
  cursor?: string | undefined;
  limit?: number | undefined;
}

/** Event ids are bigint identities, carried as decimal strings. */
const EVENT_ID = /^[1-9][0-9]{0,18}$/;

/** Lists ledger events newest first; the cursor carries the last id seen. */
export async function listLedger(
  db: Kysely<Schema>,
  query: LedgerListQuery,
): Promise<Page<LedgerEventView>> {
  const limit = pageSize(query.limit);
  const beforeId = query.cursor === undefined ? undefined : cursorEventId(query.cursor);

  if (query.agentId !== undefined && !isRowId(query.agentId)) {
    throw invalidInput('invalid agent id', [{ path: 'agent_id', message: 'must be a UUID' }]);
  }

  const rows = await listLedgerEvents(db, {
    agentId: query.agentId,
    kinds: query.kinds,
    from: query.from,
    to: query.to,
    beforeId,
    limit: limit + 1,
  });

  return toPage(rows, limit, ledgerEventView, (row) => encodeCursor({ i: row.id }));
}

function cursorEventId(cursor: string): string {
  const { i } = decodeCursor(cursor, ['i']);

  if (!EVENT_ID.test(i)) {
    throw invalidInput('invalid cursor', [
      { path: 'cursor', message: 'not a cursor from this API' },
    ]);
  }

  return i;
}
