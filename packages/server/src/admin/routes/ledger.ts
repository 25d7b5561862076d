import { invalidInput, listLedger } from '@tollgate/core';
import type { Kysely, Schema } from '@tollgate/db';

import { respond, type AdminContext, type AdminRouter } from '../context.js';
import { ledgerListQuery } from '../schemas.js';
import { queryValidator } from '../validate.js';

interface LedgerQuery {
  agent_id?: string;
  kind?: string;
  from?: string;
  to?: string;
  cursor?: string;
  limit?: number;
}

const parseQuery = queryValidator<LedgerQuery>(ledgerListQuery);

/** The ledger, read-only: newest events first, filtered by agent, kind and time. */
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
}

/** The schema checks RFC 3339 syntax; this refuses what still does not name a real instant. */
function instant(value: string | undefined, path: string): Date | undefined {
  if (value === undefined) {
    return undefined;
  }

  const date = new Date(value);

  if (Number.isNaN(date.getTime())) {
    throw invalidInput('invalid time', [{ path, message: 'must be an RFC 3339 date-time' }]);
  }

  return date;
}
