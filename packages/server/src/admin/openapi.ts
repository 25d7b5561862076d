import { PATHS } from './openapi-paths.js';
import * as reports from './report-schemas.js';
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
  TrustedIssuerCreate: schemas.trustedIssuerCreate,
  TrustedIssuerUpdate: schemas.trustedIssuerUpdate,
  Budget: schemas.budget,
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
  TrustedIssuer: views.trustedIssuerView,
  TrustedIssuerList: views.pageOf(refTo('TrustedIssuer')),
  Session: views.sessionView,
  SessionDetail: views.sessionDetailOf(refTo('LedgerEvent')),
  SessionPage: views.pageOf(refTo('Session')),
  SessionStatement: reports.sessionStatementOf(refTo('Session')),
  SpendReport: reports.spendReport,
  GovernanceReport: reports.governanceReport,
  OwnerBudget: reports.ownerBudget,
  OwnerBudgetList: views.pageOf(refTo('OwnerBudget')),
  LedgerVerification: reports.ledgerVerification,
  LedgerSeal: reports.ledgerSeal,
  Problem: views.problem,
} as const satisfies Record<string, ObjectSchema>;

export type ComponentName = keyof typeof components;

const ref = (name: ComponentName): JsonSchema => refTo(name);

/** One operation of the API, as the paths table lists it. */
export interface OperationSpec {
  id: string;
  summary: string;
  query?: ObjectSchema;
  body?: ComponentName;
  /** Whether an empty body is accepted (action endpoints). */
  bodyOptional?: boolean;
  status: 200 | 201;
  response: ComponentName;
  /** Whether the answer can also be had as CSV (by Accept or a format parameter). */
  csv?: boolean;
}

const PATH_PARAMETERS: Record<string, JsonSchema> = {
  id: { type: 'string', format: 'uuid' },
  secretId: { type: 'string', maxLength: 64 },
  owner: { type: 'string', minLength: 1, maxLength: 200 },
};

function operation(path: string, spec: OperationSpec): Record<string, unknown> {
  return {
    operationId: spec.id,
    summary: spec.summary,
    parameters: [...pathParameters(path), ...queryParameters(spec.query)],
    ...(spec.body === undefined ? {} : { requestBody: requestBody(spec) }),
    responses: {
      [spec.status]: responseContent(spec),
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

function responseContent(spec: OperationSpec): Record<string, unknown> {
  const json = { 'application/json': { schema: ref(spec.response) } };
  const csv = {
    'text/csv': { schema: { type: 'string', description: 'RFC 4180, a header line first.' } },
  };

  return {
    description: spec.status === 201 ? 'Created' : 'OK',
    content: spec.csv === true ? { ...json, ...csv } : json,
  };
}

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
