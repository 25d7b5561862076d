import { randomBytes, randomUUID } from 'node:crypto';

import { exportJWK, generateKeyPair, SignJWT, type CryptoKey } from 'jose';
import * as client from 'openid-client';

import { agentToken, discover, expectOAuthError, isActive, postForm } from './support/oauth.js';
import {
  registerKeyAgent,
  registerResourceServer,
  type KeyAgent,
  type RegisteredResourceServer,
} from './support/registry.js';
import { startTestTollgate, type TestTollgate } from './support/tollgate.js';

const AUDIENCE = 'https://tools.example.com/';
const KID = 'agent-key-1';
const JWT_BEARER = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';

describe('private_key_jwt client authentication', () => {
  let tollgate: TestTollgate;
  let resourceServer: RegisteredResourceServer;
  let agent: KeyAgent;
  let privateKey: CryptoKey;

  /** A client assertion as RFC 7523 §3 describes it, for the token endpoint. */
  function assertion(key: CryptoKey | Uint8Array, alg = 'ES256'): Promise<string> {
    return new SignJWT({})
      .setProtectedHeader({ alg, kid: KID })
      .setIssuer(agent.clientId)
      .setSubject(agent.clientId)
      .setAudience(`${tollgate.issuer}/token`)
      .setJti(randomUUID())
      .setIssuedAt()
      .setExpirationTime('60s')
      .sign(key);
  }

  const tokenWith = (clientAssertion: string) =>
    postForm(
      tollgate,
      'token',
      new URLSearchParams({
        grant_type: 'client_credentials',
        scope: 'search',
        client_id: agent.clientId,
        client_assertion_type: JWT_BEARER,
        client_assertion: clientAssertion,
      }),
    );

  beforeAll(async () => {
    tollgate = await startTestTollgate();
    resourceServer = await registerResourceServer(tollgate, AUDIENCE);

    const pair = await generateKeyPair('ES256', { extractable: true });
    const publicJwk = { ...(await exportJWK(pair.publicKey)), kid: KID, alg: 'ES256' };

    privateKey = pair.privateKey;
    agent = await registerKeyAgent(tollgate, {
      tools: ['search'],
      audiences: [AUDIENCE],
      jwks: { keys: [publicJwk] },
    });
  });

  afterAll(async () => {
    await tollgate.stop();
  });

  it('issues a token to an agent that signs with its registered key (openid-client)', async () => {
    const config = await discover(
      tollgate,
      agent.clientId,
      client.PrivateKeyJwt({ key: privateKey, kid: KID }),
    );
    const token = await agentToken(config, 'search', AUDIENCE);

    expect(await isActive(tollgate, resourceServer, token)).toBe(true);
  });

  it('refuses a replayed client assertion', async () => {
    const signed = await assertion(privateKey);
    const first = await tokenWith(signed);
    const second = await tokenWith(signed);

    expect(first.status).toBe(200);
    expectOAuthError(second, 401, 'invalid_client');
    expect(second.body).not.toHaveProperty('access_token');
  });

  it('records a replay in the ledger as a failed authentication, with its reason', async () => {
    const signed = await assertion(privateKey);

    await tokenWith(signed);
    await tokenWith(signed);
    const failures = await tollgate.test.database.db
      .selectFrom('ledger_events')
      .select(['client_id', 'data'])
      .where('kind', '=', 'client.authentication_failed')
      .where('client_id', '=', agent.clientId)
      .execute();

    expect(failures.map((row) => row.data)).toContainEqual(
      expect.objectContaining({ endpoint: 'token', reason: 'assertion_replayed' }),
    );
    expect(JSON.stringify(failures)).not.toContain(signed);
  });

  it('lets exactly one of two concurrent requests with the same assertion through', async () => {
    const signed = await assertion(privateKey);
    const replies = await Promise.all([tokenWith(signed), tokenWith(signed)]);

    expect(replies.map((reply) => reply.status).sort()).toEqual([200, 401]);
    expect(replies.find((reply) => reply.status === 401)?.body.error).toBe('invalid_client');
  });

  it('refuses an assertion signed by another key under the registered kid', async () => {
    const stranger = await generateKeyPair('ES256');

    expectOAuthError(await tokenWith(await assertion(stranger.privateKey)), 401, 'invalid_client');
  });

  it('refuses an HS256 assertion (no shared-key HMAC for private_key_jwt)', async () => {
    const reply = await tokenWith(await assertion(randomBytes(32), 'HS256'));

    expectOAuthError(reply, 401, 'invalid_client');
  });
});
