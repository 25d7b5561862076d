import {
  CLI_AUDIT,
  createAgent,
  createResourceServer,
  type CreateAgentInput,
} from '@tollgate/core';
import { findSession, listLedgerEvents, type LedgerEventRow } from '@tollgate/db';

import {
  expectOAuthError,
  introspect,
  postForm,
  type Credentials,
  type OAuthReply,
} from './oauth.js';
import type { TestTollgate } from './tollgate.js';

/** RFC 8693 §2.1 grant type. */
export const EXCHANGE_GRANT = 'urn:ietf:params:oauth:grant-type:token-exchange';

/** RFC 8693 §3 token type identifiers, spelled out as a client would send them. */
export const TokenTypeUri = {
  accessToken: 'urn:ietf:params:oauth:token-type:access_token',
  refreshToken: 'urn:ietf:params:oauth:token-type:refresh_token',
  idToken: 'urn:ietf:params:oauth:token-type:id_token',
  jwt: 'urn:ietf:params:oauth:token-type:jwt',
  saml1: 'urn:ietf:params:oauth:token-type:saml1',
  saml2: 'urn:ietf:params:oauth:token-type:saml2',
} as const;

/** An agent registered straight through core, with what it needs to authenticate. */
export interface TestAgent extends Credentials {
  id: string;
}

export type AgentSetup = Omit<CreateAgentInput, 'name' | 'owner'>;

let registered = 0;

/** Registers a secret-authenticated agent on the test database. */
export async function newAgent(tollgate: TestTollgate, input: AgentSetup): Promise<TestAgent> {
  const created = await createAgent(
    tollgate.test.database.db,
    { name: `exchange-agent-${++registered}`, owner: 'exchange-tests', ...input },
    CLI_AUDIT,
  );

  return {
    id: created.agent.id,
    clientId: created.agent.client_id,
    secret: created.client_secret ?? '',
  };
}

/** Registers a resource server for one audience; it is the one party allowed to introspect. */
export async function newResourceServer(
  tollgate: TestTollgate,
  audience: string,
): Promise<Credentials & { id: string }> {
  const created = await createResourceServer(
    tollgate.test.database.db,
    { name: `exchange-rs-${++registered}`, audience },
    CLI_AUDIT,
  );

  return {
    id: created.resource_server.id,
    clientId: created.resource_server.client_id,
    secret: created.client_secret,
  };
}

/** Form parameters; an array value repeats the parameter (resource, audience). */
export type FormParameters = Record<string, string | string[] | undefined>;

export function form(parameters: FormParameters): URLSearchParams {
  const body = new URLSearchParams();

  for (const [name, value] of Object.entries(parameters)) {
    for (const item of value === undefined ? [] : [value].flat()) {
      body.append(name, item);
    }
  }

  return body;
}

const basic = (credentials: Credentials): Record<string, string> => ({
  authorization: `Basic ${Buffer.from(
    `${encodeURIComponent(credentials.clientId)}:${encodeURIComponent(credentials.secret)}`,
  ).toString('base64')}`,
});

/** A token-exchange request at /token, authenticated with HTTP Basic. */
export function exchange(
  tollgate: TestTollgate,
  client: Credentials,
  parameters: FormParameters,
): Promise<OAuthReply> {
  return postForm(
    tollgate,
    'token',
    form({ grant_type: EXCHANGE_GRANT, ...parameters }),
    basic(client),
  );
}

/** Exchanges and insists on success; returns the whole response body. */
export async function exchangeOk(
  tollgate: TestTollgate,
  client: Credentials,
  parameters: FormParameters,
): Promise<Record<string, unknown> & { access_token: string }> {
  const reply = await exchange(tollgate, client, parameters);

  if (reply.status !== 200 || typeof reply.body.access_token !== 'string') {
    throw new Error(`exchange failed: ${reply.status} ${reply.text}`);
  }

  return reply.body as Record<string, unknown> & { access_token: string };
}

/** A client_credentials token of the agent (which opens a session of its own). */
export async function ownToken(
  tollgate: TestTollgate,
  agent: Credentials,
  scope: string,
  resource: string,
): Promise<string> {
  const body = form({ grant_type: 'client_credentials', scope, resource });
  const reply = await postForm(tollgate, 'token', body, basic(agent));

  if (reply.status !== 200 || typeof reply.body.access_token !== 'string') {
    throw new Error(`client_credentials failed: ${reply.status} ${reply.text}`);
  }

  return reply.body.access_token;
}

/** The introspection body the resource server gets for a token (status 200 enforced). */
export async function introspectionOf(
  tollgate: TestTollgate,
  resourceServer: Credentials,
  token: string,
): Promise<Record<string, unknown>> {
  const reply = await introspect(tollgate, resourceServer, token);

  if (reply.status !== 200) {
    throw new Error(`introspection failed: ${reply.status} ${reply.text}`);
  }

  return reply.body;
}

/** IN-04: an inactive token is answered with exactly `{"active": false}`. */
export async function expectInactive(
  tollgate: TestTollgate,
  resourceServer: Credentials,
  token: string,
): Promise<void> {
  const reply = await introspect(tollgate, resourceServer, token);

  expect({ status: reply.status, body: JSON.parse(reply.text) as unknown }).toStrictEqual({
    status: 200,
    body: { active: false },
  });
}

/** Ledger events of one agent, newest first, optionally of some kinds only. */
export function ledgerOf(
  tollgate: TestTollgate,
  agentId: string,
  kinds?: string[],
): Promise<LedgerEventRow[]> {
  return listLedgerEvents(tollgate.test.database.db, { agentId, kinds, limit: 200 });
}

/** Ledger events of one session, newest first. */
export function sessionLedger(
  tollgate: TestTollgate,
  sessionId: string,
  kinds?: string[],
): Promise<LedgerEventRow[]> {
  return listLedgerEvents(tollgate.test.database.db, { sessionId, kinds, limit: 200 });
}

/**
 * Asserts an RFC 6749 §5.2 refusal of an exchange and the `exchange.refused` ledger row it
 * must leave behind, with its stable reason.
 */
export async function expectRefusal(
  tollgate: TestTollgate,
  reply: OAuthReply,
  agent: TestAgent,
  error: string,
  reason?: string,
): Promise<void> {
  expectOAuthError(reply, 400, error);

  const [latest] = await ledgerOf(tollgate, agent.id, ['exchange.refused']);

  expect(latest?.data).toMatchObject({ error, ...(reason === undefined ? {} : { reason }) });
}

/** The session row behind a session id, as the database holds it. */
export async function sessionRow(tollgate: TestTollgate, sessionId: string) {
  const row = await findSession(tollgate.test.database.db, sessionId);

  if (row === undefined) {
    throw new Error(`no session ${sessionId}`);
  }

  return row;
}

/** Builds an `act` claim of the given depth, outermost first, from actor names. */
export function actorChain(...subjects: string[]): Record<string, unknown> | undefined {
  const [first, ...rest] = subjects;

  if (first === undefined) {
    return undefined;
  }

  const nested = actorChain(...rest);

  return nested === undefined ? { sub: first } : { sub: first, act: nested };
}
