import { STATUS_CODES } from 'node:http';

import type { Middleware, ParameterizedContext } from 'koa';

import { AppError } from '@tollgate/core';
import { DatabaseUnavailableError, InvalidValueError, translateDatabaseError } from '@tollgate/db';

import type { RequestState } from './request-context.js';

/** An RFC 9457 problem details object, with Tollgate's `code` and `request_id` extensions. */
export interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  code: string;
  errors?: { path: string; message: string }[];
  request_id: string;
}

type ProblemContext = ParameterizedContext<RequestState>;

const PROBLEM_TYPE_BASE = 'https://tollgate.dev/problems/';

/** Answers the router gives without a handler: no route, wrong method, unknown method. */
const BODILESS_STATUSES: Record<number, { code: string; detail: string }> = {
  404: { code: 'not_found', detail: 'There is nothing at this path.' },
  405: { code: 'method_not_allowed', detail: 'This method is not allowed here; see Allow.' },
  501: { code: 'not_implemented', detail: 'This method is not implemented.' },
};

/**
 * Renders every failure of the admin API once, as application/problem+json: thrown errors,
 * and error statuses the router set without a body (404, 405, 501).
 */
export function problems(): Middleware<RequestState> {
  return async (ctx, next) => {
    try {
      await next();
    } catch (error) {
      renderError(ctx, error);

      return;
    }

    if (ctx.status >= 400 && ctx.body == null) {
      renderBodilessStatus(ctx);
    }
  };
}

/** Renders one error as a problem; for routes that share a listener with other handlers. */
export function renderError(ctx: ProblemContext, raw: unknown): void {
  const error = translateDatabaseError(raw);

  if (error instanceof AppError) {
    logAppError(ctx, error);
    render(ctx, error.status, error.code, error.message, error.errors);
  } else if (error instanceof InvalidValueError) {
    ctx.state.log.info(
      { event: 'http.invalid_value', err: error },
      'value refused by the database',
    );
    render(ctx, 400, 'invalid_input', 'A value in the request cannot be stored or compared.');
  } else if (error instanceof DatabaseUnavailableError) {
    ctx.state.log.warn({ event: 'database.unavailable', err: error }, 'database unavailable');
    // The pool reconnects on its own; a client may retry shortly.
    ctx.set('Retry-After', '1');
    render(ctx, 503, 'service_unavailable', 'The service is temporarily unavailable.');
  } else {
    ctx.state.log.error({ event: 'http.error', err: error }, 'request failed');
    render(ctx, 500, 'internal', 'An internal error occurred.');
  }
}

function logAppError(ctx: ProblemContext, error: AppError): void {
  if (error.status >= 500) {
    ctx.state.log.error({ event: 'http.error', code: error.code, err: error }, 'request failed');
  } else if (error.detail !== undefined) {
    ctx.state.log.debug({ code: error.code, detail: error.detail }, 'request refused');
  }
}

function renderBodilessStatus(ctx: ProblemContext): void {
  const known = BODILESS_STATUSES[ctx.status];

  render(ctx, ctx.status, known?.code ?? 'error', known?.detail ?? 'The request failed.');
}

function render(
  ctx: ProblemContext,
  status: number,
  code: string,
  detail: string,
  errors?: { path: string; message: string }[],
): void {
  const problem: Problem = {
    type: code === 'error' ? 'about:blank' : `${PROBLEM_TYPE_BASE}${code}`,
    title: STATUS_CODES[status] ?? 'Error',
    status,
    detail,
    code,
    ...(errors === undefined ? {} : { errors }),
    request_id: ctx.state.requestId,
  };

  ctx.status = status;
  ctx.body = problem;
  ctx.type = 'application/problem+json';
}
