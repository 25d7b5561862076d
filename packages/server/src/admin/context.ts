import type { Router, RouterContext } from '@koa/router';
import type { AuditContext } from '@tollgate/core';
import { AppError } from '@tollgate/core';

import type { RequestState } from '../http/request-context.js';

/** The admin client a management request acts for. */
export interface AdminPrincipal {
  clientId: string;
}

/** Request state on the admin listener: request context plus, on /v1, the admin. */
export interface AdminState extends RequestState {
  principal?: AdminPrincipal;
}

export type AdminContext = RouterContext<AdminState>;

export type AdminRouter = Router<AdminState>;

/** Who is acting and through which request, for the ledger rows core writes. */
export function auditOf(ctx: AdminContext): AuditContext {
  const { principal } = ctx.state;

  // The auth middleware runs before every /v1 route; reaching here without an admin is a bug.
  if (principal === undefined) {
    throw new AppError('internal', 500, 'internal error', { detail: 'no admin principal' });
  }

  return { actor: principal.clientId, requestId: ctx.state.requestId, ip: ctx.state.ip };
}

/** A path parameter of the matched route; the router only matches when it is present. */
export function pathParam(ctx: AdminContext, name: string): string {
  const value = ctx.params[name];

  if (value === undefined) {
    throw new AppError('not_found', 404, 'not found', { detail: `no path parameter ${name}` });
  }

  return value;
}

/** One info line per security-relevant change; never the request body or a secret. */
export function logChange(ctx: AdminContext, event: string, fields: Record<string, string>): void {
  ctx.state.log.info({ event, actor: ctx.state.principal?.clientId, ...fields }, 'admin change');
}

/** Answers with JSON; responses that carry a secret must never be cached (RFC 6749 §5.1). */
export function respond(
  ctx: AdminContext,
  status: number,
  body: object,
  options: { secret?: boolean; location?: string } = {},
): void {
  ctx.status = status;
  ctx.body = body;

  if (options.secret === true) {
    ctx.set('Cache-Control', 'no-store');
  }

  if (options.location !== undefined) {
    ctx.set('Location', options.location);
  }
}
