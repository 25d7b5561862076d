import { randomUUID } from 'node:crypto';

import {
  CLI_AUDIT,
  createAgent,
  createResourceServer,
  tokenIdOf,
  type CreateAgentInput,
} from '@tollgate/core';
import type { LedgerEventRow } from '@tollgate/db';

import type { Credentials, OAuthReply } from './oauth.js';
import { requestToken } from './oauth.js';
import { basicAuth, clientCredentialsToken, type TestTollgate } from './tollgate.js';

/** A client registered through core, with what it needs to authenticate. */
export interface SpendClient extends Credentials {
  id: string;
}

export type SpendAgentInput = Omit<CreateAgentInput, 'name' | 'owner'> & {
  name?: string;
  owner?: string;
};

let registered = 0;

/** Registers a secret-authenticated agent (owner `spend-tests` unless given). */
export async function spendAgent(
  tollgate: TestTollgate,
  input: SpendAgentInput,
): Promise<SpendClient> {
  const created = await createAgent(
    tollgate.test.database.db,
    { name: `spend-agent-${++registered}`, owner: 'spend-tests', ...input },
    CLI_AUDIT,
  );

  return {
    id: created.agent.id,
    clientId: created.agent.client_id,
    secret: created.client_secret ?? '',
  };
}

/** Registers a resource server (a gateway reporting usage) for one audience. */
export async function spendServer(tollgate: TestTollgate, audience: string): Promise<SpendClient> {
  const created = await createResourceServer(
    tollgate.test.database.db,
    { name: `spend-rs-${++registered}`, audience },
    CLI_AUDIT,
  );

  return {
    id: created.resource_server.id,
    clientId: created.resource_server.client_id,
    secret: created.client_secret,
  };
}

/** A client_credentials token of an agent with a single audience. */
export function tokenOf(tollgate: TestTollgate, agent: Credentials, scope: string) {
  return clientCredentialsToken(tollgate.issuer, agent.clientId, agent.secret, scope);
}

/** A client_credentials token request whose answer the test inspects (refusals included). */
export function askToken(tollgate: TestTollgate, agent: Credentials, scope: string) {
  return requestToken(tollgate, agent, { scope });
}

/** Asserts a token refusal for a used-up budget, naming the budget in its description. */
export function expectBudgetExceeded(reply: OAuthReply, budgetName: string | RegExp): void {
  expect({ status: reply.status, error: reply.body.error }).toEqual({
    status: 400,
    error: 'budget_exceeded',
  });
  expect(reply.body.error_description).toEqual(expect.stringMatching(budgetName));
}

export interface UsageReply {
  status: number;
  headers: Headers;
  body: Record<string, unknown>;
  text: string;
}

/** POST /usage as a resource server: HTTP Basic from credentials, a raw header, or none. */
export async function postUsage(
  tollgate: TestTollgate,
  reporter: Credentials | string | undefined,
  body: unknown,
): Promise<UsageReply> {
  const authorization =
    typeof reporter === 'object' ? basicAuth(reporter.clientId, reporter.secret) : reporter;
  const response = await fetch(`${tollgate.issuer}/usage`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      ...(authorization === undefined ? {} : { authorization }),
    },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await response.text();

  return {
    status: response.status,
    headers: response.headers,
    body: text === '' ? {} : (JSON.parse(text) as Record<string, unknown>),
    text,
  };
}

/** A usage report body for a token, with a fresh idempotency key unless given. */
export function usageOf(token: string, fields: Record<string, unknown> = {}) {
  return {
    token,
    tool: 'llm',
    input_tokens: 10,
    output_tokens: 0,
    idempotency_key: `usage-${randomUUID()}`,
    ...fields,
  };
}

/** Reports usage and insists on 201. */
export async function reportOk(
  tollgate: TestTollgate,
  reporter: Credentials,
  body: Record<string, unknown>,
): Promise<Record<string, unknown>> {
  const reply = await postUsage(tollgate, reporter, body);

  if (reply.status !== 201) {
    throw new Error(`usage report failed: ${reply.status} ${reply.text}`);
  }

  return reply.body;
}

/** Asserts an application/problem+json answer with its status and code. */
export function expectProblem(reply: UsageReply, status: number, code: string): void {
  expect({ status: reply.status, code: reply.body.code }).toEqual({ status, code });
  expect(reply.headers.get('content-type')).toMatch(/^application\/problem\+json/);
}

const MINUTE_MS = 60_000;

/**
 * A fake clock for a token's life: moves its issue, its revocation and its session's opening
 * and close `minutes` into the past, as if that much time had gone by since.
 */
export async function ageToken(
  tollgate: TestTollgate,
  token: string,
  ages: { issued: number; ended: number },
): Promise<void> {
  const tokenId = tokenIdOf(token);

  await tollgate.test.database.scriptTransaction(async (run) => {
    await run(
      `UPDATE access_tokens SET issued_at = issued_at - $2 * interval '1 minute',
              revoked_at = revoked_at - $3 * interval '1 minute'
       WHERE token_id = $1`,
      [tokenId, ages.issued, ages.ended],
    );
    await run(
      `UPDATE sessions SET opened_at = opened_at - $2 * interval '1 minute',
              closed_at = closed_at - $3 * interval '1 minute'
       WHERE id = (SELECT session_id FROM access_tokens WHERE token_id = $1)`,
      [tokenId, ages.issued, ages.ended],
    );
  });
}

/** An instant `minutes` ago, as an RFC 3339 string. */
export const minutesAgo = (minutes: number): string =>
  new Date(Date.now() - minutes * MINUTE_MS).toISOString();

/** Ledger events of some kinds, oldest first, optionally of one agent. */
export async function eventsOf(
  tollgate: TestTollgate,
  kinds: string[],
  agentId?: string,
): Promise<LedgerEventRow[]> {
  let query = tollgate.test.database.db
    .selectFrom('ledger_events')
    .selectAll()
    .where('kind', 'in', kinds);

  if (agentId !== undefined) {
    query = query.where('agent_id', '=', agentId);
  }

  return query.orderBy('id').execute();
}

/** The session a token belongs to. */
export async function sessionOfToken(tollgate: TestTollgate, token: string): Promise<string> {
  const row = await tollgate.test.database.db
    .selectFrom('access_tokens')
    .select('session_id')
    .where('token_id', '=', tokenIdOf(token))
    .executeTakeFirstOrThrow();

  if (row.session_id === null) {
    throw new Error('the token has no session');
  }

  return row.session_id;
}
