// What the bench knows about an authorization server under test, and how it gets tokens from
// one outside the measured runs.
import { basicAuth, postForm, inParallel } from './http.mjs';

/**
 * @typedef {object} Target
 * @property {'bare' | 'tollgate'} name
 * @property {import('node:child_process').ChildProcess} child
 * @property {string} [database] name of its Postgres database, if it has one
 * @property {string} issuer
 * @property {{ token: string, introspection: string, revocation: string }} endpoints
 * @property {string} audience the one resource indicator its agents may ask for
 * @property {{ id: string, secret: string }} agent client_secret_basic agent
 * @property {{ id: string, keys: Awaited<ReturnType<typeof import('./keys.mjs').newKeyPair>> }} jwtAgent
 * @property {{ id: string, secret: string }} resourceServer may introspect the agents' tokens
 * @property {{ agent: { id: string, secret: string }, subjectIssuer: string,
 *   subjectAudience: string, keys: Awaited<ReturnType<typeof import('./keys.mjs').newKeyPair>> }
 *   | undefined} exchange
 * @property {string} [usage] URL of POST /usage, where the target has it
 * @property {string[]} notes why operations are skipped, and other remarks
 */

/** Parallel requests used to pre-issue tokens; enough to keep a 2-core server busy. */
const ISSUE_PARALLEL = 32;

/**
 * The client_credentials request of the secret agent, as form fields.
 * @param {Target} target
 * @param {string} scope
 */
export function clientCredentialsFields(target, scope) {
  return { grant_type: 'client_credentials', scope, resource: target.audience };
}

/**
 * Gets `count` access tokens for the secret agent.
 * @param {Target} target
 * @param {number} count
 * @param {string} scope
 * @returns {Promise<string[]>}
 */
export function issueTokens(target, count, scope) {
  const authorization = basicAuth(target.agent.id, target.agent.secret);
  const fields = clientCredentialsFields(target, scope);

  return inParallel(count, ISSUE_PARALLEL, async () => {
    const answer = await postForm(target.endpoints.token, fields, { authorization });

    return String(answer.access_token);
  });
}

/**
 * Revokes one token as the secret agent.
 * @param {Target} target
 * @param {string} token
 */
export async function revokeToken(target, token) {
  await postForm(
    target.endpoints.revocation,
    { token },
    { authorization: basicAuth(target.agent.id, target.agent.secret) },
  );
}
