import {
  agentSecretAges,
  governanceTotals,
  lapsedOpenSessions,
  ownerlessAgents,
  SPEND_DIMENSIONS,
  spendReport,
  toollessTokens,
  type Kysely,
  type Schema,
  type SpendDimension,
  type SpendRow,
} from '@tollgate/db';

import { invalidInput } from './errors.js';
import { requireSession, sessionView, type SessionView } from './sessions.js';

const DAY_MS = 86_400_000;
const DEFAULT_RANGE_DAYS = 30;

/** A report period: [from, to), the last 30 days unless given. */
export interface Period {
  from: Date;
  to: Date;
}

export function reportPeriod(
  from: string | undefined,
  to: string | undefined,
  now = new Date(),
): Period {
  const end = to === undefined ? now : parseInstant(to, 'to');
  const start =
    from === undefined
      ? new Date(end.getTime() - DEFAULT_RANGE_DAYS * DAY_MS)
      : parseInstant(from, 'from');

  if (start.getTime() >= end.getTime()) {
    throw invalidInput('invalid period', [{ path: 'from', message: 'must be before to' }]);
  }

  return { from: start, to: end };
}

function parseInstant(value: string, path: string): Date {
  const date = new Date(value);

  if (Number.isNaN(date.getTime())) {
    throw invalidInput('invalid period', [
      { path, message: 'must be an RFC 3339 date-time or date' },
    ]);
  }

  return date;
}

export function parseGroupBy(value: string | undefined): SpendDimension[] {
  const names = (value ?? 'agent')
    .split(',')
    .map((name) => name.trim())
    .filter((name) => name !== '');
  const unknown = names.filter((name) => !(SPEND_DIMENSIONS as readonly string[]).includes(name));

  if (unknown.length > 0 || names.length === 0) {
    throw invalidInput('invalid group_by', [
      { path: 'group_by', message: `use a comma-separated list of ${SPEND_DIMENSIONS.join(', ')}` },
    ]);
  }

  return [...new Set(names)] as SpendDimension[];
}

/** One row of a spend report: the group's keys, then its totals as numbers. */
export type SpendLine = Record<string, string | number | null>;

export interface SpendReport {
  from: string;
  to: string;
  group_by: SpendDimension[];
  rows: SpendLine[];
}

const TOTAL_COLUMNS = ['reports', 'calls', 'input_tokens', 'output_tokens', 'llm_tokens'] as const;

export async function buildSpendReport(
  db: Kysely<Schema>,
  query: { groupBy: SpendDimension[]; period: Period; agentId?: string; sessionId?: string },
): Promise<SpendReport> {
  const rows = await spendReport(db, {
    groupBy: query.groupBy,
    ...query.period,
    agentId: query.agentId,
    sessionId: query.sessionId,
  });

  return {
    from: query.period.from.toISOString(),
    to: query.period.to.toISOString(),
    group_by: query.groupBy,
    rows: rows.map(spendLine),
  };
}

function spendLine(row: SpendRow): SpendLine {
  const line: SpendLine = { ...row };

  for (const column of TOTAL_COLUMNS) {
    line[column] = Number(row[column]);
  }

  // Costs stay decimal strings: finance sums them in exact arithmetic, not floating point.
  line.cost = row.cost;

  return line;
}

/** RFC 4180 CSV of a spend report: a header, then one line per row. */
export function spendReportCsv(report: SpendReport): string {
  const first = report.rows[0];
  const columns = first === undefined ? ['currency', ...TOTAL_COLUMNS, 'cost'] : Object.keys(first);
  const lines = [
    columns,
    ...report.rows.map((row) => columns.map((column) => row[column] ?? null)),
  ];

  return `${lines.map((cells) => cells.map(csvCell).join(',')).join('\r\n')}\r\n`;
}

