import type { Middleware, ParameterizedContext } from 'koa';

import { AppError, ingestUsage, invalidInput, type ClientSecretVerifier } from '@tollgate/core';
import type { Kysely, Schema } from '@tollgate/db';

import { readJsonBody } from './body.js';
import { authenticateClient } from './client-basic-auth.js';
import { renderError } from './problem.js';
import type { RequestState } from './request-context.js';

/** A gateway may send up to this many reports in one request. */
const MAX_BATCH = 500;
const MAX_USAGE_BODY_BYTES = 1024 * 1024;

interface UsageDeps {
  db: Kysely<Schema>;
  verifier: ClientSecretVerifier;
}

/**
 * `POST /usage`: a resource server reports what a token was used for. One report (an object)
 * is answered 201, or 200 when its idempotency key was seen before; a batch
 * (`{"reports": [...]}`) is answered 200 with one result per report, in order.
 */
export function usageRoute(deps: UsageDeps): Middleware<RequestState> {
  return async (ctx, next) => {
    if (ctx.path !== '/usage') {
      return next();
    }

    try {
      await handleUsage(ctx, deps);
    } catch (error) {
      renderError(ctx, error);
    }
  };
}

async function handleUsage(
  ctx: ParameterizedContext<RequestState>,
  deps: UsageDeps,
): Promise<void> {
  if (ctx.method !== 'POST') {
    ctx.set('Allow', 'POST');
    throw new AppError('method_not_allowed', 405, 'use POST');
  }

  const server = await authenticateClient(ctx, deps, 'resource_server');
  const body = await readJsonBody(ctx, { maxBytes: MAX_USAGE_BODY_BYTES });
  const reporter = { id: server.id, clientId: server.client_id, audience: server.audience ?? '' };
  const audit = { actor: server.client_id, requestId: ctx.state.requestId, ip: ctx.state.ip };
  const batch = batchOf(body);

  if (batch === undefined) {
    const result = await ingestUsage(deps.db, reporter, body, audit);
    ctx.status = result.created ? 201 : 200;
    ctx.body = result.usage;
    return;
  }

  const results = [];

  // One at a time: each report's budget check must see the reports before it.
  for (const report of batch) {
    results.push(
      await ingestUsage(deps.db, reporter, report, audit).then(
        (result) => ({ status: result.created ? 201 : 200, usage: result.usage }),
        (error: unknown) => {
          if (!(error instanceof AppError) || error.status >= 500) throw error;

          return {
            status: error.status,
            error: { code: error.code, detail: error.message, errors: error.errors },
          };
        },
      ),
    );
  }

  ctx.body = { results };
}

function batchOf(body: unknown): unknown[] | undefined {
  if (typeof body !== 'object' || body === null || !('reports' in body)) {
    return undefined;
  }

  const { reports } = body;

  if (!Array.isArray(reports) || reports.length === 0 || reports.length > MAX_BATCH) {
    throw invalidInput(`reports must be an array of 1 to ${MAX_BATCH} reports`);
  }

  return reports;
}
