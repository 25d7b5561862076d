// scripts/demo-delegation: an agent acts for alice@example.com through RFC 8693 token exchange,
// with two of its three tools, inside one task session that renews and that an admin ends.
import { check, expectStatus } from './expect.mjs';
import { exchange, introspect } from './delegation-calls.mjs';
import { startIdentityProvider } from './idp.mjs';
import { runDemo } from './lifecycle.mjs';
import { ACCESS_TOKEN_TYPE, adminExpect, adminSession, JWT_TOKEN_TYPE } from './oauth.mjs';
import { say, short, step, title } from './show.mjs';
import { printTimeline } from './timeline.mjs';
import { startTollgate } from './tollgate.mjs';

const AGENTS_AUDIENCE = 'https://agents.example.com';
const TOOLS_AUDIENCE = 'https://tools.example.com';
const ALICE = 'alice@example.com';
const SESSION_TOOLS = 'search calendar.read';

/**
 * @typedef {object} Cast
 * @property {import('./tollgate.mjs').LocalTollgate} tollgate
 * @property {import('./idp.mjs').IdentityProvider} idp
 * @property {import('./oauth.mjs').AdminCall} admin
 * @property {{ id: string, clientId: string, secret: string }} agent
 * @property {{ clientId: string, secret: string }} resourceServer
 */

await runDemo('demo-delegation', async () => {
  title(
    'Tollgate demo: session-scoped delegation (RFC 8693 token exchange)',
    `An agent acts for ${ALICE} with two of its three tools, in one task session that it ` +
      'renews and that an admin ends.',
  );

  const cast = await setUp();
  const first = await exchangeAlicesToken(cast);
  const sid = await introspectFirstToken(cast, first);
  const renewed = await renew(cast, first, sid);

  await refuseWiderRenewal(cast, renewed);
  await closeSession(cast, sid, [first, renewed]);
  await refuseRenewalAfterClose(cast, renewed);
  await tellSessionStory(cast, sid);
});

/** @returns {Promise<Cast>} */
async function setUp() {
  step('Start a local Tollgate and a company identity provider');
  const tollgate = await startTollgate();
  const idp = await startIdentityProvider();

  say(`Tollgate: OAuth at ${tollgate.issuer}, management API at ${tollgate.adminUrl}`);
  say(`          embedded database in ${tollgate.dataDir}`);
  say(`          bootstrap admin from its first-start banner: ${tollgate.admin.clientId}`);
  say(`company IdP: issuer ${idp.issuer}, ES256 keys at ${idp.jwksUri}`);

  step('The admin gets a token for the management API');
  const admin = await adminSession(tollgate);

  return { tollgate, idp, admin, ...(await register(admin, idp)) };
}

/**
 * @param {import('./oauth.mjs').AdminCall} admin
 * @param {import('./idp.mjs').IdentityProvider} idp
 */
async function register(admin, idp) {
  step(`The admin trusts the company IdP for user tokens meant for ${AGENTS_AUDIENCE}`);
  await adminExpect(admin, 201, 'POST', '/v1/trusted-issuers', {
    json: { issuer: idp.issuer, jwks_uri: idp.jwksUri, audiences: [AGENTS_AUDIENCE] },
    show: ['id', 'issuer', 'jwks_uri', 'audiences', 'user_claim', 'status'],
  });

  step('The admin registers the agent: three tools, one audience, may act for IdP users');
  const agent = await adminExpect(admin, 201, 'POST', '/v1/agents', {
    json: {
      name: 'calendar-assistant',
      owner: 'team-productivity',
      tools: ['search', 'calendar.read', 'mail.send'],
      audiences: [TOOLS_AUDIENCE],
      delegation: { trusted_issuers: [idp.issuer] },
    },
    show: ['client_id', 'client_secret', 'tools', 'audiences', 'delegation'],
  });

  step(`The admin registers the resource server for ${TOOLS_AUDIENCE}`);
  const server = await adminExpect(admin, 201, 'POST', '/v1/resource-servers', {
    json: { name: 'company-tools', audience: TOOLS_AUDIENCE },
    show: ['client_id', 'client_secret', 'audience'],
  });

  return {
    agent: { id: agent.id, clientId: agent.client_id, secret: agent.client_secret },
    resourceServer: { clientId: server.client_id, secret: server.client_secret },
  };
}

/** @param {Cast} cast */
async function exchangeAlicesToken({ tollgate, idp, agent }) {
  step(`${ALICE} signs in at the company IdP, which gives her a token for the agents`);
  const aliceToken = await idp.signUserToken(ALICE, AGENTS_AUDIENCE);
  const claims = JSON.parse(Buffer.from(aliceToken.split('.')[1] ?? '', 'base64url').toString());

  say(`alice's token ${short(aliceToken)}:`);
  say(
    `  ${JSON.stringify({ iss: claims.iss, sub: claims.sub, aud: claims.aud, exp: claims.exp })}`,
  );

  step(`The agent exchanges alice's token for a session token with two tools`);
  const answer = await exchange(tollgate.issuer, agent, {
    subject_token: aliceToken,
    subject_token_type: JWT_TOKEN_TYPE,
    scope: SESSION_TOOLS,
    resource: TOOLS_AUDIENCE,
  });

  expectStatus(answer, 200, 'token exchange');
  check(answer.body.scope === SESSION_TOOLS, `granted exactly "${SESSION_TOOLS}"`, answer.body);
  check(idp.keyFetches() >= 1, "Tollgate verified alice's token with keys fetched from the IdP");

  return String(answer.body.access_token);
}

