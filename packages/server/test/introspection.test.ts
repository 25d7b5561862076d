import { setTimeout as sleep } from 'node:timers/promises';

import {
  expectOAuthError,
  introspect,
  isActive,
  revoke,
  type Credentials,
} from './support/oauth.js';
import {
  disableAgent,
  registerAgent,
  registerResourceServer,
  type RegisteredAgent,
  type RegisteredResourceServer,
} from './support/registry.js';
import {
  clientCredentialsToken,
  startTestTollgate,
  type TestTollgate,
} from './support/tollgate.js';

const TOOLS_AUDIENCE = 'https://tools.example.com/';
const MAIL_AUDIENCE = 'https://mail.example.com/';

describe('introspection (RFC 7662)', () => {
  let tollgate: TestTollgate;
  let tools: RegisteredResourceServer;
  let mail: RegisteredResourceServer;

  const newAgent = (extra: { token_ttl_seconds?: number } = {}): Promise<RegisteredAgent> =>
    registerAgent(tollgate, { tools: ['search'], audiences: [TOOLS_AUDIENCE], ...extra });

  const tokenOf = (agent: RegisteredAgent): Promise<string> =>
    clientCredentialsToken(tollgate.issuer, agent.clientId, agent.secret, 'search', TOOLS_AUDIENCE);

  /** IN-04: exactly `{"active": false}`, with 200 and no other member. */
  async function expectInactive(caller: Credentials, token: string): Promise<void> {
    const reply = await introspect(tollgate, caller, token);

    expect(reply.status).toBe(200);
    expect(reply.headers.get('content-type')).toMatch(/^application\/json/);
    expect(JSON.parse(reply.text)).toStrictEqual({ active: false });
  }

  beforeAll(async () => {
    tollgate = await startTestTollgate();
    tools = await registerResourceServer(tollgate, TOOLS_AUDIENCE);
    mail = await registerResourceServer(tollgate, MAIL_AUDIENCE);
  });

  afterAll(async () => {
    await tollgate.stop();
  });

  it.each([
    ['an unknown token', 'bm90LWEtdG9rZW4tdGhhdC13YXMtZXZlci1pc3N1ZWQtYnktdGhpcw'],
    ['garbage', '%%% not a token \u00e9\u00e8 %%%'],
    ['a JWT-looking string', 'eyJhbGciOiJIUzI1NiJ9.e30.x'],
  ])('answers exactly {"active":false} for %s', async (_label, value) => {
    await expectInactive(tools, value);
  });

  it('answers exactly {"active":false} for an expired token', async () => {
    const agent = await newAgent({ token_ttl_seconds: 1 });
    const token = await tokenOf(agent);

    expect(await isActive(tollgate, tools, token)).toBe(true);
    // The one sleep of the suite: the server's clock must pass the token's 1 s lifetime.
    await sleep(2200);
    await expectInactive(tools, token);
  });

  it('answers exactly {"active":false} for a revoked token', async () => {
    const agent = await newAgent();
    const token = await tokenOf(agent);

    expect((await revoke(tollgate, agent, token)).status).toBe(200);
    await expectInactive(tools, token);
  });

  it('answers exactly {"active":false} to a resource server of another audience', async () => {
    const token = await tokenOf(await newAgent());

    await expectInactive(mail, token);
    expect(await isActive(tollgate, tools, token)).toBe(true);
  });

  it('answers exactly {"active":false} for a token whose agent is disabled', async () => {
    const agent = await newAgent();
    const token = await tokenOf(agent);

    await disableAgent(tollgate, agent.id);
    await expectInactive(tools, token);
  });

  it('answers exactly {"active":false} to an agent caller', async () => {
    const agent = await newAgent();
    const token = await tokenOf(agent);

    await expectInactive(agent, token);
    expect(await isActive(tollgate, tools, token)).toBe(true);
  });

  it('finds an active token whatever the token_type_hint says (IN-01)', async () => {
    const agent = await newAgent();
    const token = await tokenOf(agent);

    for (const hint of ['refresh_token', 'access_token', 'something_else']) {
      const reply = await introspect(tollgate, tools, token, { token_type_hint: hint });

      expect({ hint, active: reply.body.active, client_id: reply.body.client_id }).toEqual({
        hint,
        active: true,
        client_id: agent.clientId,
      });
    }
  });

  it('answers 401 invalid_client to a caller that does not authenticate (IN-02)', async () => {
    const token = await tokenOf(await newAgent());
    const reply = await introspect(tollgate, undefined, token);

    expectOAuthError(reply, 401, 'invalid_client');
  });

  it('answers 401 invalid_client to a resource server with a bad secret (IN-02)', async () => {
    const token = await tokenOf(await newAgent());
    const reply = await introspect(tollgate, { ...tools, secret: `${tools.secret}x` }, token);

    expectOAuthError(reply, 401, 'invalid_client');
    expect(reply.body).not.toHaveProperty('active');
  });
});
