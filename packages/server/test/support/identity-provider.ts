import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

import { exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWK } from 'jose';

/** A stand-in for a company's identity provider: its own keys, its JWKS served on loopback. */
export interface TestIdentityProvider {
  issuer: string;
  jwksUri: string;
  publicJwk: JWK;
  /** Signs a user token; claims override the defaults (iss, aud, sub, iat, exp, jti). */
  userToken(
    claims?: Record<string, unknown>,
    options?: { key?: CryptoKey; kid?: string },
  ): Promise<string>;
  close(): Promise<void>;
}

export const IDP_AUDIENCE = 'https://agents.example.com';

export async function startIdentityProvider(): Promise<TestIdentityProvider> {
  const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true });
  const publicJwk = { ...(await exportJWK(publicKey)), kid: 'idp-key-1', alg: 'ES256', use: 'sig' };
  const server: Server = createServer((request, response) => {
    if (request.url === '/jwks') {
      response.setHeader('content-type', 'application/json');
      response.end(JSON.stringify({ keys: [publicJwk] }));
      return;
    }

    response.statusCode = 404;
    response.end();
  });

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const issuer = `http://127.0.0.1:${port}`;

  return {
    issuer,
    jwksUri: `${issuer}/jwks`,
    publicJwk,
    userToken: async (claims = {}, options = {}) => {
      const now = Math.floor(Date.now() / 1000);
      const payload = {
        iss: issuer,
        aud: IDP_AUDIENCE,
        sub: 'alice@example.com',
        iat: now,
        exp: now + 300,
        jti: randomUUID(),
        ...claims,
      };

      return new SignJWT(payload)
        .setProtectedHeader({ alg: 'ES256', kid: options.kid ?? 'idp-key-1', typ: 'JWT' })
        .sign(options.key ?? privateKey);
    },
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
