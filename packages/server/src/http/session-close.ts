import type { Middleware, ParameterizedContext } from 'koa';

import { AppError, closeSession, tokenIdOf } from '@tollgate/core';
import { findLiveSessionToken, type Kysely, type Schema } from '@tollgate/db';

import { renderError } from './problem.js';
import type { RequestState } from './request-context.js';

/** RFC 6750 §3: how a resource answers a missing or unusable bearer token. */
function invalidToken(ctx: ParameterizedContext<RequestState>, sent: boolean): AppError {
  ctx.set(
    'WWW-Authenticate',
    sent ? 'Bearer realm="tollgate", error="invalid_token"' : 'Bearer realm="tollgate"',
  );

  return new AppError('unauthorized', 401, 'a live access token of the session is required');
}

/**
 * `POST /sessions/close`: the agent ends its task. Any live token of the session proves the
 * right to close it; every token of the session (and of sessions opened from it) dies at once.
 */
export function sessionCloseRoute(db: Kysely<Schema>): Middleware<RequestState> {
  return async (ctx, next) => {
    if (ctx.path !== '/sessions/close') {
      return next();
    }

    try {
      await closeSessionOfBearer(ctx, db);
    } catch (error) {
      renderError(ctx, error);
    }
  };
}

async function closeSessionOfBearer(
  ctx: ParameterizedContext<RequestState>,
  db: Kysely<Schema>,
): Promise<void> {
  if (ctx.method !== 'POST') {
    ctx.set('Allow', 'POST');
    throw new AppError('method_not_allowed', 405, 'use POST');
  }

  const header = ctx.get('authorization');
  const match = /^Bearer ([A-Za-z0-9._~+/-]+=*)$/i.exec(header);
  const token = match?.[1];
  const found = token === undefined ? undefined : await findLiveSessionToken(db, tokenIdOf(token));

  if (found === undefined) {
    throw invalidToken(ctx, header !== '');
  }

  const closed = await closeSession(db, found.session_id, 'closed_by_agent', {
    actor: found.client_id,
    requestId: ctx.state.requestId,
    ip: ctx.state.ip,
  });

  ctx.state.log.info({ event: 'session.closed', sessionId: found.session_id }, 'session closed');
  ctx.set('Cache-Control', 'no-store');
  ctx.body = {
    session_id: found.session_id,
    state: 'closed',
    closed_sessions: closed.map((session) => session.id),
  };
}
