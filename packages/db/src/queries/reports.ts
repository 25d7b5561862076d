import { sql, type Kysely, type RawBuilder } from 'kysely';

import type { Schema } from '../schema.js';

/** Ways to group spend; each maps to the columns it contributes to a report row. */
export const SPEND_DIMENSIONS = [
  'agent',
  'owner',
  'person',
  'tool',
  'session',
  'resource_server',
  'day',
  'model',
] as const;

export type SpendDimension = (typeof SPEND_DIMENSIONS)[number];

const DIMENSION_COLUMNS: Record<SpendDimension, [string, RawBuilder<unknown>][]> = {
  agent: [
    ['agent_id', sql`u.agent_pk::text`],
    ['agent_name', sql`a.name`],
  ],
  owner: [['owner', sql`u.owner`]],
  person: [['person', sql`u.subject`]],
  tool: [['tool', sql`u.tool`]],
  session: [['session_id', sql`u.session_id::text`]],
  resource_server: [
    ['resource_server_id', sql`u.resource_server_pk::text`],
    ['resource_server_name', sql`r.name`],
  ],
  day: [['day', sql`to_char(date_trunc('day', u.occurred_at, 'UTC'), 'YYYY-MM-DD')`]],
  model: [['model', sql`u.model`]],
};

export interface SpendQuery {
  groupBy: SpendDimension[];
  from: Date;
  to: Date;
  agentId?: string | undefined;
  sessionId?: string | undefined;
}

export type SpendRow = Record<string, string | null> & {
  currency: string | null;
  reports: string;
  calls: string;
  input_tokens: string;
  output_tokens: string;
  llm_tokens: string;
  cost: string | null;
};

/**
 * Sums usage in [from, to) grouped by the chosen dimensions and always by currency, since costs
 * in different currencies do not add up.
 */
export async function spendReport(db: Kysely<Schema>, query: SpendQuery): Promise<SpendRow[]> {
  const columns = query.groupBy.flatMap((dimension) => DIMENSION_COLUMNS[dimension]);
  const groupColumns = [
    ...columns.map(([name, expression]) => sql`${expression} AS ${sql.ref(name)}`),
    sql`u.currency AS currency`,
  ];
  const groupKeys = [...columns.map(([, expression]) => expression), sql`u.currency`];
  const filters = [
    sql`u.occurred_at >= ${query.from}`,
    sql`u.occurred_at < ${query.to}`,
    ...(query.agentId === undefined ? [] : [sql`u.agent_pk = ${query.agentId}`]),
    ...(query.sessionId === undefined ? [] : [sql`u.session_id = ${query.sessionId}`]),
  ];

  const result = await sql<SpendRow>`
    SELECT ${sql.join(groupColumns)},
           count(*)::text AS reports,
           sum(u.calls)::text AS calls,
           sum(u.input_tokens)::text AS input_tokens,
           sum(u.output_tokens)::text AS output_tokens,
           sum(u.input_tokens + u.output_tokens)::text AS llm_tokens,
           sum(u.cost)::text AS cost
    FROM usage_reports u
    JOIN clients a ON a.id = u.agent_pk
    JOIN clients r ON r.id = u.resource_server_pk
    WHERE ${sql.join(filters, sql` AND `)}
    GROUP BY ${sql.join(groupKeys)}
    ORDER BY ${sql.join(groupKeys)}`.execute(db);

  return result.rows;
}

export interface GovernanceTotals {
  reports: string;
  llm_tokens: string;
  identity_reports: string;
  identity_tokens: string;
  scoped_reports: string;
  scoped_tokens: string;
  closed_reports: string;
  closed_tokens: string;
  covered_reports: string;
  covered_tokens: string;
}

/**
 * Counts usage in [from, to) by the three governance criteria: tied to an accountable agent
 * identity (an agent with an owner), to an explicit tool-scoped permission set (a session whose
 * tools include the reported tool), and to a session that has closed.
 */
