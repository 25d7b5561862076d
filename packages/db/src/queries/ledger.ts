import type { Kysely } from 'kysely';

import type { LedgerEventRow, Schema } from '../schema.js';

/** A ledger event as written by the domain layer; `data` is stored as JSON. */
export interface LedgerEventInput {
  kind: string;
  agentId?: string | null;
  clientId?: string | null;
  tokenId?: string | null;
  sessionId?: string | null;
  subject?: string | null;
  actor?: string | null;
  requestId?: string | null;
  ip?: string | null;
  data?: Record<string, unknown>;
}

/** Maps an event to its row; shared by every query that writes the ledger. */
export function ledgerRow(event: LedgerEventInput) {
  return {
    kind: event.kind,
    agent_id: event.agentId ?? null,
    client_id: event.clientId ?? null,
    token_id: event.tokenId ?? null,
    session_id: event.sessionId ?? null,
    subject: event.subject ?? null,
    actor: event.actor ?? null,
    request_id: event.requestId ?? null,
    ip: event.ip ?? null,
    data: JSON.stringify(event.data ?? {}),
  };
}

export async function appendLedgerEvents(
  db: Kysely<Schema>,
  events: LedgerEventInput[],
): Promise<void> {
  if (events.length > 0) {
    await db.insertInto('ledger_events').values(events.map(ledgerRow)).execute();
  }
}

export interface LedgerFilter {
  agentId?: string | undefined;
  sessionId?: string | undefined;
  kinds?: string[] | undefined;
  from?: Date | undefined;
  to?: Date | undefined;
  /** Keyset position: events with a smaller id (the list runs newest first). */
  beforeId?: string | undefined;
  limit: number;
}

/** Lists ledger events newest first. */
export async function listLedgerEvents(
  db: Kysely<Schema>,
  filter: LedgerFilter,
): Promise<LedgerEventRow[]> {
  let query = db.selectFrom('ledger_events').selectAll();

  if (filter.agentId !== undefined) {
    query = query.where('agent_id', '=', filter.agentId);
  }

  if (filter.sessionId !== undefined) {
    query = query.where('session_id', '=', filter.sessionId);
  }

  if (filter.kinds !== undefined && filter.kinds.length > 0) {
    query = query.where('kind', 'in', filter.kinds);
  }

  if (filter.from !== undefined) {
    query = query.where('at', '>=', filter.from);
  }

  if (filter.to !== undefined) {
    query = query.where('at', '<', filter.to);
  }

  if (filter.beforeId !== undefined) {
    query = query.where('id', '<', filter.beforeId);
  }

  return query.orderBy('id', 'desc').limit(filter.limit).execute();
}
