import { budget, clientStatus, timestamp, type JsonSchema, type ObjectSchema } from './schemas.js';

/** Response schemas: they document what the API answers; tests check real answers match. */

const nullableTimestamp: JsonSchema = { type: ['string', 'null'], format: 'date-time' };
const nullableText: JsonSchema = { type: ['string', 'null'] };
const id: JsonSchema = { type: 'string', format: 'uuid' };
const nullableId: JsonSchema = { type: ['string', 'null'], format: 'uuid' };
const texts: JsonSchema = { type: 'array', items: { type: 'string' } };

/** A budget as stored: the request schema's limits, shown back as they were set. */
export const budgetView: ObjectSchema = { type: 'object', properties: budget.properties };

export const agentView: ObjectSchema = {
  type: 'object',
  required: [
    'id',
    'client_id',
    'name',
    'owner',
    'description',
    'tools',
    'audiences',
    'token_ttl_seconds',
    'status',
    'token_endpoint_auth_method',
    'jwks',
    'delegation',
    'session_max_seconds',
    'session_idle_seconds',
    'budget',
    'created_at',
    'updated_at',
  ],
  properties: {
    id,
    client_id: { type: 'string' },
    name: { type: 'string' },
    owner: nullableText,
    description: nullableText,
    tools: { type: 'array', items: { type: 'string' } },
    audiences: { type: 'array', items: { type: 'string' } },
    token_ttl_seconds: { type: 'integer' },
    status: clientStatus,
    token_endpoint_auth_method: {
      type: 'string',
      enum: ['client_secret_basic', 'client_secret_post', 'private_key_jwt'],
    },
    jwks: { type: ['object', 'null'] },
    delegation: {
      type: 'object',
      properties: {
        trusted_issuers: texts,
        allowed_subjects: texts,
      },
    },
    session_max_seconds: { type: 'integer' },
    session_idle_seconds: { type: ['integer', 'null'] },
    budget: budgetView,
    created_at: timestamp,
    updated_at: timestamp,
  },
};

const clientSecret: JsonSchema = {
  type: 'string',
  description: 'The client secret in clear; shown only in this response.',
};

export const agentCreated: ObjectSchema = {
  ...agentView,
  properties: {
    ...agentView.properties,
    client_secret: clientSecret,
    secret_id: { type: 'string' },
  },
};

export const secretView: ObjectSchema = {
  type: 'object',
  required: ['id', 'status', 'created_at', 'expires_at', 'revoked_at'],
  properties: {
    id: { type: 'string' },
    status: { type: 'string', enum: ['active', 'expired', 'revoked'] },
    created_at: timestamp,
    expires_at: nullableTimestamp,
    revoked_at: nullableTimestamp,
  },
};

export const secretCreated: ObjectSchema = {
  ...secretView,
  required: [...(secretView.required ?? []), 'client_secret'],
  properties: { ...secretView.properties, client_secret: clientSecret },
};

export const resourceServerView: ObjectSchema = {
  type: 'object',
  required: ['id', 'client_id', 'name', 'audience', 'status', 'created_at', 'updated_at'],
  properties: {
    id,
    client_id: { type: 'string' },
    name: { type: 'string' },
    audience: { type: 'string' },
    status: clientStatus,
    created_at: timestamp,
    updated_at: timestamp,
  },
};

export const resourceServerCreated: ObjectSchema = {
  ...resourceServerView,
  required: [...(resourceServerView.required ?? []), 'client_secret', 'secret_id'],
  properties: {
    ...resourceServerView.properties,
    client_secret: clientSecret,
    secret_id: { type: 'string' },
  },
};

