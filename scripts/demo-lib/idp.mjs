// A tiny company identity provider for the demos, in the demo's own process: an ES256 key pair,
// its public half served as a JWKS over http on 127.0.0.1, and signed tokens for its users.
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';

import { defer } from './lifecycle.mjs';
import { loadJose } from './modules.mjs';

const KEY_ID = 'company-idp-2025';
const JWKS_PATH = '/.well-known/jwks.json';

/**
 * @typedef {object} IdentityProvider
 * @property {string} issuer
 * @property {string} jwksUri
 * @property {() => number} keyFetches how many times the JWKS was fetched so far
 * @property {(user: string, audience: string) => Promise<string>} signUserToken a fresh
 *   10-minute token for `user` (its sub), meant for `audience`
 */

/**
 * Starts the identity provider on a free loopback port; it stops when the demo ends.
 * @returns {Promise<IdentityProvider>}
 */
export async function startIdentityProvider() {
  const { exportJWK, generateKeyPair, SignJWT } = await loadJose();
  const { privateKey, publicKey } = await generateKeyPair('ES256');
  const jwks = {
    keys: [{ ...(await exportJWK(publicKey)), kid: KEY_ID, alg: 'ES256', use: 'sig' }],
  };
  let fetches = 0;

  const server = createServer((request, response) => {
    const isJwks = request.method === 'GET' && request.url === JWKS_PATH;

    if (isJwks) fetches += 1;
    response.writeHead(isJwks ? 200 : 404, { 'content-type': 'application/json' });
    response.end(JSON.stringify(isJwks ? jwks : { error: 'not_found' }));
  });
  const issuer = await listenOnLoopback(server);

  defer(() => stopServer(server));

  return {
    issuer,
    jwksUri: `${issuer}${JWKS_PATH}`,
    keyFetches: () => fetches,
    signUserToken: (user, audience) =>
      new SignJWT({ email: user })
        .setProtectedHeader({ alg: 'ES256', kid: KEY_ID, typ: 'JWT' })
        .setIssuer(issuer)
        .setSubject(user)
        .setAudience(audience)
        .setJti(randomUUID())
        .setIssuedAt()
        .setExpirationTime('10m')
        .sign(privateKey),
  };
}

/**
 * @param {import('node:http').Server} server
 * @returns {Promise<string>} the server's base URL
 */
function listenOnLoopback(server) {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;

      resolve(`http://127.0.0.1:${port}`);
    });
  });
}

/** @param {import('node:http').Server} server @returns {Promise<void>} */
function stopServer(server) {
  return new Promise((resolve) => {
    server.closeAllConnections();
    server.close(() => resolve());
  });
}
