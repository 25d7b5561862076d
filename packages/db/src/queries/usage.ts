import { sql, type Kysely } from 'kysely';

import type { NewUsageReport, Schema, UsageReportRow } from '../schema.js';
import { ledgerRow, type LedgerEventInput } from './ledger.js';

/** A spend counter after a report was added to it. */
export interface CounterTotal {
  scope: 'agent' | 'owner' | 'session';
  scope_id: string;
  period: 'day' | 'month' | 'session';
  period_start: string;
  currency: string;
  llm_tokens: string;
  cost: string;
}

export interface RecordedUsage {
  report: UsageReportRow;
  /** false when the idempotency key was already used: `report` is then the first one. */
  created: boolean;
  /** The counters this report moved, with their new totals (empty for a replay). */
  counters: CounterTotal[];
}

/**
 * Stores a usage report, its ledger event and the spend counters it moves in one statement,
 * or finds the report already stored under the same idempotency key. Counter increments are
 * atomic upserts, so concurrent reports add up exactly.
 */
export async function recordUsage(
  db: Kysely<Schema>,
  report: NewUsageReport,
  event: LedgerEventInput,
): Promise<RecordedUsage> {
  const created = await insertUsage(db, report, event);

  if (created !== undefined) {
    return { report: created.report, created: true, counters: created.counters };
  }

  const existing = await db
    .selectFrom('usage_reports')
    .selectAll()
    .where('resource_server_pk', '=', report.resource_server_pk)
    .where('idempotency_key', '=', report.idempotency_key)
    .executeTakeFirstOrThrow();

  return { report: existing, created: false, counters: [] };
}

async function insertUsage(
  db: Kysely<Schema>,
  report: NewUsageReport,
  event: LedgerEventInput,
): Promise<{ report: UsageReportRow; counters: CounterTotal[] } | undefined> {
  const insertReport = db
    .insertInto('usage_reports')
    .values(report)
    .onConflict((oc) => oc.columns(['resource_server_pk', 'idempotency_key']).doNothing())
    .returningAll();
  const row = ledgerRow(event);

  const result = await sql<{ report: UsageReportRow | null; counters: CounterTotal[] | null }>`
    WITH inserted AS (${insertReport}),
    event AS (
      INSERT INTO ledger_events
        (kind, agent_id, client_id, token_id, session_id, subject, actor, request_id, ip, data)
      SELECT ${row.kind}, agent_pk, ${row.client_id}, token_id, session_id, subject,
             ${row.actor}, ${row.request_id}, ${row.ip},
             ${row.data}::jsonb || jsonb_build_object('usage_id', id)
      FROM inserted
    ),
    scopes AS (
      SELECT 'agent' AS scope, agent_pk::text AS scope_id, p.period,
             date_trunc(p.period, occurred_at, 'UTC') AS period_start, inserted.*
      FROM inserted CROSS JOIN (VALUES ('day'), ('month')) AS p(period)
      UNION ALL
      SELECT 'owner', owner, p.period, date_trunc(p.period, occurred_at, 'UTC'), inserted.*
      FROM inserted CROSS JOIN (VALUES ('day'), ('month')) AS p(period)
      WHERE owner IS NOT NULL
      UNION ALL
      SELECT 'session', session_id::text, 'session', 'epoch'::timestamptz, inserted.*
      FROM inserted WHERE session_id IS NOT NULL
    ),
    counters AS (
      INSERT INTO spend_counters AS c
        (scope, scope_id, period, period_start, currency, llm_tokens, cost)
      SELECT scope, scope_id, period, period_start, coalesce(currency, ''),
             input_tokens + output_tokens, coalesce(cost, 0)
      FROM scopes
      ON CONFLICT (scope, scope_id, period, period_start, currency) DO UPDATE
        SET llm_tokens = c.llm_tokens + excluded.llm_tokens, cost = c.cost + excluded.cost
      RETURNING scope, scope_id, period, period_start::text, currency, llm_tokens::text, cost::text
    )
    SELECT (SELECT row_to_json(inserted) FROM inserted) AS report,
           (SELECT json_agg(counters) FROM counters) AS counters`.execute(db);

  const first = result.rows[0];

  if (first?.report === null || first?.report === undefined) {
    return undefined;
  }

  return { report: reviveUsageRow(first.report), counters: first.counters ?? [] };
}

