import { createHash } from 'node:crypto';

import {
  findAgentIdsByOwner,
  findOwnerBudget,
  findTokenForUsage,
  findUsageByKey,
  markBudgetReached,
  readSpendCounters,
  recordUsage,
  type Budget,
  type CounterTotal,
  type Kysely,
  type Schema,
  type TokenForUsage,
  type UsageReportRow,
} from '@tollgate/db';

import { isCostLimit, periodOf, BUDGET_LIMITS, type BudgetLimit } from './budgets.js';
import { AppError, conflict, invalidInput, notFound } from './errors.js';
import { newRowId, tokenIdOf } from './ids.js';
import { LedgerKind, recordEvent, type AuditContext } from './ledger.js';
import { closeSession, closeSessionsOfAgent } from './sessions.js';
import { readUsageInput, type UsageInput } from './usage-input.js';

/** The resource server reporting, as authenticated by the HTTP edge. */
export interface ReportingServer {
  id: string;
  clientId: string;
  audience: string;
}

/** A usage report as resource servers and the management API see it. */
export interface UsageView {
  id: string;
  token_id: string;
  agent_id: string;
  session_id: string | null;
  subject: string | null;
  tool: string;
  model: string | null;
  input_tokens: number;
  output_tokens: number;
  calls: number;
  cost: string | null;
  currency: string | null;
  occurred_at: string;
  received_at: string;
}

export function usageView(row: UsageReportRow): UsageView {
  return {
    id: row.id,
    token_id: row.token_id,
    agent_id: row.agent_pk,
    session_id: row.session_id,
    subject: row.subject,
    tool: row.tool,
    model: row.model,
    input_tokens: Number(row.input_tokens),
    output_tokens: Number(row.output_tokens),
    calls: row.calls,
    cost: row.cost === null ? null : sixPlaces(row.cost),
    currency: row.currency,
    occurred_at: row.occurred_at.toISOString(),
    received_at: row.received_at.toISOString(),
  };
}

/** Costs are numeric(20, 6): shown with all six places, whichever way the driver read them. */
function sixPlaces(decimal: string): string {
  const [whole = '0', fraction = ''] = decimal.split('.');

  return `${whole}.${fraction.padEnd(6, '0')}`;
}

/** Late reports are normal, clocks are not perfect: how far outside a token's life we accept. */
const CLOCK_SKEW_MS = 60_000;

export interface IngestResult {
  /** false when the idempotency key was seen before: the first result is returned again. */
  created: boolean;
  usage: UsageView;
}

/**
 * Accepts one usage report from a resource server: resolves the token to agent, person, session
 * and tools; refuses tokens not meant for this server, tools outside the token's scope and usage
 * outside the token's life; stores report, ledger event and spend counters together; then
 * records any budget the report used up.
 */
export async function ingestUsage(
  db: Kysely<Schema>,
  server: ReportingServer,
  body: unknown,
  audit: AuditContext,
  now = new Date(),
): Promise<IngestResult> {
  const input = readUsageInput(body, now);
  const tokenId = input.tokenId ?? tokenIdOf(input.token ?? '');
  const earlier = await findUsageByKey(db, server.id, input.idempotencyKey);

  // A retry is answered from what was stored, even once the token has expired or been swept.
  if (earlier !== undefined) {
    if (earlier.request_hash !== requestHash(tokenId, input)) {
      throw conflict('idempotency_key was already used for a different report');
    }

    return { created: false, usage: usageView(earlier) };
  }

  const token = await findTokenForUsage(db, tokenId);

  assertReportable(token, server, input);

  const recorded = await recordUsage(db, usageRow(server, token, input, tokenId), {
    kind: LedgerKind.usageReported,
    clientId: server.clientId,
    actor: server.clientId,
    requestId: audit.requestId,
    ip: audit.ip,
    data: usageEventData(input),
  });

  if (!recorded.created && recorded.report.request_hash !== requestHash(tokenId, input)) {
    throw conflict('idempotency_key was already used for a different report');
  }

  if (recorded.created) {
    await recordReachedBudgets(db, token, recorded.counters, audit);
  }

  return { created: recorded.created, usage: usageView(recorded.report) };
}

function assertReportable(
  token: TokenForUsage | undefined,
  server: ReportingServer,
  input: UsageInput,
): asserts token is TokenForUsage {
  if (token === undefined || token.agent_kind !== 'agent') {
    throw notFound('token');
  }

  if (token.audience !== server.audience) {
    throw new AppError('forbidden', 403, 'the token was not issued for this resource server');
  }

  const tools = token.scope === null ? [] : token.scope.split(' ');

  if (!tools.includes(input.tool)) {
    throw new AppError('forbidden', 403, `tool ${input.tool} is outside the token's scope`);
  }

  const endedAt = Math.min(
    token.expires_at.getTime(),
    token.revoked_at?.getTime() ?? Infinity,
    token.session_closed_at?.getTime() ?? Infinity,
  );
  const occurred = input.occurredAt.getTime();

  if (occurred < token.issued_at.getTime() - CLOCK_SKEW_MS || occurred > endedAt + CLOCK_SKEW_MS) {
    throw invalidInput('the token was not active when the usage occurred', [
      { path: 'occurred_at', message: 'outside the life of the token' },
    ]);
  }
}

