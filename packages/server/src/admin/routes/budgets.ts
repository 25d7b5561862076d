import { invalidInput, LedgerKind, listOwnerBudgetViews, setOwnerBudget } from '@tollgate/core';
import type { Budget, Kysely, Schema } from '@tollgate/db';

import { readJsonBody } from '../../http/body.js';
import {
  auditOf,
  logChange,
  pathParam,
  respond,
  type AdminContext,
  type AdminRouter,
} from '../context.js';
import { budget } from '../schemas.js';
import { bodyValidator, checkNoQuery } from '../validate.js';

type Handler = (ctx: AdminContext) => Promise<void>;

const parseBudget = bodyValidator<Budget>(budget);

/** Owners are named as on agents, where they are at most this long. */
const MAX_OWNER = 200;

/** Owner budgets: one shared limit for every agent of a team or person. */
export function budgetRoutes(router: AdminRouter, db: Kysely<Schema>): void {
  router.put('/v1/owners/:owner/budget', put(db));
  router.get('/v1/owner-budgets', list(db));
}

function put(db: Kysely<Schema>): Handler {
  return async (ctx) => {
    checkNoQuery(ctx.query);
    const owner = ownerParam(ctx);
    const input = parseBudget(await readJsonBody(ctx));
    const result = await setOwnerBudget(db, owner, input, auditOf(ctx));

    logChange(ctx, LedgerKind.ownerBudgetSet, { owner });
    respond(ctx, 200, result);
  };
}

function list(db: Kysely<Schema>): Handler {
  return async (ctx) => {
    checkNoQuery(ctx.query);
    respond(ctx, 200, { items: await listOwnerBudgetViews(db), next_cursor: null });
  };
}

function ownerParam(ctx: AdminContext): string {
  const owner = pathParam(ctx, 'owner');

  if (owner.trim() === '' || owner.length > MAX_OWNER) {
    throw invalidInput('invalid owner', [
      { path: 'owner', message: `must be 1 to ${MAX_OWNER} characters` },
    ]);
  }

  return owner;
}
