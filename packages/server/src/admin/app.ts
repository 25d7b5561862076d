import { Router } from '@koa/router';
import Koa from 'koa';

import type { Kysely, Schema } from '@tollgate/db';

import { requestContext } from '../http/request-context.js';
import type { Logger } from '../logger.js';
import { requireAdmin } from './auth.js';
import type { AdminPrincipal, AdminRouter, AdminState } from './context.js';
import { buildOpenApiDocument } from './openapi.js';
import { problems } from '../http/problem.js';
import { agentSecretRoutes } from './routes/agent-secrets.js';
import { agentRoutes } from './routes/agents.js';
import { budgetRoutes } from './routes/budgets.js';
import { ledgerRoutes } from './routes/ledger.js';
import { reportRoutes } from './routes/reports.js';
import { resourceServerRoutes } from './routes/resource-servers.js';
import { sessionRoutes } from './routes/sessions.js';
import { trustedIssuerRoutes } from './routes/trusted-issuers.js';

export type { AdminPrincipal } from './context.js';

export interface AdminAppDeps {
  db: Kysely<Schema>;
  logger: Logger;
  /** Resolves a bearer token to an admin, or undefined when it is not a live admin token. */
  authenticate(bearerToken: string): Promise<AdminPrincipal | undefined>;
}

/**
 * The management API, for its own listener: request context, one problem renderer, admin
 * authentication for /v1, then the routes.
 */
export function createAdminApp(deps: AdminAppDeps): Koa {
  const app = new Koa<AdminState>();
  const router = adminRouter(deps.db);

  app.use(requestContext(deps.logger));
  app.use(problems());
  app.use(requireAdmin((token) => deps.authenticate(token)));
  app.use(router.routes());
  app.use(router.allowedMethods());

  // Errors are rendered by problems(); this only sees failures while streaming a response.
  app.on('error', (error: unknown) => {
    deps.logger.error({ event: 'http.error', err: error }, 'admin response failed');
  });

  return app;
}

function adminRouter(db: Kysely<Schema>): AdminRouter {
  // Case-sensitive and strict, so a route matches exactly the paths auth treats as /v1.
  const router: AdminRouter = new Router<AdminState>({ sensitive: true, strict: true });
  const openApi = buildOpenApiDocument();

  router.get('/openapi.json', (ctx) => {
    ctx.body = openApi;
  });

  agentRoutes(router, db);
  agentSecretRoutes(router, db);
  resourceServerRoutes(router, db);
  ledgerRoutes(router, db);
  trustedIssuerRoutes(router, db);
  sessionRoutes(router, db);
  reportRoutes(router, db);
  budgetRoutes(router, db);

  return router;
}
