import { adminCall, type TestTollgate } from './tollgate.js';

/** A registered client and what it needs to authenticate with a secret. */
export interface SecretClient {
  id: string;
  clientId: string;
  secret: string;
  secretId: string;
}

export type RegisteredAgent = SecretClient;

export interface RegisteredResourceServer extends SecretClient {
  /** The audience as Tollgate stores it (normalised). */
  audience: string;
}

/** A private_key_jwt agent: no secret, only its registered public keys. */
export interface KeyAgent {
  id: string;
  clientId: string;
}

export interface AgentInput {
  tools: string[];
  audiences: string[];
  token_ttl_seconds?: number;
  token_endpoint_auth_method?: 'client_secret_basic' | 'client_secret_post';
  jwks?: { keys: Record<string, unknown>[] };
}

let registered = 0;

/** A unique, readable name for each client a test registers. */
const nextName = (prefix: string): string => `${prefix}-${++registered}`;

/** Calls the management API and fails with the whole reply when the status is not `expected`. */
export async function adminExpect(
  tollgate: TestTollgate,
  expected: number,
  method: string,
  path: string,
  body?: unknown,
): Promise<Record<string, unknown>> {
  const reply = await adminCall(tollgate, method, path, body);

  if (reply.status !== expected) {
    throw new Error(
      `${method} ${path}: expected ${expected}, got ${reply.status} ${JSON.stringify(reply.json)}`,
    );
  }

  return reply.json;
}

async function createAgentRecord(
  tollgate: TestTollgate,
  input: AgentInput,
): Promise<Record<string, unknown>> {
  return adminExpect(tollgate, 201, 'POST', '/v1/agents', {
    name: nextName('agent'),
    owner: 'e2e',
    ...input,
  });
}

/** Registers a secret-authenticated agent through the management API. */
export async function registerAgent(
  tollgate: TestTollgate,
  input: AgentInput,
): Promise<RegisteredAgent> {
  const json = await createAgentRecord(tollgate, input);

  return {
    id: String(json.id),
    clientId: String(json.client_id),
    secret: String(json.client_secret),
    secretId: String(json.secret_id),
  };
}

/** Registers a private_key_jwt agent with the given public JWKS. */
export async function registerKeyAgent(
  tollgate: TestTollgate,
  input: AgentInput & { jwks: { keys: Record<string, unknown>[] } },
): Promise<KeyAgent> {
  const json = await createAgentRecord(tollgate, input);

  return { id: String(json.id), clientId: String(json.client_id) };
}

/** Registers a resource server for one audience through the management API. */
export async function registerResourceServer(
  tollgate: TestTollgate,
  audience: string,
): Promise<RegisteredResourceServer> {
  const json = await adminExpect(tollgate, 201, 'POST', '/v1/resource-servers', {
    name: nextName('rs'),
    audience,
  });

  return {
    id: String(json.id),
    clientId: String(json.client_id),
    secret: String(json.client_secret),
    secretId: String(json.secret_id),
    audience: String(json.audience),
  };
}

export async function disableAgent(tollgate: TestTollgate, agentId: string): Promise<void> {
  await adminExpect(tollgate, 200, 'POST', `/v1/agents/${agentId}/disable`);
}

export async function enableAgent(tollgate: TestTollgate, agentId: string): Promise<void> {
  await adminExpect(tollgate, 200, 'POST', `/v1/agents/${agentId}/enable`);
}

/** Rotates in a new secret; returns its clear value and id. */
export async function addSecret(
  tollgate: TestTollgate,
  agentId: string,
  options: { old_secrets_expire_in_seconds?: number } = {},
): Promise<{ secret: string; secretId: string }> {
  const json = await adminExpect(tollgate, 201, 'POST', `/v1/agents/${agentId}/secrets`, options);

  return { secret: String(json.client_secret), secretId: String(json.id) };
}

export async function revokeSecret(
  tollgate: TestTollgate,
  agentId: string,
  secretId: string,
): Promise<void> {
  await adminExpect(tollgate, 200, 'POST', `/v1/agents/${agentId}/secrets/${secretId}/revoke`);
}
