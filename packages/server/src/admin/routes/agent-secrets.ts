import {
  addAgentSecret,
  LedgerKind,
  listClientSecrets,
  requireAgent,
  revokeClientSecret,
} from '@tollgate/core';
import type { Kysely, Schema } from '@tollgate/db';

import { readJsonBody } from '../../http/body.js';
import {
  auditOf,
  logChange,
  pathParam,
  respond,
  type AdminContext,
  type AdminRouter,
} from '../context.js';
import { emptyAction, secretCreate } from '../schemas.js';
import { bodyValidator, checkNoQuery } from '../validate.js';

type Handler = (ctx: AdminContext) => Promise<void>;

interface SecretCreateBody {
  expires_in_seconds?: number;
  old_secrets_expire_in_seconds?: number;
}

const parseCreate = bodyValidator<SecretCreateBody>(secretCreate);
const parseAction = bodyValidator<Record<string, never>>(emptyAction);

/** An agent's client secrets: rotate in a new one, list them (never their values), revoke. */
export function agentSecretRoutes(router: AdminRouter, db: Kysely<Schema>): void {
  router.post('/v1/agents/:id/secrets', add(db));
  router.get('/v1/agents/:id/secrets', list(db));
  router.post('/v1/agents/:id/secrets/:secretId/revoke', revoke(db, { body: true }));
  router.delete('/v1/agents/:id/secrets/:secretId', revoke(db, { body: false }));
}

function add(db: Kysely<Schema>): Handler {
  return async (ctx) => {
    checkNoQuery(ctx.query);
    const body = parseCreate(await readJsonBody(ctx, { emptyAsObject: true }));
    const options = {
      expiresInSeconds: body.expires_in_seconds,
      oldSecretsExpireInSeconds: body.old_secrets_expire_in_seconds,
    };
    const agentId = pathParam(ctx, 'id');
    const issued = await addAgentSecret(db, agentId, options, auditOf(ctx));

    logChange(ctx, LedgerKind.secretAdded, { agentId, secretId: issued.secret.id });
    respond(ctx, 201, { ...issued.secret, client_secret: issued.client_secret }, { secret: true });
  };
}

function list(db: Kysely<Schema>): Handler {
  return async (ctx) => {
    checkNoQuery(ctx.query);
    const agent = await requireAgent(db, pathParam(ctx, 'id'));

    // An agent holds a handful of secrets, so the list is one page; the shape matches the rest.
    respond(ctx, 200, { items: await listClientSecrets(db, agent), next_cursor: null });
  };
}

function revoke(db: Kysely<Schema>, options: { body: boolean }): Handler {
  return async (ctx) => {
    checkNoQuery(ctx.query);

    if (options.body) {
      parseAction(await readJsonBody(ctx, { emptyAsObject: true }));
    }

    const agent = await requireAgent(db, pathParam(ctx, 'id'));
    const secretId = pathParam(ctx, 'secretId');
    const secret = await revokeClientSecret(db, agent, secretId, auditOf(ctx));

    logChange(ctx, LedgerKind.secretRevoked, { agentId: agent.id, secretId });
    respond(ctx, 200, secret);
  };
}