export async function governanceTotals(
  db: Kysely<Schema>,
  from: Date,
  to: Date,
): Promise<GovernanceTotals> {
  const identity = sql`(a.kind = 'agent' AND coalesce(a.owner, '') <> '')`;
  const scoped = sql`(s.id IS NOT NULL AND u.tool = ANY (s.tools))`;
  const closed = sql`(s.closed_at IS NOT NULL)`;
  const tokens = sql`u.input_tokens + u.output_tokens`;
  const result = await sql<GovernanceTotals>`
    SELECT count(*)::text AS reports,
           coalesce(sum(${tokens}), 0)::text AS llm_tokens,
           count(*) FILTER (WHERE ${identity})::text AS identity_reports,
           coalesce(sum(${tokens}) FILTER (WHERE ${identity}), 0)::text AS identity_tokens,
           count(*) FILTER (WHERE ${scoped})::text AS scoped_reports,
           coalesce(sum(${tokens}) FILTER (WHERE ${scoped}), 0)::text AS scoped_tokens,
           count(*) FILTER (WHERE ${closed})::text AS closed_reports,
           coalesce(sum(${tokens}) FILTER (WHERE ${closed}), 0)::text AS closed_tokens,
           count(*) FILTER (WHERE ${identity} AND ${scoped} AND ${closed})::text AS covered_reports,
           coalesce(sum(${tokens}) FILTER (WHERE ${identity} AND ${scoped} AND ${closed}), 0)::text
             AS covered_tokens
    FROM usage_reports u
    JOIN clients a ON a.id = u.agent_pk
    LEFT JOIN sessions s ON s.id = u.session_id
    WHERE u.occurred_at >= ${from} AND u.occurred_at < ${to}`.execute(db);

  return result.rows[0] as GovernanceTotals;
}

/** Sessions still marked open although their deadline has passed. */
export async function lapsedOpenSessions(db: Kysely<Schema>, limit: number) {
  return db
    .selectFrom('sessions as s')
    .innerJoin('clients as a', 'a.id', 's.client_pk')
    .select([
      's.id',
      's.client_pk as agent_id',
      'a.name as agent_name',
      's.deadline',
      's.opened_at',
    ])
    .where('s.closed_at', 'is', null)
    .where('s.deadline', '<', sql<Date>`now()`)
    .orderBy('s.deadline')
    .limit(limit)
    .execute();
}

/** Tokens issued in [from, to) that carry no tools. */
export async function toollessTokens(db: Kysely<Schema>, from: Date, to: Date, limit: number) {
  return db
    .selectFrom('access_tokens as t')
    .innerJoin('clients as a', 'a.id', 't.client_pk')
    .select(['t.token_id', 't.client_pk as agent_id', 'a.name as agent_name', 't.issued_at'])
    .where('a.kind', '=', 'agent')
    .where((eb) => eb.or([eb('t.scope', 'is', null), eb('t.scope', '=', '')]))
    .where('t.issued_at', '>=', from)
    .where('t.issued_at', '<', to)
    .limit(limit)
    .execute();
}

/** Active secret-authenticated agents with their secret history, for rotation hygiene. */
export async function agentSecretAges(db: Kysely<Schema>) {
  return db
    .selectFrom('clients as a')
    .leftJoin('client_secrets as s', 's.client_pk', 'a.id')
    .select([
      'a.id as agent_id',
      'a.name as agent_name',
      'a.owner',
      sql<string>`count(s.id)::text`.as('secrets_ever'),
      sql<Date | null>`max(s.created_at) FILTER (WHERE s.revoked_at IS NULL)`.as(
        'newest_live_secret_at',
      ),
    ])
    .where('a.kind', '=', 'agent')
    .where('a.status', '=', 'active')
    .where('a.auth_method', '<>', 'private_key_jwt')
    .groupBy(['a.id', 'a.name', 'a.owner'])
    .execute();
}

/** Active agents nobody is accountable for. */
export async function ownerlessAgents(db: Kysely<Schema>) {
  return db
    .selectFrom('clients')
    .select(['id as agent_id', 'name as agent_name'])
    .where('kind', '=', 'agent')
    .where('status', '=', 'active')
    .where((eb) => eb.or([eb('owner', 'is', null), eb('owner', '=', '')]))
    .execute();
}
