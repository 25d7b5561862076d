import * as client from 'openid-client';

import { tokenIdOf } from '@tollgate/core';

import {
  agentToken,
  discover,
  expectOAuthError,
  postForm,
  requestToken,
  type Credentials,
} from './support/oauth.js';
import {
  addSecret,
  registerAgent,
  registerResourceServer,
  revokeSecret,
  type RegisteredAgent,
} from './support/registry.js';
import { startTestTollgate, type TestTollgate } from './support/tollgate.js';

const AUDIENCE = 'https://tools.example.com/';

describe('client secrets', () => {
  let tollgate: TestTollgate;
  /** Every clear secret and token value this file saw; none may ever reach the database. */
  const issuedValues: string[] = [];

  async function newAgent(
    method?: 'client_secret_basic' | 'client_secret_post',
  ): Promise<RegisteredAgent> {
    const agent = await registerAgent(tollgate, {
      tools: ['search'],
      audiences: [AUDIENCE],
      ...(method === undefined ? {} : { token_endpoint_auth_method: method }),
    });

    issuedValues.push(agent.secret);

    return agent;
  }

  /** The status of a token request with HTTP Basic; keeps the token for the leak check. */
  async function tokenStatus(credentials: Credentials): Promise<number> {
    const reply = await requestToken(tollgate, credentials, { scope: 'search' });

    if (typeof reply.body.access_token === 'string') {
      issuedValues.push(reply.body.access_token);
    }

    return reply.status;
  }

  async function rotate(agent: RegisteredAgent, overlapSeconds: number): Promise<Credentials> {
    const { secret } = await addSecret(tollgate, agent.id, {
      old_secrets_expire_in_seconds: overlapSeconds,
    });

    issuedValues.push(secret);

    return { clientId: agent.clientId, secret };
  }

  beforeAll(async () => {
    tollgate = await startTestTollgate();
    issuedValues.push(tollgate.admin.clientSecret);
  });

  afterAll(async () => {
    await tollgate.stop();
  });

  it('rotates without overlap: the old secret fails at once, the new one works', async () => {
    const agent = await newAgent();

    expect(await tokenStatus(agent)).toBe(200);
    const next = await rotate(agent, 0);

    expectOAuthError(
      await requestToken(tollgate, agent, { scope: 'search' }),
      401,
      'invalid_client',
    );
    expect(await tokenStatus(next)).toBe(200);
  });

  it('rotates with overlap: both secrets work until the old one expires', async () => {
    const agent = await newAgent();

    expect(await tokenStatus(agent)).toBe(200);
    const next = await rotate(agent, 3600);

    expect(await tokenStatus(agent)).toBe(200);
    expect(await tokenStatus(next)).toBe(200);
  });

  it('refuses a revoked secret at once, even just after it verified', async () => {
    const agent = await newAgent();
    const next = await rotate(agent, 3600);

    // Two successes: the second is served by the verification cache.
    expect(await tokenStatus(agent)).toBe(200);
    expect(await tokenStatus(agent)).toBe(200);
    await revokeSecret(tollgate, agent.id, agent.secretId);

    expectOAuthError(
      await requestToken(tollgate, agent, { scope: 'search' }),
      401,
      'invalid_client',
    );
    expect(await tokenStatus(next)).toBe(200);
  });

  it('accepts client_secret_post, through openid-client and as a raw form body', async () => {
    const agent = await newAgent('client_secret_post');
    const config = await discover(tollgate, agent.clientId, client.ClientSecretPost(agent.secret));
    const token = await agentToken(config, 'search');
    const form = new URLSearchParams({
      grant_type: 'client_credentials',
      scope: 'search',
      client_id: agent.clientId,
      client_secret: agent.secret,
    });
    const reply = await postForm(tollgate, 'token', form);
    const wrong = new URLSearchParams({ ...Object.fromEntries(form), client_secret: 'tgsk_x' });

    issuedValues.push(token, String(reply.body.access_token));
    expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(reply.status).toBe(200);
    expectOAuthError(await postForm(tollgate, 'token', wrong), 401, 'invalid_client');
  });

  it('stores only argon2id hashes, and no row holds a secret or token value', async () => {
    const { db } = tollgate.test.database;
    const resourceServer = await registerResourceServer(tollgate, AUDIENCE);

    const agent = await newAgent();
    const reply = await requestToken(tollgate, agent, { scope: 'search' });
    const token = String(reply.body.access_token);

    issuedValues.push(resourceServer.secret, token);

    const secrets = await db.selectFrom('client_secrets').select(['id', 'hash']).execute();
    const dump = JSON.stringify({
      clients: await db.selectFrom('clients').selectAll().execute(),
      client_secrets: secrets,
      access_tokens: await db.selectFrom('access_tokens').selectAll().execute(),
      ledger_events: await db.selectFrom('ledger_events').selectAll().execute(),
      oidc_models: await db.selectFrom('oidc_models').selectAll().execute(),
    });

    // Admin, resource server and the agents above: at least one secret each.
    expect(secrets.length).toBeGreaterThanOrEqual(8);
    expect(secrets.filter((row) => !row.hash.startsWith('$argon2id$'))).toEqual([]);
    expect(issuedValues.length).toBeGreaterThanOrEqual(15);
    expect(issuedValues.filter((value) => dump.includes(value))).toEqual([]);
    // The dump does hold the tokens: by their digest, never by their value.
    expect(dump).toContain(tokenIdOf(token));
  });
});
