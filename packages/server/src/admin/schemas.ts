import { MAX_PAGE_SIZE, MAX_SESSION_SECONDS, MAX_TOKEN_TTL_SECONDS } from '@tollgate/core';

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
const MAX_CLAIM_NAME = 128;
// Delegation limits bound the policy check each token exchange runs against the agent's row.
const MAX_TRUSTED_ISSUERS = 20;
// 200 subjects of 256 characters still fit the 64 KiB body limit.
const MAX_ALLOWED_SUBJECTS = 200;
const MAX_SUBJECT = 256;

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
const publicKeys: JsonSchema = {
  type: 'object',
  required: ['keys'],
  additionalProperties: false,
  properties: { keys: { type: 'array', minItems: 1, maxItems: 10, items: { type: 'object' } } },
};
const jwks: JsonSchema = {
  ...publicKeys,
  description: 'Public keys for private_key_jwt client authentication.',
};
const subject: JsonSchema = { type: 'string', minLength: 1, maxLength: MAX_SUBJECT };
const delegation: JsonSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    trusted_issuers: {
      type: 'array',
      maxItems: MAX_TRUSTED_ISSUERS,
      items: { type: 'string', format: 'uri', maxLength: MAX_URI },
      description: 'Issuers whose subject tokens the agent may exchange (RFC 8693).',
    },
    allowed_subjects: {
      type: 'array',
      maxItems: MAX_ALLOWED_SUBJECTS,
      items: subject,
      description: 'When present, the only people the agent may act for (by user claim).',
    },
  },
  description: 'Whom the agent may act for through token exchange.',
};
const sessionSeconds: JsonSchema = { type: 'integer', minimum: 1, maximum: MAX_SESSION_SECONDS };
const sessionMax: JsonSchema = {
  ...sessionSeconds,
  description: 'How long a task session may last in all.',
};
const sessionIdle: JsonSchema = {
  ...sessionSeconds,
  description: 'How long a task session may go without a token request before it lapses.',
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
const tokenLimit = (period: string): JsonSchema => ({
  type: 'number',
  minimum: 0,
  description: `LLM tokens (input plus output) allowed ${period}.`,
});
const costLimit = (period: string): JsonSchema => ({
  type: 'number',
  minimum: 0,
  description: `Cost allowed ${period}, in the budget's currency.`,
});

/** Spending limits of an agent or an owner; a reached limit refuses new tokens. */
export const budget: ObjectSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    daily_llm_tokens: tokenLimit('per UTC day'),
    monthly_llm_tokens: tokenLimit('per UTC month'),
    daily_cost: costLimit('per UTC day'),
    monthly_cost: costLimit('per UTC month'),
    session_llm_tokens: tokenLimit('per task session'),
    session_cost: costLimit('per task session'),
    currency: {
      type: 'string',
      pattern: '^[A-Z]{3}$',
      description: 'ISO 4217 code of the cost limits; usage in other currencies does not count.',
    },
    close_sessions: {
      type: 'boolean',
      description: "Also close the agent's open sessions when a limit is reached.",
    },
  },
};

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
    delegation,
    session_max_seconds: sessionMax,
    session_idle_seconds: sessionIdle,
    budget,
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
    delegation,
    session_max_seconds: sessionMax,
    session_idle_seconds: { ...sessionIdle, type: ['integer', 'null'] },
    budget,
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

const issuerUrl: JsonSchema = { type: 'string', format: 'uri', maxLength: MAX_URI };
const jwksUri: JsonSchema = {
  ...issuerUrl,
  description: 'Where the issuer publishes its keys: https, or http on loopback only.',
};
const issuerKeys: JsonSchema = {
  ...publicKeys,
  description: "The issuer's public signing keys, registered inline.",
};
const issuerAudiences: JsonSchema = {
  type: 'array',
  minItems: 1,
  maxItems: MAX_LIST,
  items: { type: 'string', minLength: 1, maxLength: MAX_URI },
  description: 'A subject token is accepted only when its aud names one of these.',
};
const userClaim: JsonSchema = {
  type: 'string',
  minLength: 1,
  maxLength: MAX_CLAIM_NAME,
  description: 'The claim of the subject token that names the person.',
};

export const trustedIssuerCreate: ObjectSchema = {
  type: 'object',
  required: ['issuer', 'audiences'],
  additionalProperties: false,
  properties: {
    issuer: { ...issuerUrl, description: 'Compared byte for byte with the iss of tokens.' },
    jwks_uri: jwksUri,
    jwks: issuerKeys,
    audiences: issuerAudiences,
    user_claim: { ...userClaim, default: 'sub' },
  },
  // Core refuses a body with both or neither, with one clear message for create and update.
  description: 'Give exactly one key source: jwks_uri or jwks.',
};

export const trustedIssuerUpdate: ObjectSchema = {
  type: 'object',
  minProperties: 1,
  additionalProperties: false,
  properties: {
    audiences: issuerAudiences,
    user_claim: userClaim,
    jwks_uri: { ...jwksUri, description: 'Replaces the key source; give it or jwks, not both.' },
    jwks: { ...issuerKeys, description: 'Replaces the key source; give it or jwks_uri, not both.' },
    status: clientStatus,
  },
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

export const sessionListQuery: ObjectSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    agent_id: { type: 'string', format: 'uuid' },
    subject: { ...subject, description: 'The person the sessions act for.' },
    state: { type: 'string', enum: ['open', 'closed'] },
    from: { ...timestamp, description: 'Sessions opened at or after this time.' },
    to: { ...timestamp, description: 'Sessions opened before this time.' },
    cursor,
    limit,
  },
};
