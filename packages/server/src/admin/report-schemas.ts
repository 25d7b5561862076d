import { SPEND_DIMENSIONS } from '@tollgate/db';

import { budgetView } from './response-schemas.js';
import { timestamp, type JsonSchema, type ObjectSchema } from './schemas.js';

/** Schemas of spend reports, governance, owner budgets and the ledger chain. */

// A report period may be an instant or a whole UTC day (`2025-01-31`).
const periodBound = (description: string): JsonSchema => ({
  type: 'string',
  maxLength: 64,
  anyOf: [{ format: 'date-time' }, { format: 'date' }],
  description,
});
const from = periodBound('Start of the period, inclusive; 30 days before `to` when absent.');
const to = periodBound('End of the period, exclusive; now when absent.');
const uuid: JsonSchema = { type: 'string', format: 'uuid' };
const nullableText: JsonSchema = { type: ['string', 'null'] };
const count: JsonSchema = { type: 'integer', minimum: 0 };
const share: JsonSchema = { type: 'number', minimum: 0, maximum: 1 };
const rows: JsonSchema = { type: 'array', items: { type: 'object' } };
// Rotation hygiene needs at least a day; ten years is past any sensible policy.
const MAX_ROTATION_DAYS = 3650;

export const spendQuery: ObjectSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    group_by: {
      type: 'string',
      maxLength: 200,
      pattern: '^[a-z_]+(,[a-z_]+)*$',
      default: 'agent',
      description: `Comma-separated dimensions: ${SPEND_DIMENSIONS.join(', ')}.`,
    },
    from,
    to,
    agent_id: { ...uuid, description: 'Only the usage of this agent.' },
    format: {
      type: 'string',
      enum: ['json', 'csv'],
      description: 'csv answers text/csv, as `Accept: text/csv` does.',
    },
  },
};

export const governanceQuery: ObjectSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    from,
    to,
    rotation_days: {
      type: 'integer',
      minimum: 1,
      maximum: MAX_ROTATION_DAYS,
      default: 90,
      description: 'A live secret older than this many days is stale.',
    },
  },
};

/** One group of a spend report: its keys (by the dimensions asked for), then its totals. */
export const spendLine: ObjectSchema = {
  type: 'object',
  required: ['currency', 'reports', 'calls', 'input_tokens', 'output_tokens', 'llm_tokens', 'cost'],
  properties: {
    agent_id: nullableText,
    agent_name: nullableText,
    owner: nullableText,
    person: nullableText,
    tool: nullableText,
    session_id: nullableText,
    resource_server_id: nullableText,
    resource_server_name: nullableText,
    day: nullableText,
    model: nullableText,
    currency: { ...nullableText, description: 'Costs in different currencies never add up.' },
    reports: count,
    calls: count,
    input_tokens: count,
    output_tokens: count,
    llm_tokens: count,
    cost: { ...nullableText, description: 'A decimal string, exact; null without costs.' },
  },
};

export const spendReport: ObjectSchema = {
  type: 'object',
  required: ['from', 'to', 'group_by', 'rows'],
  properties: {
    from: timestamp,
    to: timestamp,
    group_by: { type: 'array', items: { type: 'string', enum: [...SPEND_DIMENSIONS] } },
    rows: { type: 'array', items: spendLine },
  },
};

/** A session with what it spent, in total and per tool. */
export function sessionStatementOf(session: JsonSchema): ObjectSchema {
  return {
    type: 'object',
    required: ['session', 'totals', 'by_tool'],
    properties: {
      session,
      totals: { type: 'array', items: spendLine },
      by_tool: { type: 'array', items: spendLine },
    },
  };
}

export const governanceReport: ObjectSchema = {
  type: 'object',
  required: ['from', 'to', 'coverage', 'weighted_by', 'criteria', 'totals', 'offenders'],
  properties: {
    from: timestamp,
    to: timestamp,
    coverage: {
      ...share,
      description: 'Share of usage by an owned agent, with a scoped tool, in a closed session.',
    },
    weighted_by: { type: 'string', enum: ['llm_tokens', 'reports'] },
    criteria: {
      type: 'object',
      required: ['agent_identity', 'tool_scoped', 'session_closed'],
      properties: { agent_identity: share, tool_scoped: share, session_closed: share },
    },
    totals: {
      type: 'object',
      required: ['reports', 'llm_tokens'],
      properties: { reports: count, llm_tokens: count },
    },
    offenders: {
      type: 'object',
      required: [
        'open_sessions_past_deadline',
        'tokens_without_tools',
        'stale_secrets',
        'never_rotated_secrets',
        'ownerless_agents',
      ],
      properties: {
        open_sessions_past_deadline: rows,
        tokens_without_tools: rows,
        stale_secrets: rows,
        never_rotated_secrets: rows,
        ownerless_agents: rows,
      },
    },
  },
};

export const ownerBudget: ObjectSchema = {
  type: 'object',
  required: ['owner', 'budget'],
  properties: {
    owner: { type: 'string' },
    budget: budgetView,
    updated_at: { ...timestamp, description: 'In lists only.' },
  },
};

const chainPoint: ObjectSchema = {
  type: 'object',
  required: ['seq', 'hash'],
  properties: { seq: { type: 'string' }, hash: { type: 'string' } },
};

export const ledgerVerification: ObjectSchema = {
  type: 'object',
  required: ['ok', 'checked', 'unsealed', 'started_from'],
  properties: {
    ok: { type: 'boolean' },
    checked: { ...count, description: 'Links checked from the genesis or the last checkpoint.' },
    unsealed: { ...count, description: 'Events not yet in the chain.' },
    started_from: chainPoint,
    first_broken: {
      type: 'object',
      required: ['seq', 'event_id', 'problem'],
      properties: {
        seq: { type: 'string' },
        event_id: { type: 'string' },
        problem: {
          type: 'string',
          enum: ['event_missing', 'event_altered', 'link_broken', 'sequence_gap'],
        },
      },
    },
  },
};

export const ledgerSeal: ObjectSchema = {
  type: 'object',
  required: ['sealed'],
  properties: { sealed: { ...count, description: 'Events appended to the chain.' } },
};
