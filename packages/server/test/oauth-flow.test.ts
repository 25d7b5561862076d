import * as client from 'openid-client';

import { tokenIdOf } from '@tollgate/core';

import { availableBackends } from '../../db/test/support/database.js';
import {
  agentToken,
  expectErrorCode,
  expectOAuthError,
  introspect,
  isActive,
  requestToken,
  revoke,
  secretClient,
} from './support/oauth.js';
import {
  disableAgent,
  enableAgent,
  registerAgent,
  registerResourceServer,
  type RegisteredAgent,
  type RegisteredResourceServer,
} from './support/registry.js';
import { startTestTollgate, type TestTollgate } from './support/tollgate.js';

const AUDIENCE = 'https://tools.example.com/';

describe.each(availableBackends())('core OAuth flow on %s', (backend) => {
  let tollgate: TestTollgate;
  let resourceServer: RegisteredResourceServer;
  let rsClient: client.Configuration;

  /** A fresh agent allowed two tools on the one audience, with openid-client set up for it. */
  async function newAgent(): Promise<{ agent: RegisteredAgent; config: client.Configuration }> {
    const agent = await registerAgent(tollgate, {
      tools: ['search', 'tickets.read'],
      audiences: [AUDIENCE],
    });

    return { agent, config: await secretClient(tollgate, agent) };
  }

  beforeAll(async () => {
    tollgate = await startTestTollgate({ backend });
    resourceServer = await registerResourceServer(tollgate, AUDIENCE);
    rsClient = await secretClient(tollgate, resourceServer);
  });

  afterAll(async () => {
    await tollgate.stop();
  });

  it('issues a token that the resource server introspects with every RFC 7662 member', async () => {
    const { agent, config } = await newAgent();
    const before = Math.floor(Date.now() / 1000);
    const token = await agentToken(config, 'search', AUDIENCE);
    const result = await client.tokenIntrospection(rsClient, token);
    const ledgerRow = await tollgate.test.database.db
      .selectFrom('ledger_events')
      .select(['token_id'])
      .where('kind', '=', 'token.issued')
      .where('client_id', '=', agent.clientId)
      .executeTakeFirstOrThrow();

    expect(result).toMatchObject({
      active: true,
      client_id: agent.clientId,
      sub: agent.clientId,
      scope: 'search',
      aud: AUDIENCE,
      iss: tollgate.issuer,
      token_type: 'Bearer',
    });
    expect(result.iat).toBeGreaterThanOrEqual(before - 1);
    expect(result.iat).toBeLessThanOrEqual(Math.floor(Date.now() / 1000));
    expect(result.exp).toBe((result.iat ?? 0) + 600);
    expect(result.jti).toBe(ledgerRow.token_id);
    expect(result.jti).toBe(tokenIdOf(token));
    expect(result.jti).not.toBe(token);
  });

  it('lets an agent revoke its own token, which is inactive at once', async () => {
    const { agent, config } = await newAgent();
    const token = await agentToken(config, 'search', AUDIENCE);

    expect(await isActive(tollgate, resourceServer, token)).toBe(true);
    await client.tokenRevocation(config, token);
    expect(await introspect(tollgate, resourceServer, token)).toMatchObject({
      status: 200,
      body: { active: false },
    });

    // RFC 7009 §2.2: revoking it again is still a success.
    const again = await revoke(tollgate, agent, token);

    expect(again.status).toBe(200);
  });

  it.each([
    ['an unknown token', 'c0ffee-this-token-was-never-issued'],
    ['garbage', '%%% not a token %%%'],
    ['a JWT-looking string', 'eyJhbGciOiJIUzI1NiJ9.e30.x'],
  ])('answers 200 to the revocation of %s', async (_label, value) => {
    const { agent } = await newAgent();
    const reply = await revoke(tollgate, agent, value);

    expect(reply.status).toBe(200);
  });

  it("refuses to revoke another agent's token, which stays active", async () => {
    const owner = await newAgent();
    const other = await newAgent();
    const token = await agentToken(owner.config, 'search', AUDIENCE);
    const reply = await revoke(tollgate, other.agent, token);

    // RFC 7009 §2.1 leaves the error open; Tollgate answers invalid_request (the
    // Cache-Control of this answer is checked in token-errors.test.ts).
    expectErrorCode(reply, 400, 'invalid_request');
    expect(await isActive(tollgate, resourceServer, token)).toBe(true);
  });

  it('ends tokens on disable and does not bring them back on enable', async () => {
    const { agent, config } = await newAgent();
    const oldToken = await agentToken(config, 'search', AUDIENCE);

    await disableAgent(tollgate, agent.id);
    expect(await isActive(tollgate, resourceServer, oldToken)).toBe(false);
    expectOAuthError(
      await requestToken(tollgate, agent, { scope: 'search', resource: AUDIENCE }),
      401,
      'invalid_client',
    );

    await enableAgent(tollgate, agent.id);
    const newToken = await agentToken(config, 'tickets.read', AUDIENCE);

    expect(await isActive(tollgate, resourceServer, newToken)).toBe(true);
    expect(await isActive(tollgate, resourceServer, oldToken)).toBe(false);
  });
});
