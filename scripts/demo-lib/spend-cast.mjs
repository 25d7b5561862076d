// Who takes part in the spend demo: two resource servers (an LLM gateway and a tool server),
// four agents of two owners, and the company identity provider whose people they act for.
import { adminExpect } from './oauth.mjs';
import { say, step } from './show.mjs';

export const LLM_AUDIENCE = 'https://llm.example.com';
export const TOOLS_AUDIENCE = 'https://tools.example.com';
export const PEOPLE_AUDIENCE = 'https://agents.example.com';

/**
 * @typedef {object} AgentPlan
 * @property {string} name
 * @property {string} owner
 * @property {string[]} tools
 * @property {boolean} delegates acts for people (token exchange) rather than on its own
 *   (client_credentials)
 * @property {number} [sessionMaxSeconds]
 */

/** @type {AgentPlan[]} */
export const AGENT_PLANS = [
  {
    name: 'research-assistant',
    owner: 'team-research',
    tools: ['llm.chat', 'search'],
    delegates: true,
  },
  {
    name: 'release-notes-writer',
    owner: 'team-devtools',
    tools: ['llm.chat', 'search', 'github.issues.create'],
    delegates: true,
  },
  {
    name: 'triage-bot',
    owner: 'team-devtools',
    tools: ['llm.chat', 'search', 'github.issues.create'],
    delegates: false,
  },
  // Its sessions end after 5 seconds; the one it leaves open shows up in governance.
  {
    name: 'nightly-digest',
    owner: 'team-research',
    tools: ['llm.chat', 'search'],
    delegates: false,
    sessionMaxSeconds: 5,
  },
];

/**
 * @typedef {{ id: string, clientId: string, secret: string, plan: AgentPlan }} Agent
 * @typedef {{ clientId: string, secret: string }} ResourceServer
 * @typedef {{ agents: Record<string, Agent>, gateway: ResourceServer, toolServer: ResourceServer }}
 *   Cast
 */

/**
 * Registers the company IdP, both resource servers and every agent.
 * @param {import('./oauth.mjs').AdminCall} admin
 * @param {import('./idp.mjs').IdentityProvider} idp
 * @returns {Promise<Cast>}
 */
export async function registerCast(admin, idp) {
  step('The admin registers the company IdP, the LLM gateway and the tool server');
  await adminExpect(admin, 201, 'POST', '/v1/trusted-issuers', {
    json: { issuer: idp.issuer, jwks_uri: idp.jwksUri, audiences: [PEOPLE_AUDIENCE] },
    show: ['issuer', 'audiences'],
  });
  const gateway = await resourceServer(admin, 'llm-gateway', LLM_AUDIENCE);
  const toolServer = await resourceServer(admin, 'tool-server', TOOLS_AUDIENCE);

  step('The admin registers four agents of two owners');
  /** @type {Record<string, Agent>} */
  const agents = {};

  for (const plan of AGENT_PLANS) {
    agents[plan.name] = await registerAgent(admin, plan, idp.issuer);
  }

  say('(each agent may call both audiences; its tokens name one audience each)');

  return { agents, gateway, toolServer };
}

/**
 * @param {import('./oauth.mjs').AdminCall} admin
 * @param {string} name
 * @param {string} audience
 * @returns {Promise<ResourceServer>}
 */
async function resourceServer(admin, name, audience) {
  const created = await adminExpect(admin, 201, 'POST', '/v1/resource-servers', {
    json: { name, audience },
    show: ['client_id', 'client_secret', 'audience'],
  });

  return { clientId: created.client_id, secret: created.client_secret };
}

/**
 * @param {import('./oauth.mjs').AdminCall} admin
 * @param {AgentPlan} plan
 * @param {string} idpIssuer
 * @returns {Promise<Agent>}
 */
async function registerAgent(admin, plan, idpIssuer) {
  const created = await adminExpect(admin, 201, 'POST', '/v1/agents', {
    json: {
      name: plan.name,
      owner: plan.owner,
      tools: plan.tools,
      audiences: [LLM_AUDIENCE, TOOLS_AUDIENCE],
      ...(plan.delegates ? { delegation: { trusted_issuers: [idpIssuer] } } : {}),
      ...(plan.sessionMaxSeconds ? { session_max_seconds: plan.sessionMaxSeconds } : {}),
    },
    show: ['client_id', 'name', 'owner', 'tools'],
  });

  return { id: created.id, clientId: created.client_id, secret: created.client_secret, plan };
}
