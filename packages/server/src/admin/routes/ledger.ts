import { listLedger, sealLedger, verifyLedger } from '@tollgate/core';
import type { Kysely, Schema } from '@tollgate/db';

import { respond, type AdminContext, type AdminRouter } from '../context.js';
import { ledgerListQuery } from '../schemas.js';
import { checkNoQuery, instant, queryValidator } from '../validate.js';

interface LedgerQuery {
  agent_id?: string;
  kind?: string;
  from?: string;
  to?: string;
  cursor?: string;
  limit?: number;
}

const parseQuery = queryValidator<LedgerQuery>(ledgerListQuery);

/**
 * The ledger, read-only: newest events first, filtered by agent, kind and time; verification
 * of its hash chain; and sealing on demand (the server also seals every few seconds).
 */
export function ledgerRoutes(router: AdminRouter, db: Kysely<Schema>): void {
  router.get('/v1/ledger', async (ctx: AdminContext) => {
    const query = parseQuery(ctx.query);
    const page = await listLedger(db, {
      agentId: query.agent_id,
      kinds: query.kind?.split(','),
      from: instant(query.from, 'from'),
      to: instant(query.to, 'to'),
      cursor: query.cursor,
      limit: query.limit,
    });

    respond(ctx, 200, page);
  });

  router.get('/v1/ledger/verify', async (ctx: AdminContext) => {
    checkNoQuery(ctx.query);
    respond(ctx, 200, await verifyLedger(db));
  });

  router.post('/v1/ledger/seal', async (ctx: AdminContext) => {
    checkNoQuery(ctx.query);
    respond(ctx, 200, { sealed: await sealLedger(db) });
  });
}
