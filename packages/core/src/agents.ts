import {
  findClientById,
  insertClient,
  listClients,
  revokeTokensOutsidePolicy,
  updateClient,
  type ClientRow,
  type ClientStatus,
  type Budget,
  type ClientUpdate,
  type DelegationPolicy,
  type Kysely,
  type PublicJwks,
  type Schema,
} from '@tollgate/db';

import { validateBudget } from './budgets.js';
import { invalidInput, notFound } from './errors.js';
import { newClientId, newRowId } from './ids.js';
import { validatePublicJwks } from './jwks.js';
import { LedgerKind, recordEvent, type AuditContext } from './ledger.js';
import {
  decodeTimeCursor,
  encodeCursor,
  isRowId,
  pageSize,
  toPage,
  type Page,
} from './pagination.js';
import { issueSecret } from './secrets.js';
import {
  DEFAULT_SESSION_MAX_SECONDS,
  DEFAULT_TOKEN_TTL_SECONDS,
  validateAudiences,
  validateDelegation,
  validateSessionSeconds,
  validateTokenTtl,
  validateTools,
} from './validation.js';

/** An agent as the management API shows it. */
export interface AgentView {
  id: string;
  client_id: string;
  name: string;
  owner: string | null;
  description: string | null;
  tools: string[];
  audiences: string[];
  token_ttl_seconds: number;
  status: ClientStatus;
  token_endpoint_auth_method: ClientRow['auth_method'];
  jwks: PublicJwks | null;
  delegation: DelegationPolicy;
  session_max_seconds: number;
  session_idle_seconds: number | null;
  budget: Budget;
  created_at: string;
  updated_at: string;
}

export function agentView(row: ClientRow): AgentView {
  return {
    id: row.id,
    client_id: row.client_id,
    name: row.name,
    owner: row.owner,
    description: row.description,
    tools: row.tools,
    audiences: row.audiences,
    token_ttl_seconds: row.token_ttl_seconds,
    status: row.status,
    token_endpoint_auth_method: row.auth_method,
    jwks: row.jwks,
    delegation: row.delegation,
    session_max_seconds: row.session_max_seconds,
    session_idle_seconds: row.session_idle_seconds,
    budget: row.budget,
    created_at: row.created_at.toISOString(),
    updated_at: row.updated_at.toISOString(),
  };
}

export interface CreateAgentInput {
  name: string;
  owner: string;
  description?: string | undefined;
  tools: string[];
  audiences: string[];
  token_ttl_seconds?: number | undefined;
  /** Registering a public JWKS makes the agent authenticate with private_key_jwt, no secret. */
  jwks?: PublicJwks | undefined;
  token_endpoint_auth_method?: 'client_secret_basic' | 'client_secret_post' | undefined;
  delegation?: DelegationPolicy | undefined;
  session_max_seconds?: number | undefined;
  session_idle_seconds?: number | null | undefined;
  budget?: Budget | undefined;
}

export interface CreatedAgent {
  agent: AgentView;
  /** Shown exactly once; absent for private_key_jwt agents. */
  client_secret?: string;
  secret_id?: string;
}

export async function createAgent(
  db: Kysely<Schema>,
  input: CreateAgentInput,
  audit: AuditContext,
): Promise<CreatedAgent> {
  const tools = validateTools(input.tools);
  const audiences = validateAudiences(input.audiences);
  const ttl = validateTokenTtl(input.token_ttl_seconds ?? DEFAULT_TOKEN_TTL_SECONDS);
  const jwks = input.jwks === undefined ? null : await validatePublicJwks(input.jwks);
  const authMethod =
    jwks === null ? (input.token_endpoint_auth_method ?? 'client_secret_basic') : 'private_key_jwt';

  return db.transaction().execute(async (trx) => {
    const row = await insertClient(trx, {
      id: newRowId(),
      client_id: newClientId('agent'),
      kind: 'agent',
      name: input.name,
      owner: input.owner,
      description: input.description ?? null,
      tools,
      audiences,
      token_ttl_seconds: ttl,
      auth_method: authMethod,
      jwks: JSON.stringify(jwks),
      delegation: JSON.stringify(validateDelegation(input.delegation ?? {})),
      session_max_seconds: validateSessionSeconds(
        input.session_max_seconds ?? DEFAULT_SESSION_MAX_SECONDS,
        'session_max_seconds',
      ),
      session_idle_seconds:
        input.session_idle_seconds == null
          ? null
          : validateSessionSeconds(input.session_idle_seconds, 'session_idle_seconds'),
      budget: JSON.stringify(validateBudget(input.budget ?? {})),
    });

    await recordEvent(trx, audit, {
      kind: LedgerKind.agentCreated,
      agentId: row.id,
      clientId: row.client_id,
      data: { name: row.name, owner: row.owner, tools, audiences, auth_method: authMethod },
    });

    if (jwks !== null) {
      return { agent: agentView(row) };
    }

    const issued = await issueSecret(trx, row, {}, audit);

    return {
      agent: agentView(row),
      client_secret: issued.client_secret,
      secret_id: issued.secret.id,
    };
  });
}