function csvCell(value: string | number | null): string {
  const text = value === null ? '' : String(value);

  // A leading =, +, - or @ (or a tab or carriage return, which some spreadsheets skip before
  // reading one of those) would make the cell a formula: keep it text.
  const safe = /^[=+\-@\t\r]/.test(text) && typeof value === 'string' ? `'${text}` : text;

  return /[",\r\n]/.test(safe) ? `"${safe.replaceAll('"', '""')}"` : safe;
}

export interface SessionStatement {
  session: SessionView;
  totals: SpendLine[];
  by_tool: SpendLine[];
}

/** A session's statement: who, what for, when, and what it spent per tool and in total. */
export async function sessionStatement(db: Kysely<Schema>, id: string): Promise<SessionStatement> {
  const session = await requireSession(db, id);
  const period = { from: new Date(0), to: new Date(Date.now() + DAY_MS) };
  const totals = await buildSpendReport(db, { groupBy: [], period, sessionId: session.id });
  const byTool = await buildSpendReport(db, { groupBy: ['tool'], period, sessionId: session.id });

  return { session: sessionView(session), totals: totals.rows, by_tool: byTool.rows };
}

export interface GovernanceReport {
  from: string;
  to: string;
  /** Share of LLM tokens (or of reports, when none carry tokens) meeting all three criteria. */
  coverage: number;
  weighted_by: 'llm_tokens' | 'reports';
  criteria: { agent_identity: number; tool_scoped: number; session_closed: number };
  totals: { reports: number; llm_tokens: number };
  offenders: {
    open_sessions_past_deadline: Record<string, unknown>[];
    tokens_without_tools: Record<string, unknown>[];
    stale_secrets: Record<string, unknown>[];
    never_rotated_secrets: Record<string, unknown>[];
    ownerless_agents: Record<string, unknown>[];
  };
}

const OFFENDER_LIMIT = 100;

/** The number an IAM team watches, with the cases that pull it down. */
export async function governanceReport(
  db: Kysely<Schema>,
  period: Period,
  rotationDays = 90,
): Promise<GovernanceReport> {
  const totals = await governanceTotals(db, period.from, period.to);
  const byTokens = Number(totals.llm_tokens) > 0;
  const share = (part: string, reports: string) =>
    byTokens
      ? ratio(Number(part), Number(totals.llm_tokens))
      : ratio(Number(reports), Number(totals.reports));
  const secrets = await agentSecretAges(db);
  const staleBefore = Date.now() - rotationDays * DAY_MS;

  return {
    from: period.from.toISOString(),
    to: period.to.toISOString(),
    coverage: share(totals.covered_tokens, totals.covered_reports),
    weighted_by: byTokens ? 'llm_tokens' : 'reports',
    criteria: {
      agent_identity: share(totals.identity_tokens, totals.identity_reports),
      tool_scoped: share(totals.scoped_tokens, totals.scoped_reports),
      session_closed: share(totals.closed_tokens, totals.closed_reports),
    },
    totals: { reports: Number(totals.reports), llm_tokens: Number(totals.llm_tokens) },
    offenders: {
      open_sessions_past_deadline: await lapsedOpenSessions(db, OFFENDER_LIMIT),
      tokens_without_tools: await toollessTokens(db, period.from, period.to, OFFENDER_LIMIT),
      stale_secrets: secrets.filter(
        (agent) =>
          agent.newest_live_secret_at !== null &&
          agent.newest_live_secret_at.getTime() < staleBefore,
      ),
      never_rotated_secrets: secrets.filter(
        (agent) =>
          Number(agent.secrets_ever) === 1 &&
          agent.newest_live_secret_at !== null &&
          agent.newest_live_secret_at.getTime() < staleBefore,
      ),
      ownerless_agents: await ownerlessAgents(db),
    },
  };
}

/** A share between 0 and 1; an empty period is fully covered (nothing escaped governance). */
function ratio(part: number, whole: number): number {
  return whole === 0 ? 1 : Math.round((part / whole) * 10_000) / 10_000;
}
