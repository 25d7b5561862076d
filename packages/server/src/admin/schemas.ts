import { MAX_PAGE_SIZE, MAX_TOKEN_TTL_SECONDS } from '@tollgate/core';

/**
 * The management API's request schemas (JSON Schema 2020-12), written once: ajv validates
 * requests against these objects and the OpenAPI document embeds the very same objects.
 */
export type JsonSchema = { readonly [keyword: string]: unknown };

/** An object schema, whose properties can also be listed as OpenAPI query parameters. */
export type ObjectSchema = JsonSchema & {
  readonly type: 'object';
  readonly properties: Readonly<Record<string, JsonSchema>>;
  readonly required?: readonly string[];
};

// Limits keep rows and tokens small: scopes are built from tools, audiences land in tokens.
const MAX_NAME = 200;
const MAX_DESCRIPTION = 2000;
const MAX_TOOL = 128;
const MAX_URI = 2048;
const MAX_LIST = 100;
const MAX_CURSOR = 512;

const name: JsonSchema = { type: 'string', minLength: 1, maxLength: MAX_NAME };
const owner: JsonSchema = {
  type: 'string',
  minLength: 1,
  maxLength: MAX_NAME,
  description: 'The team or person answerable for the agent.',
};
const tools: JsonSchema = {
  type: 'array',
  maxItems: MAX_LIST,
  items: { type: 'string', minLength: 1, maxLength: MAX_TOOL },
  description: 'Tool names the agent may be granted; each becomes an OAuth scope value.',
};
const audience: JsonSchema = { type: 'string', format: 'uri', maxLength: MAX_URI };
const audiences: JsonSchema = {
  type: 'array',
  maxItems: MAX_LIST,
  items: audience,
  description: 'Resource indicators (RFC 8707) the agent may get tokens for.',
};
const tokenTtl: JsonSchema = { type: 'integer', minimum: 1, maximum: MAX_TOKEN_TTL_SECONDS };
const jwks: JsonSchema = {
  type: 'object',
  required: ['keys'],
  additionalProperties: false,
  properties: { keys: { type: 'array', minItems: 1, maxItems: 10, items: { type: 'object' } } },
  description: 'Public keys for private_key_jwt client authentication.',
};
export const clientStatus: JsonSchema = { type: 'string', enum: ['active', 'disabled'] };
export const timestamp: JsonSchema = { type: 'string', format: 'date-time' };
const cursor: JsonSchema = {
  type: 'string',
  minLength: 1,
  maxLength: MAX_CURSOR,
  description: 'The next_cursor of the previous page.',
};
const limit: JsonSchema = { type: 'integer', minimum: 1, maximum: MAX_PAGE_SIZE };
const lifetime: JsonSchema = { type: 'integer', minimum: 0 };

export const agentCreate: ObjectSchema = {
  type: 'object',
  required: ['name', 'owner', 'tools', 'audiences'],
  additionalProperties: false,
  properties: {
    name,
    owner,
    description: { type: 'string', maxLength: MAX_DESCRIPTION },
    tools,
    audiences,
    token_ttl_seconds: tokenTtl,
    jwks,
    token_endpoint_auth_method: {
      type: 'string',
      enum: ['client_secret_basic', 'client_secret_post'],
    },
  },
};

export const agentUpdate: ObjectSchema = {
  type: 'object',
  minProperties: 1,
  additionalProperties: false,
  properties: {
    name,
    owner,
    description: { type: ['string', 'null'], maxLength: MAX_DESCRIPTION },
    tools,
    audiences,
    token_ttl_seconds: tokenTtl,
    jwks,
  },
};

/** The body of disable/enable/revoke: nothing, or an empty object. */
export const emptyAction: ObjectSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {},
};

export const secretCreate: ObjectSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    expires_in_seconds: {
      ...lifetime,
      description: 'Lifetime of the new secret; none when absent.',
    },
    old_secrets_expire_in_seconds: {
      ...lifetime,
      description: 'Let the other secrets keep working this long, then expire (0: at once).',
    },
  },
};

export const resourceServerCreate: ObjectSchema = {
  type: 'object',
  required: ['name', 'audience'],
  additionalProperties: false,
  properties: { name, audience },
};

/** Routes without query parameters still refuse unknown ones. */
export const noQuery: ObjectSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {},
};

export const agentListQuery: ObjectSchema = {
  type: 'object',
  additionalProperties: false,
  properties: { owner, status: clientStatus, cursor, limit },
};

export const resourceServerListQuery: ObjectSchema = {
  type: 'object',
  additionalProperties: false,
  properties: { status: clientStatus, cursor, limit },
};

export const ledgerListQuery: ObjectSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    agent_id: { type: 'string', format: 'uuid' },
    kind: {
      type: 'string',
      maxLength: 1000,
      pattern: '^[a-z_.]+(,[a-z_.]+)*$',
      description: 'Comma-separated event kinds, e.g. agent.created,token.issued.',
    },
    from: { ...timestamp, description: 'Events at or after this time.' },
    to: { ...timestamp, description: 'Events before this time.' },
    cursor,
    limit,
  },
};