export const ledgerEvent: ObjectSchema = {
  type: 'object',
  required: ['id', 'kind', 'at', 'data'],
  properties: {
    id: { type: 'string', description: 'Increasing event number, as a decimal string.' },
    kind: { type: 'string' },
    at: timestamp,
    agent_id: { type: ['string', 'null'], format: 'uuid' },
    client_id: nullableText,
    token_id: nullableText,
    session_id: nullableText,
    subject: nullableText,
    actor: nullableText,
    request_id: nullableText,
    ip: nullableText,
    data: { type: 'object' },
  },
};

export const trustedIssuerView: ObjectSchema = {
  type: 'object',
  required: [
    'id',
    'issuer',
    'jwks_uri',
    'jwks',
    'audiences',
    'user_claim',
    'status',
    'created_at',
    'updated_at',
  ],
  properties: {
    id,
    issuer: { type: 'string' },
    jwks_uri: nullableText,
    jwks: { type: ['object', 'null'] },
    audiences: texts,
    user_claim: { type: 'string' },
    status: clientStatus,
    created_at: timestamp,
    updated_at: timestamp,
  },
};

/** RFC 8693 §4.1 `act`: the current actor, with the actors before it nested inside. */
const actorClaim: JsonSchema = {
  type: ['object', 'null'],
  required: ['sub'],
  properties: {
    sub: { type: 'string' },
    iss: { type: 'string' },
    act: { type: 'object', description: 'The previous actor, shaped alike.' },
  },
};

export const sessionView: ObjectSchema = {
  type: 'object',
  required: [
    'id',
    'agent_id',
    'state',
    'subject',
    'subject_issuer',
    'tools',
    'audience',
    'act',
    'parent_session_id',
    'opened_at',
    'deadline',
    'idle_timeout_seconds',
    'last_activity_at',
    'closed_at',
    'close_reason',
  ],
  properties: {
    id,
    agent_id: id,
    state: { type: 'string', enum: ['open', 'closed'] },
    subject: { ...nullableText, description: 'The person acted for; null for the agent itself.' },
    subject_issuer: nullableText,
    tools: texts,
    audience: nullableText,
    act: actorClaim,
    parent_session_id: nullableId,
    opened_at: timestamp,
    deadline: timestamp,
    idle_timeout_seconds: { type: ['integer', 'null'] },
    last_activity_at: timestamp,
    closed_at: nullableTimestamp,
    close_reason: nullableText,
  },
};

const sessionToken: ObjectSchema = {
  type: 'object',
  required: [
    'token_id',
    'tools',
    'audience',
    'issued_at',
    'expires_at',
    'revoked_at',
    'revoked_reason',
  ],
  properties: {
    token_id: { type: 'string' },
    tools: texts,
    audience: nullableText,
    issued_at: timestamp,
    expires_at: timestamp,
    revoked_at: nullableTimestamp,
    revoked_reason: nullableText,
  },
};

/** A session with its tokens (newest first) and its ledger events. */
export function sessionDetailOf(event: JsonSchema): ObjectSchema {
  return {
    ...sessionView,
    required: [...(sessionView.required ?? []), 'tokens', 'events'],
    properties: {
      ...sessionView.properties,
      tokens: { type: 'array', items: sessionToken },
      events: { type: 'array', items: event },
    },
  };
}

/** A page of a list: items plus the cursor of the next page, null on the last one. */
export function pageOf(item: JsonSchema): ObjectSchema {
  return {
    type: 'object',
    required: ['items', 'next_cursor'],
    properties: {
      items: { type: 'array', items: item },
      next_cursor: { type: ['string', 'null'] },
    },
  };
}

export const problem: ObjectSchema = {
  type: 'object',
  required: ['type', 'title', 'status', 'detail', 'code', 'request_id'],
  properties: {
    type: { type: 'string' },
    title: { type: 'string' },
    status: { type: 'integer' },
    detail: { type: 'string' },
    code: { type: 'string' },
    errors: {
      type: 'array',
      items: {
        type: 'object',
        required: ['path', 'message'],
        properties: { path: { type: 'string' }, message: { type: 'string' } },
      },
    },
    request_id: { type: 'string' },
  },
};
