import { randomUUID } from 'node:crypto';

import { createAdmin, CLI_AUDIT } from '@tollgate/core';
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey } from 'jose';

import { createTestDatabase, type TestDatabase } from '../../db/test/support/database.js';
import { startInstance } from './support/instance.js';
import { isActive, postForm, requestToken, revoke, type Credentials } from './support/oauth.js';
import {
  addSecret,
  disableAgent,
  registerAgent,
  registerKeyAgent,
  registerResourceServer,
  type RegisteredResourceServer,
} from './support/registry.js';
import { clientCredentialsToken, freePort, type TestTollgate } from './support/tollgate.js';

const AUDIENCE = 'https://tools.example.com/';
const KID = 'scale-key-1';
const JWT_BEARER = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';

/** Several instances need a real shared server; the embedded engine is single-process. */
const describePostgres = process.env.DATABASE_URL === undefined ? describe.skip : describe;

describePostgres('three instances on one database', () => {
  let test: TestDatabase;
  let a: TestTollgate;
  let b: TestTollgate;
  let c: TestTollgate;
  /** The issuer every instance announces, as behind one load balancer. */
  let issuer: string;
  let resourceServer: RegisteredResourceServer;

  const all = () => [a, b, c];

  const newAgent = () => registerAgent(a, { tools: ['search'], audiences: [AUDIENCE] });

  const tokenOn = (instance: TestTollgate, agent: Credentials) =>
    clientCredentialsToken(instance.issuer, agent.clientId, agent.secret, 'search');

  const activeOn = (instances: TestTollgate[], token: string) =>
    Promise.all(instances.map((instance) => isActive(instance, resourceServer, token)));

  beforeAll(async () => {
    test = await createTestDatabase('postgres');
    const created = await createAdmin(test.database.db, 'scale-admin', CLI_AUDIT);
    const admin = { clientId: created.client_id, clientSecret: created.client_secret };
    const [portA, portB, portC] = await distinctFreePorts(3);
    const start = (port: number | undefined) => startInstance({ test, admin, issuer, port });
    issuer = `http://127.0.0.1:${portA}`;

    [a, b, c] = await Promise.all([start(portA), start(portB), start(portC)]);
    resourceServer = await registerResourceServer(a, AUDIENCE);
  });

  afterAll(async () => {
    await Promise.all(all().map((instance) => instance.stop()));
    await test.drop();
  });

  it('runs each instance on its own port and its own pool', () => {
    const urls = all().map((instance) => instance.issuer);

    expect(new Set(urls).size).toBe(3);
    expect(new Set(all().map((instance) => instance.server.database)).size).toBe(3);
    expect(all().map((instance) => instance.server.database)).not.toContain(test.database);
  });

  it('introspects a token minted on A as active on B and C', async () => {
    const token = await tokenOn(a, await newAgent());

    expect(await activeOn([b, c], token)).toEqual([true, true]);
  });

  it('honours a revocation on B at once on C (and A)', async () => {
    const agent = await newAgent();
    const token = await tokenOn(a, agent);

    expect(await activeOn([c], token)).toEqual([true]);
    expect((await revoke(b, agent, token)).status).toBe(200);
    expect(await activeOn([c, a], token)).toEqual([false, false]);
  });

  it('stops an agent disabled through A at once on B and C', async () => {
    const agent = await newAgent();
    const token = await tokenOn(c, agent);

    expect(await activeOn([b, c], token)).toEqual([true, true]);
    await disableAgent(a, agent.id);

    expect(await activeOn([b, c], token)).toEqual([false, false]);
    const refused = await requestToken(c, agent, { scope: 'search' });
    expect({ status: refused.status, error: refused.body.error }).toEqual({
      status: 401,
      error: 'invalid_client',
    });
  });

  it('refuses on C a secret rotated out on A, although C had just accepted it', async () => {
    const agent = await newAgent();

    // Twice, so that the second acceptance comes from C's verification cache.
    await tokenOn(c, agent);
    await tokenOn(c, agent);
    const rotated = await addSecret(a, agent.id, { old_secrets_expire_in_seconds: 0 });

    const refused = await requestToken(c, agent, { scope: 'search' });
    expect({ status: refused.status, error: refused.body.error }).toEqual({
      status: 401,
      error: 'invalid_client',
    });
    const fresh = await tokenOn(c, { clientId: agent.clientId, secret: rotated.secret });
    expect(await activeOn([a, b], fresh)).toEqual([true, true]);
  });

  it('ends on A and B a session closed on C', async () => {
    const token = await tokenOn(a, await newAgent());
    const closed = await fetch(`${c.issuer}/sessions/close`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}` },
    });

    expect(closed.status).toBe(200);
    expect(await closed.json()).toMatchObject({ state: 'closed' });
    expect(await activeOn([a, b], token)).toEqual([false, false]);
  });

  describe('private_key_jwt replay across instances', () => {
    let privateKey: CryptoKey;
    let clientId: string;

    /** RFC 7523 §3: aud is the issuer every instance shares. */
    const assertion = () =>
      new SignJWT({})
        .setProtectedHeader({ alg: 'ES256', kid: KID })
        .setIssuer(clientId)
        .setSubject(clientId)
        .setAudience(issuer)
        .setJti(randomUUID())
        .setIssuedAt()
        .setExpirationTime('60s')
        .sign(privateKey);

    const tokenWith = (instance: TestTollgate, signed: string) =>
      postForm(
        instance,
        'token',
        new URLSearchParams({
          grant_type: 'client_credentials',
          scope: 'search',
          client_id: clientId,
          client_assertion_type: JWT_BEARER,
          client_assertion: signed,
        }),
      );

    beforeAll(async () => {
      const pair = await generateKeyPair('ES256', { extractable: true });
      const publicJwk = { ...(await exportJWK(pair.publicKey)), kid: KID, alg: 'ES256' };
      const agent = await registerKeyAgent(a, {
        tools: ['search'],
        audiences: [AUDIENCE],
        jwks: { keys: [publicJwk] },
      });

      privateKey = pair.privateKey;
      clientId = agent.clientId;
    });

    it('accepts an assertion on any instance (the shared issuer as aud)', async () => {
      const statuses = [];

      for (const instance of all()) {
        statuses.push((await tokenWith(instance, await assertion())).status);
      }

      expect(statuses).toEqual([200, 200, 200]);
    });

    it('lets one assertion sent to A and B at the same moment through exactly once', async () => {
      for (let round = 0; round < 8; round += 1) {
        const signed = await assertion();
        const replies = await Promise.all([tokenWith(a, signed), tokenWith(b, signed)]);

        expect(replies.map((reply) => reply.status).sort()).toEqual([200, 401]);
        expect(replies.find((reply) => reply.status === 401)?.body.error).toBe('invalid_client');
      }
    });

    it('refuses on C an assertion A and B have seen', async () => {
      const signed = await assertion();
      const replies = await Promise.all(all().map((instance) => tokenWith(instance, signed)));

      expect(replies.filter((reply) => reply.status === 200)).toHaveLength(1);
      expect((await tokenWith(c, signed)).status).toBe(401);
    });
  });

  it('serves the same JWKS (the same kid) on every instance', async () => {
    const kids = await Promise.all(
      all().map(async (instance) => {
        const response = await fetch(`${instance.issuer}/jwks`);
        const jwks = (await response.json()) as { keys: { kid: string }[] };

        return jwks.keys.map((key) => key.kid).sort();
      }),
    );

    expect(kids[0]?.length).toBeGreaterThan(0);
    expect(kids[1]).toEqual(kids[0]);
    expect(kids[2]).toEqual(kids[0]);
  });
});

/** Free loopback ports, all different (a probe may hand the same port out twice). */
async function distinctFreePorts(count: number): Promise<number[]> {
  const ports = new Set<number>();

  while (ports.size < count) {
    ports.add(await freePort());
  }

  return [...ports];
}