/** row_to_json gives dates as strings and numbers as numbers; put them back in row shape. */
function reviveUsageRow(raw: UsageReportRow): UsageReportRow {
  const json = raw as unknown as Record<string, unknown>;

  return {
    ...raw,
    input_tokens: String(json.input_tokens),
    output_tokens: String(json.output_tokens),
    cost: typeof json.cost === 'number' || typeof json.cost === 'string' ? String(json.cost) : null,
    occurred_at: new Date(String(json.occurred_at)),
    received_at: new Date(String(json.received_at)),
  };
}

/** Current totals of one budget scope in its current day and month (and all sessions). */
export async function readSpendCounters(
  db: Kysely<Schema>,
  scope: 'agent' | 'owner' | 'session',
  scopeId: string,
  now: Date,
): Promise<{ period: string; currency: string; llm_tokens: string; cost: string }[]> {
  return db
    .selectFrom('spend_counters')
    .select(['period', 'currency', 'llm_tokens', 'cost'])
    .where('scope', '=', scope)
    .where('scope_id', '=', scopeId)
    .where((eb) =>
      eb.or([
        eb('period', '=', 'session'),
        eb.and([
          eb('period', '=', 'day'),
          eb('period_start', '=', sql<Date>`date_trunc('day', ${now}::timestamptz, 'UTC')`),
        ]),
        eb.and([
          eb('period', '=', 'month'),
          eb('period_start', '=', sql<Date>`date_trunc('month', ${now}::timestamptz, 'UTC')`),
        ]),
      ]),
    )
    .execute();
}

/** A token as a usage report needs it: who held it, for what, and when it was alive. */
export interface TokenForUsage {
  token_id: string;
  agent_pk: string;
  agent_kind: string;
  owner: string | null;
  audience: string | null;
  scope: string | null;
  issued_at: Date;
  expires_at: Date;
  revoked_at: Date | null;
  session_id: string | null;
  subject: string | null;
  session_ended_at: Date | null;
}

/** Finds a token in any state (expired and revoked included), until the sweeper removes it. */
export async function findTokenForUsage(
  db: Kysely<Schema>,
  tokenId: string,
): Promise<TokenForUsage | undefined> {
  return db
    .selectFrom('access_tokens as t')
    .innerJoin('clients as c', 'c.id', 't.client_pk')
    .leftJoin('sessions as s', 's.id', 't.session_id')
    .select([
      't.token_id',
      't.client_pk as agent_pk',
      'c.kind as agent_kind',
      'c.owner',
      't.audience',
      't.scope',
      't.issued_at',
      't.expires_at',
      't.revoked_at',
      't.session_id',
      's.subject',
      // When the session stopped carrying tokens: closed, past its deadline, or idle too long.
      sql<Date | null>`least(
        s.closed_at,
        s.deadline,
        s.last_activity_at + make_interval(secs => s.idle_timeout_seconds)
      )`.as('session_ended_at'),
    ])
    .where('t.token_id', '=', tokenId)
    .executeTakeFirst();
}

export async function findUsageByKey(
  db: Kysely<Schema>,
  resourceServerPk: string,
  idempotencyKey: string,
): Promise<UsageReportRow | undefined> {
  return db
    .selectFrom('usage_reports')
    .selectAll()
    .where('resource_server_pk', '=', resourceServerPk)
    .where('idempotency_key', '=', idempotencyKey)
    .executeTakeFirst();
}
