import * as views from './response-schemas.js';
import * as schemas from './schemas.js';
import type { JsonSchema, ObjectSchema } from './schemas.js';

const refTo = (name: string): JsonSchema => ({ $ref: `#/components/schemas/${name}` });

/**
 * The components of the document are the very schema objects the validators were compiled
 * from, so the published contract and the enforced one cannot drift apart.
 */
export const components = {
  AgentCreate: schemas.agentCreate,
  AgentUpdate: schemas.agentUpdate,
  EmptyAction: schemas.emptyAction,
  SecretCreate: schemas.secretCreate,
  ResourceServerCreate: schemas.resourceServerCreate,
  Agent: views.agentView,
  AgentCreated: views.agentCreated,
  AgentPage: views.pageOf(refTo('Agent')),
  Secret: views.secretView,
  SecretCreated: views.secretCreated,
  SecretList: views.pageOf(refTo('Secret')),
  ResourceServer: views.resourceServerView,
  ResourceServerCreated: views.resourceServerCreated,
  ResourceServerPage: views.pageOf(refTo('ResourceServer')),
  LedgerEvent: views.ledgerEvent,
  LedgerPage: views.pageOf(refTo('LedgerEvent')),
  Problem: views.problem,
} as const satisfies Record<string, ObjectSchema>;

type ComponentName = keyof typeof components;

const ref = (name: ComponentName): JsonSchema => refTo(name);

interface OperationSpec {
  id: string;
  summary: string;
  query?: ObjectSchema;
  body?: ComponentName;
  /** Whether an empty body is accepted (action endpoints). */
  bodyOptional?: boolean;
  status: 200 | 201;
  response: ComponentName;
}

const PATH_PARAMETERS: Record<string, JsonSchema> = {
  id: { type: 'string', format: 'uuid' },
  secretId: { type: 'string', maxLength: 64 },
};

function operation(path: string, spec: OperationSpec): Record<string, unknown> {
  return {
    operationId: spec.id,
    summary: spec.summary,
    parameters: [...pathParameters(path), ...queryParameters(spec.query)],
    ...(spec.body === undefined ? {} : { requestBody: requestBody(spec) }),
    responses: {
      [spec.status]: jsonContent(spec.status === 201 ? 'Created' : 'OK', spec.response),
      default: {
        description: 'A problem (RFC 9457)',
        content: { 'application/problem+json': { schema: ref('Problem') } },
      },
    },
  };
}

function pathParameters(path: string): Record<string, unknown>[] {
  return [...path.matchAll(/\{(\w+)\}/g)].map(([, name = '']) => ({
    name,
    in: 'path',
    required: true,
    schema: PATH_PARAMETERS[name] ?? { type: 'string' },
  }));
}

function queryParameters(schema: ObjectSchema | undefined): Record<string, unknown>[] {
  return Object.entries(schema?.properties ?? {}).map(([name, property]) => ({
    name,
    in: 'query',
    required: schema?.required?.includes(name) ?? false,
    schema: property,
  }));
}

function requestBody(spec: OperationSpec): Record<string, unknown> {
  return {
    required: spec.bodyOptional !== true,
    content: { 'application/json': { schema: ref(spec.body ?? 'EmptyAction') } },
  };
}

function jsonContent(description: string, name: ComponentName): Record<string, unknown> {
  return { description, content: { 'application/json': { schema: ref(name) } } };
}

const action = { body: 'EmptyAction', bodyOptional: true, status: 200 } as const;

const PATHS: Record<string, Record<string, OperationSpec>> = {
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
};

/** The OpenAPI 3.1 description of the management API, served at /openapi.json. */
export function buildOpenApiDocument(): Record<string, unknown> {
  const paths = Object.fromEntries(
    Object.entries(PATHS).map(([path, operations]) => [
      path,
      Object.fromEntries(
        Object.entries(operations).map(([method, spec]) => [method, operation(path, spec)]),
      ),
    ]),
  );

  return {
    openapi: '3.1.0',
    info: { title: 'Tollgate management API', version: '1.0.0' },
    security: [{ adminToken: [] }],
    paths,
    components: {
      schemas: components,
      securitySchemes: {
        adminToken: {
          type: 'http',
          scheme: 'bearer',
          description: 'An access token with scope `admin` for the admin audience.',
        },
      },
    },
  };
}
