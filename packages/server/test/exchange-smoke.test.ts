import { createAgent, createResourceServer, createTrustedIssuer, CLI_AUDIT } from '@tollgate/core';

import {
  startIdentityProvider,
  IDP_AUDIENCE,
  type TestIdentityProvider,
} from './support/identity-provider.js';
import { basicAuth, startTestTollgate, type TestTollgate } from './support/tollgate.js';

const EXCHANGE = 'urn:ietf:params:oauth:grant-type:token-exchange';
const JWT_TYPE = 'urn:ietf:params:oauth:token-type:jwt';
const ACCESS_TOKEN_TYPE = 'urn:ietf:params:oauth:token-type:access_token';

describe('token exchange smoke', () => {
  let tollgate: TestTollgate;
  let idp: TestIdentityProvider;

  beforeAll(async () => {
    tollgate = await startTestTollgate();
    idp = await startIdentityProvider();
  });

  afterAll(async () => {
    await tollgate.stop();
    await idp.close();
  });

  it('exchanges a user token, renews, introspects and closes the session', async () => {
    const { db } = tollgate.test.database;
    await createTrustedIssuer(
      db,
      { issuer: idp.issuer, jwks_uri: idp.jwksUri, audiences: [IDP_AUDIENCE] },
      CLI_AUDIT,
    );
    const agent = await createAgent(
      db,
      {
        name: 'a',
        owner: 'o',
        tools: ['search', 'mail.send', 'deploy'],
        audiences: ['https://tools.example.com'],
        delegation: { trusted_issuers: [idp.issuer] },
      },
      CLI_AUDIT,
    );
    const rs = await createResourceServer(
      db,
      { name: 'rs', audience: 'https://tools.example.com' },
      CLI_AUDIT,
    );
    const agentAuth = basicAuth(agent.agent.client_id, agent.client_secret ?? '');
    const rsAuth = basicAuth(rs.resource_server.client_id, rs.client_secret);
    const post = async (path: string, auth: string, body: Record<string, string>) => {
      const response = await fetch(`${tollgate.issuer}${path}`, {
        method: 'POST',
        headers: { authorization: auth },
        body: new URLSearchParams(body),
      });
      const text = await response.text();

      return {
        status: response.status,
        json: (text === '' ? {} : JSON.parse(text)) as Record<string, unknown>,
      };
    };

    const exchanged = await post('/token', agentAuth, {
      grant_type: EXCHANGE,
      subject_token: await idp.userToken(),
      subject_token_type: JWT_TYPE,
      scope: 'search mail.send',
      resource: 'https://tools.example.com',
    });
    expect(exchanged).toMatchObject({
      status: 200,
      json: {
        issued_token_type: ACCESS_TOKEN_TYPE,
        token_type: 'Bearer',
        scope: 'search mail.send',
      },
    });

    const token = String(exchanged.json.access_token);
    const introspected = await post('/token/introspection', rsAuth, { token });
    expect(introspected.json).toMatchObject({
      active: true,
      sub: 'alice@example.com',
      act: { sub: agent.agent.client_id },
      scope: 'search mail.send',
      session_state: 'open',
    });

    const renewed = await post('/token', agentAuth, {
      grant_type: EXCHANGE,
      subject_token: token,
      subject_token_type: ACCESS_TOKEN_TYPE,
      scope: 'search',
    });
    expect(renewed.status).toBe(200);
    const renewedIntrospection = await post('/token/introspection', rsAuth, {
      token: String(renewed.json.access_token),
    });
    expect(renewedIntrospection.json.sid).toBe(introspected.json.sid);

    const wider = await post('/token', agentAuth, {
      grant_type: EXCHANGE,
      subject_token: token,
      subject_token_type: ACCESS_TOKEN_TYPE,
      scope: 'deploy',
    });
    expect(wider).toMatchObject({ status: 400, json: { error: 'invalid_scope' } });

    const closed = await fetch(`${tollgate.issuer}/sessions/close`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}` },
    });
    expect(closed.status).toBe(200);
    await expect(post('/token/introspection', rsAuth, { token })).resolves.toEqual({
      status: 200,
      json: { active: false },
    });
    await expect(
      post('/token/introspection', rsAuth, { token: String(renewed.json.access_token) }),
    ).resolves.toEqual({ status: 200, json: { active: false } });
  });
});
