import {
  createAgent,
  getAgent,
  LedgerKind,
  listAgents,
  setAgentStatus,
  updateAgent,
  type AgentListQuery,
  type CreateAgentInput,
  type UpdateAgentInput,
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
import { agentCreate, agentListQuery, agentUpdate, emptyAction } from '../schemas.js';
import { bodyValidator, checkNoQuery, queryValidator } from '../validate.js';

type Handler = (ctx: AdminContext) => Promise<void>;

const parseCreate = bodyValidator<CreateAgentInput>(agentCreate);
const parseUpdate = bodyValidator<UpdateAgentInput>(agentUpdate);
const parseAction = bodyValidator<Record<string, never>>(emptyAction);
const parseListQuery = queryValidator<AgentListQuery>(agentListQuery);

const agentPath = (id: string): string => `/v1/agents/${encodeURIComponent(id)}`;

/** Agents: register, list, read, change, disable and re-enable. */
export function agentRoutes(router: AdminRouter, db: Kysely<Schema>): void {
  router.post('/v1/agents', create(db));
  router.get('/v1/agents', list(db));
  router.get('/v1/agents/:id', read(db));
  router.patch('/v1/agents/:id', update(db));
  router.post('/v1/agents/:id/disable', changeStatus(db, 'disabled'));
  router.post('/v1/agents/:id/enable', changeStatus(db, 'active'));
}

function create(db: Kysely<Schema>): Handler {
  return async (ctx) => {
    checkNoQuery(ctx.query);
    const input = parseCreate(await readJsonBody(ctx));
    const { agent, ...credentials } = await createAgent(db, input, auditOf(ctx));

    logChange(ctx, LedgerKind.agentCreated, { agentId: agent.id, clientId: agent.client_id });
    respond(
      ctx,
      201,
      { ...agent, ...credentials },
      { secret: credentials.client_secret !== undefined, location: agentPath(agent.id) },
    );
  };
}

function list(db: Kysely<Schema>): Handler {
  return async (ctx) => {
    respond(ctx, 200, await listAgents(db, parseListQuery(ctx.query)));
  };
}

function read(db: Kysely<Schema>): Handler {
  return async (ctx) => {
    checkNoQuery(ctx.query);
    respond(ctx, 200, await getAgent(db, pathParam(ctx, 'id')));
  };
}

function update(db: Kysely<Schema>): Handler {
  return async (ctx) => {
    checkNoQuery(ctx.query);
    const input = parseUpdate(await readJsonBody(ctx));
    const agent = await updateAgent(db, pathParam(ctx, 'id'), input, auditOf(ctx));

    logChange(ctx, LedgerKind.agentUpdated, {
      agentId: agent.id,
      changed: Object.keys(input).sort().join(','),
    });
    respond(ctx, 200, agent);
  };
}

function changeStatus(db: Kysely<Schema>, status: ClientStatus): Handler {
  const event = status === 'disabled' ? LedgerKind.agentDisabled : LedgerKind.agentEnabled;

  return async (ctx) => {
    checkNoQuery(ctx.query);
    parseAction(await readJsonBody(ctx, { emptyAsObject: true }));
    const agent = await setAgentStatus(db, pathParam(ctx, 'id'), status, auditOf(ctx));

    logChange(ctx, event, { agentId: agent.id });
    respond(ctx, 200, agent);
  };
}
