// The OAuth vocabulary the demos speak, and a handle on the management API.
import { expectStatus } from './expect.mjs';
import { send } from './http.mjs';

/** RFC 8693 §2.1 and §3: token exchange and the token types the demos use. */
export const TOKEN_EXCHANGE = 'urn:ietf:params:oauth:grant-type:token-exchange';
export const JWT_TOKEN_TYPE = 'urn:ietf:params:oauth:token-type:jwt';
export const ACCESS_TOKEN_TYPE = 'urn:ietf:params:oauth:token-type:access_token';

/**
 * @typedef {(method: string, path: string, options?: Partial<import('./http.mjs').Call>)
 *   => Promise<import('./http.mjs').Answer>} AdminCall
 */

/**
 * Trades the bootstrap admin's credentials for an admin token (client_credentials, scope
 * admin), and returns a caller for the management API that sends it.
 * @param {import('./tollgate.mjs').LocalTollgate} tollgate
 * @returns {Promise<AdminCall>}
 */
export async function adminSession(tollgate) {
  const answer = await send({
    url: `${tollgate.issuer}/token`,
    basic: [tollgate.admin.clientId, tollgate.admin.clientSecret],
    form: { grant_type: 'client_credentials', scope: 'admin' },
    show: ['access_token', 'scope', 'expires_in'],
  });

  expectStatus(answer, 200, 'admin token');

  const token = String(answer.body.access_token);

  return (method, path, options = {}) =>
    send({ method, url: `${tollgate.adminUrl}${path}`, bearer: token, ...options });
}

/**
 * Calls the management API and insists on the status; returns the parsed answer.
 * @param {AdminCall} admin
 * @param {number} status
 * @param {string} method
 * @param {string} path
 * @param {Partial<import('./http.mjs').Call>} [options]
 */
export async function adminExpect(admin, status, method, path, options) {
  const answer = await admin(method, path, options);

  expectStatus(answer, status, `${method} ${path}`);

  return answer.body;
}
