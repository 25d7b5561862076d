import {
  buildSpendReport,
  governanceReport,
  parseGroupBy,
  reportPeriod,
  sessionStatement,
  spendReportCsv,
  type SpendReport,
} from '@tollgate/core';
import type { Kysely, Schema } from '@tollgate/db';

import { pathParam, respond, type AdminContext, type AdminRouter } from '../context.js';
import { governanceQuery, spendQuery } from '../report-schemas.js';
import { checkNoQuery, queryValidator } from '../validate.js';

type Handler = (ctx: AdminContext) => Promise<void>;

interface SpendQuery {
  group_by?: string;
  from?: string;
  to?: string;
  agent_id?: string;
  format?: 'json' | 'csv';
}

interface GovernanceQuery {
  from?: string;
  to?: string;
  rotation_days?: number;
}

const parseSpendQuery = queryValidator<SpendQuery>(spendQuery);
const parseGovernanceQuery = queryValidator<GovernanceQuery>(governanceQuery);

/** Chargeback and governance: spend reports (JSON or CSV), session statements, coverage. */
export function reportRoutes(router: AdminRouter, db: Kysely<Schema>): void {
  router.get('/v1/reports/spend', spend(db));
  router.get('/v1/reports/governance', governance(db));
  router.get('/v1/sessions/:id/statement', statement(db));
}

function spend(db: Kysely<Schema>): Handler {
  return async (ctx) => {
    const query = parseSpendQuery(ctx.query);
    const report = await buildSpendReport(db, {
      groupBy: parseGroupBy(query.group_by),
      period: reportPeriod(query.from, query.to),
      agentId: query.agent_id,
    });

    if (wantsCsv(ctx, query.format)) {
      respondCsv(ctx, report);
    } else {
      respond(ctx, 200, report);
    }
  };
}

/** CSV when asked by the format parameter, or by an Accept header that prefers it to JSON. */
function wantsCsv(ctx: AdminContext, format: SpendQuery['format']): boolean {
  ctx.vary('Accept');

  if (format !== undefined) {
    return format === 'csv';
  }

  return ctx.accepts('application/json', 'text/csv') === 'text/csv';
}

function respondCsv(ctx: AdminContext, report: SpendReport): void {
  ctx.status = 200;
  ctx.body = spendReportCsv(report);
  ctx.set('Content-Type', 'text/csv; charset=utf-8');
  ctx.set('Content-Disposition', 'attachment; filename="spend.csv"');
}

function governance(db: Kysely<Schema>): Handler {
  return async (ctx) => {
    const query = parseGovernanceQuery(ctx.query);
    const period = reportPeriod(query.from, query.to);

    respond(ctx, 200, await governanceReport(db, period, query.rotation_days));
  };
}

function statement(db: Kysely<Schema>): Handler {
  return async (ctx) => {
    checkNoQuery(ctx.query);
    respond(ctx, 200, await sessionStatement(db, pathParam(ctx, 'id')));
  };
}