function usageRow(
  server: ReportingServer,
  token: TokenForUsage,
  input: UsageInput,
  tokenId: string,
) {
  return {
    id: newRowId(),
    resource_server_pk: server.id,
    idempotency_key: input.idempotencyKey,
    request_hash: requestHash(tokenId, input),
    token_id: tokenId,
    agent_pk: token.agent_pk,
    owner: token.owner,
    session_id: token.session_id,
    subject: token.subject,
    tool: input.tool,
    model: input.model,
    input_tokens: input.inputTokens,
    output_tokens: input.outputTokens,
    calls: input.calls,
    cost: input.cost,
    currency: input.currency,
    occurred_at: input.occurredAt,
  };
}

function usageEventData(input: UsageInput): Record<string, unknown> {
  return {
    tool: input.tool,
    model: input.model,
    input_tokens: input.inputTokens,
    output_tokens: input.outputTokens,
    calls: input.calls,
    cost: input.cost,
    currency: input.currency,
    occurred_at: input.occurredAt.toISOString(),
    idempotency_key: input.idempotencyKey,
  };
}

/** Identifies a report's content, so that a replay can be told from a clash of keys. */
function requestHash(tokenId: string, input: UsageInput): string {
  const content = [
    tokenId,
    input.tool,
    input.model,
    input.inputTokens,
    input.outputTokens,
    input.calls,
    input.cost,
    input.currency,
    // An undated report is dated on arrival; its replay arrives later and must still match.
    input.occurredAtGiven ? input.occurredAt.toISOString() : null,
  ];

  return createHash('sha256').update(JSON.stringify(content)).digest('base64url');
}

/**
 * A report reaches a budget when it moves a counter from below a limit to at or above it. The
 * counters come back from the same atomic upsert, so only one of several racing reports sees
 * the crossing; markBudgetReached makes that certain.
 */
async function recordReachedBudgets(
  db: Kysely<Schema>,
  token: TokenForUsage,
  counters: CounterTotal[],
  audit: AuditContext,
): Promise<void> {
  const agentBudget = await agentBudgetOf(db, token.agent_pk);
  const ownerBudget = token.owner === null ? undefined : await findOwnerBudget(db, token.owner);

  for (const counter of counters) {
    const budget = counter.scope === 'owner' ? ownerBudget : agentBudget;

    for (const limit of await crossedLimits(db, counter, budget)) {
      await onBudgetReached(db, token, counter, limit, budget ?? {}, audit);
    }
  }
}

async function agentBudgetOf(db: Kysely<Schema>, agentPk: string): Promise<Budget> {
  const row = await db
    .selectFrom('clients')
    .select('budget')
    .where('id', '=', agentPk)
    .executeTakeFirst();

  return row?.budget ?? {};
}

/** Limits of this counter's scope and period that the newest report pushed to or past. */
async function crossedLimits(
  db: Kysely<Schema>,
  counter: CounterTotal,
  budget: Budget | undefined,
): Promise<BudgetLimit[]> {
  const limits = BUDGET_LIMITS.filter(
    (limit) =>
      budget?.[limit] !== undefined &&
      periodOf(limit) === counter.period &&
      (!isCostLimit(limit) || counter.currency === budget.currency),
  );
  const crossed: BudgetLimit[] = [];

  for (const limit of limits) {
    const total = isCostLimit(limit) ? Number(counter.cost) : await tokensInPeriod(db, counter);

    if (total >= (budget?.[limit] ?? Infinity)) {
      crossed.push(limit);
    }
  }

  return crossed;
}

/**
 * LLM tokens count whatever the currency: add up this scope's counters of every currency in
 * the period, not only the one this report moved.
 */
async function tokensInPeriod(db: Kysely<Schema>, counter: CounterTotal): Promise<number> {
  const periodStart = new Date(counter.period_start);
  const rows = await readSpendCounters(db, counter.scope, counter.scope_id, periodStart);

  return rows
    .filter((row) => row.period === counter.period)
    .reduce((sum, row) => sum + Number(row.llm_tokens), 0);
}

async function onBudgetReached(
  db: Kysely<Schema>,
  token: TokenForUsage,
  counter: CounterTotal,
  limit: BudgetLimit,
  budget: Budget,
  audit: AuditContext,
): Promise<void> {
  const scope = counter.scope;
  const isFirst = await markBudgetReached(db, {
    scope,
    scopeId: counter.scope_id,
    budget: limit,
    periodStart: new Date(counter.period_start),
  });

  if (!isFirst) {
    return;
  }

  await recordEvent(db, audit, {
    kind: LedgerKind.budgetReached,
    agentId: token.agent_pk,
    sessionId: token.session_id,
    data: {
      scope,
      scope_id: counter.scope_id,
      limit,
      max: budget[limit] ?? null,
      period_start: counter.period_start,
    },
  });

  if (budget.close_sessions === true) {
    if (scope === 'session' && token.session_id !== null) {
      await closeSession(db, token.session_id, 'budget_reached', audit);
    } else if (scope === 'agent') {
      await closeSessionsOfAgent(db, token.agent_pk, audit, 'budget_reached');
    } else if (token.owner !== null) {
      for (const agentId of await findAgentIdsByOwner(db, token.owner)) {
        await closeSessionsOfAgent(db, agentId, audit, 'budget_reached');
      }
    }
  }
}
