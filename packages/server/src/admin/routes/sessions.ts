import {
  closeSession,
  conflict,
  getSessionDetail,
  LedgerKind,
  listSessionViews,
  requireSession,
} from '@tollgate/core';
import type { Kysely, Schema } from '@tollgate/db';

import {
  auditOf,
  logChange,
  pathParam,
  respond,
  type AdminContext,
  type AdminRouter,
} from '../context.js';
import { sessionListQuery } from '../schemas.js';
import { checkNoQuery, instant, queryValidator } from '../validate.js';

type Handler = (ctx: AdminContext) => Promise<void>;

interface ListQuery {
  agent_id?: string;
  subject?: string;
  state?: 'open' | 'closed';
  from?: string;
  to?: string;
  cursor?: string;
  limit?: number;
}

const parseListQuery = queryValidator<ListQuery>(sessionListQuery);

const alreadyClosed = () => conflict('session already closed');

/** Task sessions: list and read them with their tokens and events; close one by hand. */
export function sessionRoutes(router: AdminRouter, db: Kysely<Schema>): void {
  router.get('/v1/sessions', list(db));
  router.get('/v1/sessions/:id', read(db));
  router.post('/v1/sessions/:id/close', close(db));
}

function list(db: Kysely<Schema>): Handler {
  return async (ctx) => {
    const query = parseListQuery(ctx.query);
    const page = await listSessionViews(db, {
      agentId: query.agent_id,
      subject: query.subject,
      state: query.state,
      from: instant(query.from, 'from'),
      to: instant(query.to, 'to'),
      cursor: query.cursor,
      limit: query.limit,
    });

    respond(ctx, 200, page);
  };
}

function read(db: Kysely<Schema>): Handler {
  return async (ctx) => {
    checkNoQuery(ctx.query);
    respond(ctx, 200, await getSessionDetail(db, pathParam(ctx, 'id')));
  };
}

/**
 * Closes a session that is still open. One that lapsed (deadline or idle limit) already shows
 * as closed and is left for the sweeper to record with its real reason.
 */
function close(db: Kysely<Schema>): Handler {
  return async (ctx) => {
    checkNoQuery(ctx.query);
    const session = await requireSession(db, pathParam(ctx, 'id'));

    if (!session.is_open) {
      throw alreadyClosed();
    }

    const closed = await closeSession(db, session.id, 'closed_by_admin', auditOf(ctx));

    // A concurrent close got there first.
    if (closed.length === 0) {
      throw alreadyClosed();
    }

    logChange(ctx, LedgerKind.sessionClosed, {
      sessionId: session.id,
      agentId: session.client_pk,
      sessionsClosed: String(closed.length),
    });
    respond(ctx, 200, await getSessionDetail(db, session.id));
  };
}
