import {
  ADMIN_AUDIENCE,
  ADMIN_SCOPE,
  ADMIN_TOKEN_TTL_SECONDS,
  describeBudget,
  exhaustedBudget,
  normalizeAudience,
} from '@tollgate/core';
import type { ClientWithSecrets, Kysely, Schema } from '@tollgate/db';
import { errors, type Client, type KoaContextWithOIDC, type ResourceServer } from 'oidc-provider';

import { budgetExceeded } from './budget-error.js';
import { clientProperty } from './client-metadata.js';
import { rememberedClient } from './request-state.js';

/**
 * RFC 8707: a token is for exactly one audience. Agents may name any audience they are
 * allowed; an agent with a single audience, and every admin, get theirs by default.
 */
export function defaultResource(_ctx: KoaContextWithOIDC, client: Client): string | undefined {
  switch (clientProperty(client, 'tollgate_kind')) {
    case 'admin':
      return ADMIN_AUDIENCE;
    case 'agent': {
      const audiences = rememberedClient(client.clientId)?.audiences ?? [];

      if (audiences.length === 1) {
        return audiences[0];
      }

      throw new errors.InvalidTarget(
        'resource is required: this agent may call several audiences, name one',
      );
    }
    default:
      return undefined;
  }
}

/**
 * Decides whether the client may get a token for the resource, and what such a token is:
 * which tools it may carry, for how long, and that it is opaque (so that revocation and
 * disablement show in introspection at once).
 */
export function resourceServerInfo(db: Kysely<Schema>) {
  return async (
    ctx: KoaContextWithOIDC,
    resourceIndicator: string,
    client: Client,
  ): Promise<ResourceServer> => {
    const audience = normalizeAudience(resourceIndicator);
    const row = rememberedClient(client.clientId);

    if (audience === undefined || row === undefined || !row.audiences.includes(audience)) {
      throw new errors.InvalidTarget(`this client may not get tokens for ${resourceIndicator}`);
    }

    if (ctx.oidc.params?.grant_type === 'client_credentials') {
      assertToolsAllowed(requestedTools(ctx), row.tools);
      await assertBudgetLeft(db, row);
    }

    return tokenShape(row, audience);
  };
}

/** A used-up agent or owner budget stops new client_credentials tokens. */
async function assertBudgetLeft(db: Kysely<Schema>, row: ClientWithSecrets): Promise<void> {
  if (row.kind !== 'agent') {
    return;
  }

  const exhausted = await exhaustedBudget(db, row, undefined);

  if (exhausted !== undefined) {
    throw budgetExceeded(describeBudget(exhausted));
  }
}

function tokenShape(row: ClientWithSecrets, audience: string): ResourceServer {
  const isAdmin = row.kind === 'admin';

  return {
    scope: isAdmin ? ADMIN_SCOPE : row.tools.join(' '),
    audience,
    accessTokenTTL: isAdmin ? ADMIN_TOKEN_TTL_SECONDS : row.token_ttl_seconds,
    accessTokenFormat: 'opaque',
  };
}

function requestedTools(ctx: KoaContextWithOIDC): string[] {
  const scope = ctx.oidc.params?.scope;

  return typeof scope === 'string' ? scope.split(' ').filter((tool) => tool !== '') : [];
}

/**
 * Least privilege: a token names the tools it is for (RFC 6749 §3.3 lets the server refuse a
 * request without scope), and every tool must be on the agent's allow-list.
 */
export function assertToolsAllowed(requested: readonly string[], allowed: readonly string[]): void {
  if (requested.length === 0) {
    throw new errors.InvalidScope('scope is required: name the tools this token is for', '');
  }

  const refused = requested.filter((tool) => !allowed.includes(tool));

  if (refused.length > 0) {
    throw new errors.InvalidScope(
      `not allowed for this client: ${refused.join(' ')}`,
      refused.join(' '),
    );
  }
}
