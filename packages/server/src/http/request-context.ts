import { randomUUID } from 'node:crypto';

import type { Middleware, ParameterizedContext } from 'koa';

import type { Logger } from '../logger.js';

/** What every request carries through Tollgate's own middleware. */
export interface RequestState {
  requestId: string;
  log: Logger;
  ip: string;
}

/** A caller may pass its own request id for correlation, if it is short and plain. */
const ACCEPTABLE_REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

export function requestIdFrom(header: string | string[] | undefined): string {
  return typeof header === 'string' && ACCEPTABLE_REQUEST_ID.test(header) ? header : randomUUID();
}

/**
 * Gives each request an id (echoed as X-Request-Id), a child logger carrying it, and one
 * access-log line at the end. The path is logged without its query string, which may hold
 * credentials.
 */
export function requestContext(logger: Logger): Middleware {
  return async (ctx: ParameterizedContext<Partial<RequestState>>, next) => {
    const started = performance.now();
    const requestId = requestIdFrom(ctx.get('x-request-id') || undefined);
    const log = logger.child({ reqId: requestId });

    ctx.state.requestId = requestId;
    ctx.state.log = log;
    ctx.state.ip = ctx.ip;
    ctx.set('X-Request-Id', requestId);

    try {
      await next();
    } finally {
      log.info(
        {
          event: 'http.request',
          method: ctx.method,
          path: ctx.path,
          status: ctx.status,
          durationMs: Math.round((performance.now() - started) * 10) / 10,
        },
        'request finished',
      );
    }
  };
}
