import * as client from 'openid-client';

import { startTestTollgate, type TestTollgate } from './support/tollgate.js';

/** Parsed response JSON, loosely typed so tests can poke at it (JSON.parse's own type). */
type Json = ReturnType<typeof JSON.parse>;

const PRIVATE_JWK_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k'];

describe('discovery and health', () => {
  let tollgate: TestTollgate;

  async function getJson(path: string): Promise<{ status: number; text: string; json: Json }> {
    const response = await fetch(`${tollgate.issuer}${path}`);
    const text = await response.text();

    return { status: response.status, text, json: JSON.parse(text) };
  }

  beforeAll(async () => {
    tollgate = await startTestTollgate();
  });

  afterAll(async () => {
    await tollgate.stop();
  });

  describe.each(['/.well-known/oauth-authorization-server', '/.well-known/openid-configuration'])(
    '%s',
    (path) => {
      it('names the issuer byte for byte (MD-01)', async () => {
        const { status, text, json } = await getJson(path);

        expect(status).toBe(200);
        expect(json.issuer).toBe(tollgate.issuer);
        expect(text).toContain(`"issuer":"${tollgate.issuer}"`);
      });

      it('publishes the endpoints and capabilities clients rely on (MD-02)', async () => {
        const { json } = await getJson(path);
        const issuer = tollgate.issuer;

        expect(json).toMatchObject({
          token_endpoint: `${issuer}/token`,
          introspection_endpoint: `${issuer}/token/introspection`,
          revocation_endpoint: `${issuer}/token/revocation`,
          jwks_uri: `${issuer}/jwks`,
          code_challenge_methods_supported: ['S256'],
        });
        expect(json.grant_types_supported).toContain('client_credentials');
        expect(json.token_endpoint_auth_methods_supported).toEqual(
          expect.arrayContaining(['client_secret_basic', 'client_secret_post', 'private_key_jwt']),
        );
        expect(json.token_endpoint_auth_signing_alg_values_supported).toContain('ES256');
        expect(json.token_endpoint_auth_signing_alg_values_supported).not.toContain('HS256');
      });

      it('publishes introspection and revocation auth methods (IN-08, RV-07)', async () => {
        const { json } = await getJson(path);
        const methods = ['client_secret_basic', 'client_secret_post', 'private_key_jwt'];

        expect({
          introspection: json.introspection_endpoint_auth_methods_supported,
          revocation: json.revocation_endpoint_auth_methods_supported,
        }).toEqual({
          introspection: expect.arrayContaining(methods),
          revocation: expect.arrayContaining(methods),
        });
      });
    },
  );

  it('serves the same document at both addresses', async () => {
    const oauth = await getJson('/.well-known/oauth-authorization-server');
    const openid = await getJson('/.well-known/openid-configuration');

    expect(oauth.json).toEqual(openid.json);
  });

  it.each(['oauth2', 'oidc'] as const)(
    'is accepted by openid-client discovery (%s)',
    async (algorithm) => {
      const config = await client.discovery(
        new URL(tollgate.issuer),
        'agt_discovery',
        undefined,
        client.None(),
        { execute: [client.allowInsecureRequests], algorithm },
      );

      expect(config.serverMetadata().issuer).toBe(tollgate.issuer);
    },
  );

  it('publishes only ES256 public signing keys in the JWKS', async () => {
    const { status, json } = await getJson('/jwks');
    const keys = json.keys as Record<string, unknown>[];

    expect(status).toBe(200);
    expect(keys.length).toBeGreaterThanOrEqual(1);

    for (const key of keys) {
      expect(key).toMatchObject({ kty: 'EC', crv: 'P-256', alg: 'ES256', use: 'sig' });
      expect(key.kid).toEqual(expect.any(String));
      expect(Object.keys(key).filter((member) => PRIVATE_JWK_MEMBERS.includes(member))).toEqual([]);
    }
  });

  it('answers /healthz with 200', async () => {
    expect(await getJson('/healthz')).toMatchObject({ status: 200, json: { status: 'ok' } });
  });

  it('answers /readyz with 200 while the database is reachable', async () => {
    expect(await getJson('/readyz')).toMatchObject({ status: 200, json: { status: 'ready' } });
  });
});