/** Loads an agent row or fails with 404. */
export async function requireAgent(db: Kysely<Schema>, id: string): Promise<ClientRow> {
  const row = isRowId(id) ? await findClientById(db, id, 'agent') : undefined;

  if (row === undefined) {
    throw notFound('agent');
  }

  return row;
}

export async function getAgent(db: Kysely<Schema>, id: string): Promise<AgentView> {
  return agentView(await requireAgent(db, id));
}

export interface AgentListQuery {
  owner?: string | undefined;
  status?: ClientStatus | undefined;
  cursor?: string | undefined;
  limit?: number | undefined;
}

export async function listAgents(
  db: Kysely<Schema>,
  query: AgentListQuery,
): Promise<Page<AgentView>> {
  const limit = pageSize(query.limit);
  const position = query.cursor === undefined ? undefined : decodeTimeCursor(query.cursor, 'c');
  const rows = await listClients(db, {
    kind: 'agent',
    owner: query.owner,
    status: query.status,
    after: position === undefined ? undefined : { createdAt: position.at, id: position.id },
    limit: limit + 1,
  });

  return toPage(rows, limit, agentView, (row) =>
    encodeCursor({ c: row.created_at.toISOString(), i: row.id }),
  );
}

export interface UpdateAgentInput {
  name?: string | undefined;
  owner?: string | undefined;
  description?: string | null | undefined;
  tools?: string[] | undefined;
  audiences?: string[] | undefined;
  token_ttl_seconds?: number | undefined;
  jwks?: PublicJwks | undefined;
  delegation?: DelegationPolicy | undefined;
  session_max_seconds?: number | undefined;
  session_idle_seconds?: number | null | undefined;
  budget?: Budget | undefined;
}

export async function updateAgent(
  db: Kysely<Schema>,
  id: string,
  input: UpdateAgentInput,
  audit: AuditContext,
): Promise<AgentView> {
  const current = await requireAgent(db, id);
  const changes = await agentChanges(current, input);

  return db.transaction().execute(async (trx) => {
    const row = await updateClient(trx, current.id, 'agent', changes);

    if (row === undefined) {
      throw notFound('agent');
    }

    // Narrowing an agent takes effect at once: tokens it may no longer hold stop working.
    const narrowed = input.tools !== undefined || input.audiences !== undefined;
    const revoked = narrowed
      ? await revokeTokensOutsidePolicy(trx, row.id, row, 'agent_policy_narrowed')
      : 0;

    await recordEvent(trx, audit, {
      kind: LedgerKind.agentUpdated,
      agentId: row.id,
      clientId: row.client_id,
      data: {
        changed: Object.keys(input).sort(),
        ...changedValues(input),
        ...(narrowed ? { tokens_revoked: revoked } : {}),
      },
    });

    return agentView(row);
  });
}

async function agentChanges(current: ClientRow, input: UpdateAgentInput): Promise<ClientUpdate> {
  const changes: ClientUpdate = {};

  if (input.name !== undefined) changes.name = input.name;
  if (input.owner !== undefined) changes.owner = input.owner;
  if (input.description !== undefined) changes.description = input.description;
  if (input.tools !== undefined) changes.tools = validateTools(input.tools);
  if (input.audiences !== undefined) changes.audiences = validateAudiences(input.audiences);
  if (input.token_ttl_seconds !== undefined) {
    changes.token_ttl_seconds = validateTokenTtl(input.token_ttl_seconds);
  }

  if (input.delegation !== undefined) {
    changes.delegation = JSON.stringify(validateDelegation(input.delegation));
  }

  if (input.session_max_seconds !== undefined) {
    changes.session_max_seconds = validateSessionSeconds(
      input.session_max_seconds,
      'session_max_seconds',
    );
  }

  if (input.session_idle_seconds !== undefined) {
    changes.session_idle_seconds =
      input.session_idle_seconds === null
        ? null
        : validateSessionSeconds(input.session_idle_seconds, 'session_idle_seconds');
  }

  if (input.budget !== undefined) {
    changes.budget = JSON.stringify(validateBudget(input.budget));
  }

  if (input.jwks !== undefined) {
    // A JWKS can replace the keys of a private_key_jwt agent; it does not switch methods.
    if (current.auth_method !== 'private_key_jwt') {
      throw invalidInput('jwks can only be changed on a private_key_jwt agent', [
        { path: 'jwks', message: 'this agent authenticates with a client secret' },
      ]);
    }

    changes.jwks = JSON.stringify(await validatePublicJwks(input.jwks));
  }

  return changes;
}

/** The new values, for the ledger; a new JWKS is recorded by its key ids only. */
function changedValues(input: UpdateAgentInput): Record<string, unknown> {
  const { jwks, ...rest } = input;

  return jwks === undefined
    ? rest
    : { ...rest, jwks_kids: jwks.keys.map((key) => key.kid ?? null) };
}
