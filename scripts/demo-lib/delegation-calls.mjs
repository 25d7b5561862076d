// The delegation demo's two protocol calls: the agent at the token endpoint (RFC 8693 token
// exchange) and the resource server at the introspection endpoint (RFC 7662), each
// authenticated with its own client credentials over HTTP Basic.
import { expectStatus } from './expect.mjs';
import { send } from './http.mjs';
import { TOKEN_EXCHANGE } from './oauth.mjs';

/** @typedef {{ clientId: string, secret: string }} Client */

/**
 * A token exchange request by the agent; the answer is returned whatever its status.
 * @param {string} issuer
 * @param {Client} agent
 * @param {Record<string, string>} fields
 */
export function exchange(issuer, agent, fields) {
  return send({
    url: `${issuer}/token`,
    basic: [agent.clientId, agent.secret],
    form: { grant_type: TOKEN_EXCHANGE, ...fields },
    show: ['access_token', 'issued_token_type', 'scope', 'expires_in'],
  });
}

/**
 * Introspection by the resource server; shows the four things it learns unless `brief`.
 * @param {string} issuer
 * @param {Client} resourceServer
 * @param {string} token
 * @param {{ brief?: boolean }} [options]
 */
export async function introspect(issuer, resourceServer, token, { brief = false } = {}) {
  const answer = await send({
    url: `${issuer}/token/introspection`,
    basic: [resourceServer.clientId, resourceServer.secret],
    form: { token },
    show: brief ? undefined : describeToken,
  });

  expectStatus(answer, 200, 'introspection');

  return answer.body;
}

/**
 * Who acts (client_id, act), for whom (sub), with what (scope), in which session (sid).
 * @param {import('./http.mjs').Answer} answer
 */
function describeToken({ body }) {
  if (body.active !== true) return JSON.stringify(body);

  return [
    `agent    client_id=${body.client_id}  act=${JSON.stringify(body.act)}`,
    `person   sub=${body.sub}`,
    `tools    scope="${body.scope}"`,
    `session  sid=${body.sid}  session_state=${body.session_state}`,
  ].join('\n');
}
