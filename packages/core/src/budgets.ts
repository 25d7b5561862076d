import {
  findBudgetsToReset,
  findOwnerBudget,
  listOwnerBudgets,
  markBudgetReset,
  readSpendCounters,
  upsertOwnerBudget,
  type Budget,
  type Kysely,
  type Schema,
} from '@tollgate/db';

import { invalidInput } from './errors.js';
import { LedgerKind, recordEvent, type AuditContext } from './ledger.js';

export const BUDGET_LIMITS = [
  'daily_llm_tokens',
  'monthly_llm_tokens',
  'daily_cost',
  'monthly_cost',
  'session_llm_tokens',
  'session_cost',
] as const;

export type BudgetLimit = (typeof BUDGET_LIMITS)[number];
export type BudgetScope = 'agent' | 'owner' | 'session';

/** One limit measured against what was used in its current period. */
export interface BudgetUse {
  scope: BudgetScope;
  scopeId: string;
  limit: BudgetLimit;
  max: number;
  used: number;
  currency: string | null;
}

const PERIOD_OF: Record<BudgetLimit, 'day' | 'month' | 'session'> = {
  daily_llm_tokens: 'day',
  monthly_llm_tokens: 'month',
  daily_cost: 'day',
  monthly_cost: 'month',
  session_llm_tokens: 'session',
  session_cost: 'session',
};

export const periodOf = (limit: BudgetLimit) => PERIOD_OF[limit];
export const isCostLimit = (limit: BudgetLimit) => limit.endsWith('_cost');

/** Checks a budget object from the management API. */
export function validateBudget(budget: Budget, path = 'budget'): Budget {
  const problems: { path: string; message: string }[] = [];

  for (const limit of BUDGET_LIMITS) {
    const value = budget[limit];

    if (
      value !== undefined &&
      (typeof value !== 'number' || !(value >= 0) || !Number.isFinite(value))
    ) {
      problems.push({ path: `${path}/${limit}`, message: 'must be a number of at least 0' });
    }
  }

  const hasCost = BUDGET_LIMITS.some((limit) => isCostLimit(limit) && budget[limit] !== undefined);

  if (budget.currency !== undefined && !/^[A-Z]{3}$/.test(budget.currency)) {
    problems.push({ path: `${path}/currency`, message: 'must be an ISO 4217 code such as USD' });
  } else if (hasCost && budget.currency === undefined) {
    problems.push({ path: `${path}/currency`, message: 'is required with a cost limit' });
  }

  if (problems.length > 0) {
    throw invalidInput('invalid budget', problems);
  }

  return budget;
}

/** Measures every limit of a budget that applies to one scope against its counters. */
export async function measureBudget(
  db: Kysely<Schema>,
  scope: BudgetScope,
  scopeId: string,
  budget: Budget,
  now: Date,
): Promise<BudgetUse[]> {
  const limits = BUDGET_LIMITS.filter(
    (limit) =>
      budget[limit] !== undefined && (scope === 'session') === (periodOf(limit) === 'session'),
  );

  if (limits.length === 0) {
    return [];
  }

  const counters = await readSpendCounters(db, scope, scopeId, now);

  return limits.map((limit) => {
    const inPeriod = counters.filter((counter) => counter.period === periodOf(limit));
    const used = isCostLimit(limit)
      ? inPeriod
          .filter((counter) => counter.currency === budget.currency)
          .reduce((sum, counter) => sum + Number(counter.cost), 0)
      : inPeriod.reduce((sum, counter) => sum + Number(counter.llm_tokens), 0);

    return {
      scope,
      scopeId,
      limit,
      max: budget[limit] ?? 0,
      used,
      currency: isCostLimit(limit) ? (budget.currency ?? null) : null,
    };
  });
}

export const isExhausted = (use: BudgetUse) => use.used >= use.max;

export interface BudgetHolder {
  id: string;
  owner: string | null;
  budget: Budget;
  /** The owner's budget when the caller already loaded it (undefined: look it up). */
  owner_budget?: Budget | null;
}

/**
 * The first exhausted budget that stops a new token: the agent's day/month limits, its owner's,
 * and (for a renewal) the session's. Undefined when every limit still has room.
 */
export async function exhaustedBudget(
  db: Kysely<Schema>,
  agent: BudgetHolder,
  sessionId: string | undefined,
  now = new Date(),
): Promise<BudgetUse | undefined> {
  const ownerBudget =
    agent.owner === null
      ? undefined
      : agent.owner_budget !== undefined
        ? (agent.owner_budget ?? undefined)
        : await findOwnerBudget(db, agent.owner);
  const uses = [
    ...(await measureBudget(db, 'agent', agent.id, agent.budget, now)),
    ...(ownerBudget === undefined || agent.owner === null
      ? []
      : await measureBudget(db, 'owner', agent.owner, ownerBudget, now)),
    ...(sessionId === undefined
      ? []
      : await measureBudget(db, 'session', sessionId, agent.budget, now)),
  ];

  return uses.find(isExhausted);
}

/** A one-line explanation naming the budget, for error descriptions and logs. */
export function describeBudget(use: BudgetUse): string {
  const unit = use.currency === null ? 'LLM tokens' : use.currency;

  return `${use.scope} budget ${use.limit} reached: ${use.used} of ${use.max} ${unit} used`;
}

/**
 * Records `budget.reset` for day and month budgets that were reached in a period that has now
 * ended: the agent (or owner) may get tokens again. Returns how many were reset.
 */
export async function resetElapsedBudgets(
  db: Kysely<Schema>,
  audit: AuditContext,
  now = new Date(),
): Promise<number> {
  let count = 0;

  for (const state of await findBudgetsToReset(db, now)) {
    const key = {
      scope: state.scope,
      scopeId: state.scope_id,
      budget: state.budget,
      periodStart: state.period_start,
    };

    if (await markBudgetReset(db, key)) {
      count += 1;
      await recordEvent(db, audit, {
        kind: LedgerKind.budgetReset,
        agentId: state.scope === 'agent' ? state.scope_id : null,
        data: {
          scope: state.scope,
          scope_id: state.scope_id,
          limit: state.budget,
          period_start: state.period_start.toISOString(),
        },
      });
    }
  }

  return count;
}

/** Sets (or replaces) the budget shared by every agent of one owner. */
export async function setOwnerBudget(
  db: Kysely<Schema>,
  owner: string,
  budget: Budget,
  audit: AuditContext,
): Promise<{ owner: string; budget: Budget }> {
  const checked = validateBudget(budget);

  await db.transaction().execute(async (trx) => {
    await upsertOwnerBudget(trx, owner, checked);
    await recordEvent(trx, audit, {
      kind: LedgerKind.ownerBudgetSet,
      data: { owner, budget: checked },
    });
  });

  return { owner, budget: checked };
}

export async function listOwnerBudgetViews(db: Kysely<Schema>) {
  return (await listOwnerBudgets(db)).map((row) => ({
    owner: row.owner,
    budget: row.budget,
    updated_at: row.updated_at.toISOString(),
  }));
}
