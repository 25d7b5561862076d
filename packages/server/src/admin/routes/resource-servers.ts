import {
  createResourceServer,
  disableResourceServer,
  LedgerKind,
  listResourceServers,
  requireResourceServer,
  resourceServerView,
} from '@tollgate/core';
import type { ClientStatus, Kysely, Schema } from '@tollgate/db';

import { readJsonBody } from '../../http/body.js';
import {
  auditOf,
  logChange,
  pathParam,
  respond,
  type AdminContext,
  type AdminRouter,
} from '../context.js';
import { emptyAction, resourceServerCreate, resourceServerListQuery } from '../schemas.js';
import { bodyValidator, checkNoQuery, queryValidator } from '../validate.js';

type Handler = (ctx: AdminContext) => Promise<void>;

interface ListQuery {
  status?: ClientStatus;
  cursor?: string;
  limit?: number;
}

const parseCreate = bodyValidator<{ name: string; audience: string }>(resourceServerCreate);
const parseAction = bodyValidator<Record<string, never>>(emptyAction);
const parseListQuery = queryValidator<ListQuery>(resourceServerListQuery);

const resourceServerPath = (id: string): string => `/v1/resource-servers/${encodeURIComponent(id)}`;

/** Resource servers: register one per audience, list, read, disable. */
export function resourceServerRoutes(router: AdminRouter, db: Kysely<Schema>): void {
  router.post('/v1/resource-servers', create(db));
  router.get('/v1/resource-servers', list(db));
  router.get('/v1/resource-servers/:id', read(db));
  router.post('/v1/resource-servers/:id/disable', disable(db));
}

function create(db: Kysely<Schema>): Handler {
  return async (ctx) => {
    checkNoQuery(ctx.query);
    const input = parseCreate(await readJsonBody(ctx));
    const created = await createResourceServer(db, input, auditOf(ctx));
    const server = created.resource_server;

    logChange(ctx, LedgerKind.resourceServerCreated, {
      resourceServerId: server.id,
      clientId: server.client_id,
    });
    respond(
      ctx,
      201,
      { ...server, client_secret: created.client_secret, secret_id: created.secret_id },
      { secret: true, location: resourceServerPath(server.id) },
    );
  };
}

function list(db: Kysely<Schema>): Handler {
  return async (ctx) => {
    respond(ctx, 200, await listResourceServers(db, parseListQuery(ctx.query)));
  };
}

function read(db: Kysely<Schema>): Handler {
  return async (ctx) => {
    checkNoQuery(ctx.query);
    respond(ctx, 200, resourceServerView(await requireResourceServer(db, pathParam(ctx, 'id'))));
  };
}

function disable(db: Kysely<Schema>): Handler {
  return async (ctx) => {
    checkNoQuery(ctx.query);
    parseAction(await readJsonBody(ctx, { emptyAsObject: true }));
    const server = await disableResourceServer(db, pathParam(ctx, 'id'), auditOf(ctx));

    logChange(ctx, LedgerKind.resourceServerDisabled, { resourceServerId: server.id });
    respond(ctx, 200, server);
  };
}
