import type { OperationSpec } from './openapi.js';
import { governanceQuery, spendQuery } from './report-schemas.js';
import * as schemas from './schemas.js';

/** Action endpoints (disable, enable, revoke) take no body or an empty object. */
const action = { body: 'EmptyAction', bodyOptional: true, status: 200 } as const;

/** Every operation of the management API, by path and method. */
export const PATHS: Record<string, Record<string, OperationSpec>> = {
  '/v1/agents': {
    post: {
      id: 'createAgent',
      summary: 'Register an agent; its client secret is returned once',
      body: 'AgentCreate',
      status: 201,
      response: 'AgentCreated',
    },
    get: {
      id: 'listAgents',
      summary: 'List agents, oldest first',
      query: schemas.agentListQuery,
      status: 200,
      response: 'AgentPage',
    },
  },
  '/v1/agents/{id}': {
    get: { id: 'getAgent', summary: 'Read an agent', status: 200, response: 'Agent' },
    patch: {
      id: 'updateAgent',
      summary: 'Change an agent',
      body: 'AgentUpdate',
      status: 200,
      response: 'Agent',
    },
  },
  '/v1/agents/{id}/disable': {
    post: {
      id: 'disableAgent',
      summary: 'Disable an agent, revoking its tokens',
      ...action,
      response: 'Agent',
    },
  },
  '/v1/agents/{id}/enable': {
    post: {
      id: 'enableAgent',
      summary: 'Re-enable a disabled agent',
      ...action,
      response: 'Agent',
    },
  },
  '/v1/agents/{id}/secrets': {
    post: {
      id: 'addAgentSecret',
      summary: 'Add a client secret (rotation); returned once',
      body: 'SecretCreate',
      bodyOptional: true,
      status: 201,
      response: 'SecretCreated',
    },
    get: {
      id: 'listAgentSecrets',
      summary: "List an agent's secrets",
      status: 200,
      response: 'SecretList',
    },
  },
  '/v1/agents/{id}/secrets/{secretId}': {
    delete: {
      id: 'deleteAgentSecret',
      summary: 'Revoke a client secret',
      status: 200,
      response: 'Secret',
    },
  },
  '/v1/agents/{id}/secrets/{secretId}/revoke': {
    post: {
      id: 'revokeAgentSecret',
      summary: 'Revoke a client secret',
      ...action,
      response: 'Secret',
    },
  },
  '/v1/resource-servers': {
    post: {
      id: 'createResourceServer',
      summary: 'Register a resource server for one audience; its secret is returned once',
      body: 'ResourceServerCreate',
      status: 201,
      response: 'ResourceServerCreated',
    },
    get: {
      id: 'listResourceServers',
      summary: 'List resource servers, oldest first',
      query: schemas.resourceServerListQuery,
      status: 200,
      response: 'ResourceServerPage',
    },
  },
  '/v1/resource-servers/{id}': {
    get: {
      id: 'getResourceServer',
      summary: 'Read a resource server',
      status: 200,
      response: 'ResourceServer',
    },
  },
  '/v1/resource-servers/{id}/disable': {
    post: {
      id: 'disableResourceServer',
      summary: 'Disable a resource server',
      ...action,
      response: 'ResourceServer',
    },
  },
  '/v1/ledger': {
    get: {
      id: 'listLedgerEvents',
      summary: 'List ledger events, newest first',
      query: schemas.ledgerListQuery,
      status: 200,
      response: 'LedgerPage',
    },
  },
  '/v1/trusted-issuers': {
    post: {
      id: 'createTrustedIssuer',
      summary: 'Trust an identity provider whose JWTs agents may exchange',
      body: 'TrustedIssuerCreate',
      status: 201,
      response: 'TrustedIssuer',
    },
    get: {
      id: 'listTrustedIssuers',
      summary: 'List trusted issuers, by issuer',
      status: 200,
      response: 'TrustedIssuerList',
    },
  },
  '/v1/trusted-issuers/{id}': {
    get: {
      id: 'getTrustedIssuer',
      summary: 'Read a trusted issuer',
      status: 200,
      response: 'TrustedIssuer',
    },
    patch: {
      id: 'updateTrustedIssuer',
      summary: 'Change a trusted issuer',
      body: 'TrustedIssuerUpdate',
      status: 200,
      response: 'TrustedIssuer',
    },
  },
  '/v1/trusted-issuers/{id}/disable': {
    post: {
      id: 'disableTrustedIssuer',
      summary: 'Stop accepting subject tokens of an issuer',
      ...action,
      response: 'TrustedIssuer',
    },
  },
  '/v1/sessions': {
    get: {
      id: 'listSessions',
      summary: 'List task sessions, most recently opened first',
      query: schemas.sessionListQuery,
      status: 200,
      response: 'SessionPage',
    },
  },
  '/v1/sessions/{id}': {
    get: {
      id: 'getSession',
      summary: 'Read a session with its tokens and ledger events',
      status: 200,
      response: 'SessionDetail',
    },
  },
  '/v1/sessions/{id}/close': {
    post: {
      id: 'closeSession',
      summary: 'Close a session and the sessions opened from it; their tokens stop at once',
      status: 200,
      response: 'SessionDetail',
    },
  },
  '/v1/sessions/{id}/statement': {
    get: {
      id: 'getSessionStatement',
      summary: 'What a session spent, in total and per tool',
      status: 200,
      response: 'SessionStatement',
    },
  },
  '/v1/reports/spend': {
    get: {
      id: 'getSpendReport',
      summary: 'Usage and cost grouped by agent, owner, person, tool, session, server, day, model',
      query: spendQuery,
      status: 200,
      response: 'SpendReport',
      csv: true,
    },
  },
  '/v1/reports/governance': {
    get: {
      id: 'getGovernanceReport',
      summary: 'Share of usage under governance, and the cases that pull it down',
      query: governanceQuery,
      status: 200,
      response: 'GovernanceReport',
    },
  },
  '/v1/owners/{owner}/budget': {
    put: {
      id: 'setOwnerBudget',
      summary: 'Set the budget shared by every agent of one owner',
      body: 'Budget',
      status: 200,
      response: 'OwnerBudget',
    },
  },
  '/v1/owner-budgets': {
    get: {
      id: 'listOwnerBudgets',
      summary: 'List owner budgets, by owner',
      status: 200,
      response: 'OwnerBudgetList',
    },
  },
  '/v1/ledger/verify': {
    get: {
      id: 'verifyLedger',
      summary: "Recompute the ledger's hash chain and report the first broken link",
      status: 200,
      response: 'LedgerVerification',
    },
  },
  '/v1/ledger/seal': {
    post: {
      id: 'sealLedger',
      summary: 'Seal committed events into the hash chain now',
      status: 200,
      response: 'LedgerSeal',
    },
  },
};