/**
 * @param {Cast} cast
 * @param {string} token
 */
async function introspectFirstToken(cast, token) {
  step('The resource server introspects it: which agent, for whom, which tools, which session');
  const info = await introspect(cast.tollgate.issuer, cast.resourceServer, token);

  check(info.active === true, 'the token is active');
  check(info.client_id === cast.agent.clientId, 'the agent is the client');
  check(info.act?.sub === cast.agent.clientId, 'act names the agent as the actor', info.act);
  check(info.sub === ALICE, `the subject is ${ALICE}`, info.sub);
  check(info.scope === SESSION_TOOLS, 'the tools are the two asked for', info.scope);
  check(typeof info.sid === 'string' && info.session_state === 'open', 'it is in an open session');

  return String(info.sid);
}

/**
 * @param {Cast} cast
 * @param {string} token
 * @param {string} sid
 */
async function renew(cast, token, sid) {
  step('Before the token expires, the agent renews it by exchanging its own token');
  const answer = await exchange(cast.tollgate.issuer, cast.agent, {
    subject_token: token,
    subject_token_type: ACCESS_TOKEN_TYPE,
  });

  expectStatus(answer, 200, 'renewal');
  const renewed = String(answer.body.access_token);

  check(renewed !== token, 'a new token was issued');
  const info = await introspect(cast.tollgate.issuer, cast.resourceServer, renewed);

  check(info.sid === sid, 'the new token is in the same session (same sid)', info.sid);
  check(info.sub === ALICE && info.scope === SESSION_TOOLS, 'same person, same tools', info);

  return renewed;
}

/**
 * @param {Cast} cast
 * @param {string} token
 */
async function refuseWiderRenewal(cast, token) {
  step('A renewal cannot widen the session: asking for mail.send is refused');
  const answer = await exchange(cast.tollgate.issuer, cast.agent, {
    subject_token: token,
    subject_token_type: ACCESS_TOKEN_TYPE,
    scope: 'search mail.send',
  });

  check(
    answer.status === 400 && answer.body.error === 'invalid_scope',
    'invalid_scope',
    answer.body,
  );
}

/**
 * @param {Cast} cast
 * @param {string} sid
 * @param {string[]} tokens
 */
async function closeSession(cast, sid, tokens) {
  step('The admin ends the task: closes the session on the management API');
  const closed = await adminExpect(cast.admin, 200, 'POST', `/v1/sessions/${sid}/close`, {
    show: ['id', 'state', 'closed_at', 'close_reason'],
  });

  check(closed.state === 'closed', 'the session is closed');

  step('Every token of the session is dead at once');

  for (const [index, token] of tokens.entries()) {
    const info = await introspect(cast.tollgate.issuer, cast.resourceServer, token, {
      brief: true,
    });
    const which = index === 0 ? 'the first token' : 'the renewed token';

    check(JSON.stringify(info) === '{"active":false}', `${which} introspects {"active":false}`);
  }
}

/**
 * @param {Cast} cast
 * @param {string} token
 */
async function refuseRenewalAfterClose(cast, token) {
  step('Renewing after the close is refused');
  const answer = await exchange(cast.tollgate.issuer, cast.agent, {
    subject_token: token,
    subject_token_type: ACCESS_TOKEN_TYPE,
  });

  check(answer.status === 400 && typeof answer.body.error === 'string', 'refused', answer.body);
}

/**
 * @param {Cast} cast
 * @param {string} sid
 */
async function tellSessionStory({ admin, agent, tollgate }, sid) {
  step("The story, from the ledger: the session's events, and the agent's refused requests");
  const session = await adminExpect(admin, 200, 'GET', `/v1/sessions/${sid}`, {
    show: ({ body }) =>
      `state ${body.state} (${body.close_reason}), ${body.tokens.length} tokens, ` +
      `${body.events.length} events: ${kinds(body.events)}`,
  });

  check(countOf(session.events, 'session.closed') === 1, 'the close is recorded');

  // Refused requests carry no session id, so the agent's ledger is where they show.
  const ledger = await adminExpect(admin, 200, 'GET', `/v1/ledger?agent_id=${agent.id}`, {
    show: ({ body }) => `${body.items.length} events of the agent (● = in the session)`,
  });
  const names = { [agent.clientId]: 'calendar-assistant', [tollgate.admin.clientId]: 'admin' };

  printTimeline(ledger.items, { names, sessionId: sid });
  check(countOf(ledger.items, 'exchange.refused') === 2, 'both refusals are recorded');
}

/** How many events are of a kind. @param {{ kind: string }[]} events @param {string} kind */
function countOf(events, kind) {
  return events.filter((event) => event.kind === kind).length;
}

/** Event kinds, oldest first (the API lists newest first). @param {{ kind: string }[]} events */
function kinds(events) {
  return events
    .map((event) => event.kind)
    .reverse()
    .join(', ');
}
