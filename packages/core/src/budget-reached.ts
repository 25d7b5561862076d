import {
  findAgentIdsByOwner,
  findOwnerBudget,
  markBudgetReached,
  readSpendCounters,
  type Budget,
  type CounterTotal,
  type Kysely,
  type Schema,
  type TokenForUsage,
} from '@tollgate/db';

import { isCostLimit, periodOf, BUDGET_LIMITS, type BudgetLimit } from './budgets.js';
import { LedgerKind, recordEvent, type AuditContext } from './ledger.js';
import { closeSession, closeSessionsOfAgent } from './sessions.js';

/**
 * A report reaches a budget when it moves a counter from below a limit to at or above it. The
 * counters come back from the same atomic upsert, so only one of several racing reports sees
 * the crossing; markBudgetReached makes that certain.
 */
export async function recordReachedBudgets(
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
