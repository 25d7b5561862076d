import * as client from 'openid-client';

import {
  agentToken,
  discover,
  introspect,
  postForm,
  requestToken,
  revoke,
  secretClient,
  wrongSecret,
} from './support/oauth.js';
import { addSecret, registerAgent, registerResourceServer } from './support/registry.js';
import { startTestTollgate, type TestTollgate } from './support/tollgate.js';

const AUDIENCE = 'https://tools.example.com/';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

type LogLine = Record<string, unknown>;

describe('logging', () => {
  let tollgate: TestTollgate;
  /** Every credential the flow below handled; none may appear in any log line. */
  const credentials: string[] = [];

  const lines = (): LogLine[] => tollgate.logLines.map((line) => JSON.parse(line) as LogLine);

  /** A full flow touching every endpoint, with every kind of credential on the wire. */
  async function fullFlow(): Promise<void> {
    const resourceServer = await registerResourceServer(tollgate, AUDIENCE);
    const agent = await registerAgent(tollgate, { tools: ['search'], audiences: [AUDIENCE] });
    const postAgent = await registerAgent(tollgate, {
      tools: ['search'],
      audiences: [AUDIENCE],
      token_endpoint_auth_method: 'client_secret_post',
    });
    const token = await agentToken(await secretClient(tollgate, agent), 'search');
    const postConfig = await discover(
      tollgate,
      postAgent.clientId,
      client.ClientSecretPost(postAgent.secret),
    );
    const postToken = await agentToken(postConfig, 'search');
    const adminToken = await tollgate.adminToken();
    const rotated = await addSecret(tollgate, agent.id, { old_secrets_expire_in_seconds: 60 });
    const badSecret = wrongSecret(agent.secret);

    await client.tokenIntrospection(await secretClient(tollgate, resourceServer), token);
    await introspect(
      tollgate,
      { ...resourceServer, secret: wrongSecret(resourceServer.secret) },
      token,
    );
    await requestToken(tollgate, { ...agent, secret: badSecret }, { scope: 'search' });
    await revoke(tollgate, agent, postToken);
    await fetch(`${tollgate.issuer}/healthz?access_token=${token}`);
    await fetch(`${tollgate.adminUrl}/v1/agents`, {
      headers: { authorization: `Bearer ${adminToken}` },
    });
    await postForm(tollgate, 'token', `grant_type=client_credentials&client_secret=${badSecret}`);

    credentials.push(
      tollgate.admin.clientSecret,
      adminToken,
      resourceServer.secret,
      agent.secret,
      postAgent.secret,
      rotated.secret,
      badSecret,
      token,
      postToken,
    );
  }

  beforeAll(async () => {
    tollgate = await startTestTollgate();
    await fullFlow();
  });

  afterAll(async () => {
    await tollgate.stop();
  });

  it('never writes a client secret or a token value', () => {
    const text = tollgate.logLines.join('');

    expect(credentials).toHaveLength(9);
    expect(credentials.filter((value) => text.includes(value))).toEqual([]);
    // The flow did log its two agent tokens, by client id only.
    const agentGrants = lines().filter(
      (line) => line.event === 'grant.success' && String(line.clientId).startsWith('agt_'),
    );

    expect(agentGrants).toHaveLength(2);
  });

  it('gives every request line a reqId, on both listeners', () => {
    const requests = lines().filter((line) => line.event === 'http.request');
    const paths = new Set(requests.map((line) => line.path));

    expect(requests.length).toBeGreaterThan(15);
    expect(requests.filter((line) => typeof line.reqId !== 'string' || line.reqId === '')).toEqual(
      [],
    );
    expect([...paths]).toEqual(
      expect.arrayContaining(['/token', '/token/introspection', '/token/revocation', '/v1/agents']),
    );
  });

  it('echoes a caller X-Request-Id and logs the request under it', async () => {
    const reply = await requestToken(
      tollgate,
      { clientId: 'agt_000000000000000000000000', secret: 'tgsk_nope' },
      { scope: 'search' },
    );
    const traced = await fetch(`${tollgate.issuer}/token`, {
      method: 'POST',
      headers: {
        'x-request-id': 'e2e-trace:42',
        'content-type': 'application/x-www-form-urlencoded',
      },
      body: 'grant_type=client_credentials',
    });
    const logged = lines().filter((line) => line.reqId === 'e2e-trace:42');

    expect(reply.headers.get('x-request-id')).toMatch(UUID);
    expect(traced.headers.get('x-request-id')).toBe('e2e-trace:42');
    expect(logged).toContainEqual(
      expect.objectContaining({ event: 'http.request', path: '/token', status: traced.status }),
    );
  });

  it('replaces an unacceptable X-Request-Id with its own', async () => {
    const response = await fetch(`${tollgate.issuer}/healthz`, {
      headers: { 'x-request-id': 'has spaces and "quotes"' },
    });

    expect(response.headers.get('x-request-id')).toMatch(UUID);
  });
});
