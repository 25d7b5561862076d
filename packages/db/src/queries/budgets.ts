import { sql, type Kysely } from 'kysely';

import type { Budget, Schema } from '../schema.js';

export async function findOwnerBudget(
  db: Kysely<Schema>,
  owner: string,
): Promise<Budget | undefined> {
  const row = await db
    .selectFrom('owner_budgets')
    .select('budget')
    .where('owner', '=', owner)
    .executeTakeFirst();

  return row?.budget;
}

export async function upsertOwnerBudget(
  db: Kysely<Schema>,
  owner: string,
  budget: Budget,
): Promise<void> {
  const json = JSON.stringify(budget);

  await db
    .insertInto('owner_budgets')
    .values({ owner, budget: json })
    .onConflict((oc) =>
      oc.column('owner').doUpdateSet({ budget: json, updated_at: sql<Date>`now()` }),
    )
    .execute();
}

export async function listOwnerBudgets(db: Kysely<Schema>) {
  return db.selectFrom('owner_budgets').selectAll().orderBy('owner').execute();
}

/**
 * Marks a budget reached for a period; returns true only for the first caller, so that
 * concurrent reports crossing the limit together record it once.
 */
export async function markBudgetReached(
  db: Kysely<Schema>,
  key: { scope: string; scopeId: string; budget: string; periodStart: Date },
): Promise<boolean> {
  const row = await db
    .insertInto('budget_states')
    .values({
      scope: key.scope,
      scope_id: key.scopeId,
      budget: key.budget,
      period_start: key.periodStart,
    })
    .onConflict((oc) => oc.columns(['scope', 'scope_id', 'budget', 'period_start']).doNothing())
    .returning('budget')
    .executeTakeFirst();

  return row !== undefined;
}

/** Budgets reached in a period that has ended (or whose limit was raised), not yet reset. */
export async function findBudgetsToReset(db: Kysely<Schema>, now: Date) {
  return db
    .selectFrom('budget_states')
    .selectAll()
    .where('reset_at', 'is', null)
    .where((eb) =>
      eb.or([
        eb.and([
          eb('budget', 'like', 'daily_%'),
          eb('period_start', '<', sql<Date>`date_trunc('day', ${now}::timestamptz, 'UTC')`),
        ]),
        eb.and([
          eb('budget', 'like', 'monthly_%'),
          eb('period_start', '<', sql<Date>`date_trunc('month', ${now}::timestamptz, 'UTC')`),
        ]),
      ]),
    )
    .execute();
}

export async function markBudgetReset(
  db: Kysely<Schema>,
  key: { scope: string; scopeId: string; budget: string; periodStart: Date },
): Promise<boolean> {
  const result = await db
    .updateTable('budget_states')
    .set({ reset_at: sql<Date>`now()` })
    .where('scope', '=', key.scope)
    .where('scope_id', '=', key.scopeId)
    .where('budget', '=', key.budget)
    .where('period_start', '=', key.periodStart)
    .where('reset_at', 'is', null)
    .executeTakeFirst();

  return Number(result.numUpdatedRows) > 0;
}
