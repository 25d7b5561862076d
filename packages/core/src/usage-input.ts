import { invalidInput } from './errors.js';

/** A usage report's body once checked: units are whole, costs are decimal strings. */
export interface UsageInput {
  token: string | undefined;
  tokenId: string | undefined;
  tool: string;
  model: string | null;
  inputTokens: number;
  outputTokens: number;
  calls: number;
  cost: string | null;
  currency: string | null;
  idempotencyKey: string;
  occurredAt: Date;
  /** Whether the reporter dated the usage (else it is dated on arrival). */
  occurredAtGiven: boolean;
}

type Problems = { path: string; message: string }[];

const FIELDS = new Set([
  'token',
  'token_id',
  'tool',
  'model',
  'input_tokens',
  'output_tokens',
  'calls',
  'cost',
  'currency',
  'idempotency_key',
  'occurred_at',
]);

/** Reports may not be dated further ahead than this (clock skew). */
const FUTURE_SKEW_MS = 60_000;
const MAX_UNITS = 1e12;
/** calls is an int4 column; no single report comes near it. */
const MAX_CALLS = 2_147_483_647;

/** Reads and checks a usage report body, listing every problem at once. */
export function readUsageInput(body: unknown, now: Date): UsageInput {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw invalidInput('the report must be a JSON object');
  }

  const record = body as Record<string, unknown>;
  const problems: Problems = Object.keys(record)
    .filter((key) => !FIELDS.has(key))
    .map((key) => ({ path: key, message: 'unknown field' }));
  const read = new FieldReader(record, problems);
  const input = {
    token: read.optionalString('token', 4096),
    tokenId: read.tokenId('token_id'),
    tool: read.requiredString('tool', 128),
    model: read.optionalString('model', 200) ?? null,
    inputTokens: read.units('input_tokens', 0),
    outputTokens: read.units('output_tokens', 0),
    calls: read.units('calls', 1, MAX_CALLS),
    cost: read.cost('cost'),
    currency: read.currency('currency'),
    idempotencyKey: read.requiredString('idempotency_key', 200),
    occurredAt: read.timestamp('occurred_at', now),
    occurredAtGiven: record.occurred_at !== undefined,
  };

  if ((input.token === undefined) === (input.tokenId === undefined)) {
    problems.push({ path: 'token', message: 'give exactly one of token and token_id' });
  }

  if ((input.cost === null) !== (input.currency === null)) {
    problems.push({ path: 'currency', message: 'cost and currency go together' });
  }

  if (input.occurredAt.getTime() > now.getTime() + FUTURE_SKEW_MS) {
    problems.push({ path: 'occurred_at', message: 'is in the future' });
  }

  if (problems.length > 0) {
    throw invalidInput('invalid usage report', problems);
  }

  return input;
}

class FieldReader {
  constructor(
    private readonly record: Record<string, unknown>,
    private readonly problems: Problems,
  ) {}

  optionalString(name: string, maxLength: number): string | undefined {
    const value = this.record[name];

    if (value === undefined || value === null) return undefined;

    if (typeof value !== 'string' || value === '' || value.length > maxLength) {
      this.problems.push({
        path: name,
        message: `must be a string of 1 to ${maxLength} characters`,
      });
      return undefined;
    }

    return value;
  }

  /** Token ids are SHA-256 digests in base64url (see tokenIdOf). */
  tokenId(name: string): string | undefined {
    const value = this.optionalString(name, 43);

    if (value !== undefined && !/^[A-Za-z0-9_-]{43}$/.test(value)) {
      this.problems.push({ path: name, message: 'is not a token id' });
      return undefined;
    }

    return value;
  }

  requiredString(name: string, maxLength: number): string {
    const value = this.optionalString(name, maxLength);

    if (value === undefined && !this.problems.some((problem) => problem.path === name)) {
      this.problems.push({ path: name, message: 'is required' });
    }

    return value ?? '';
  }

  units(name: string, fallback: number, max = MAX_UNITS): number {
    const value = this.record[name];

    if (value === undefined) return fallback;

    if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > max) {
      this.problems.push({ path: name, message: 'must be a whole number of at least 0' });
      return 0;
    }

    return value;
  }

  /** Costs are decimals: a JSON number or a decimal string, at most 6 places. */
  cost(name: string): string | null {
    const value = this.record[name];

    if (value === undefined || value === null) return null;

    const text = typeof value === 'number' ? String(value) : value;

    // At most a billion a report: a typo in one report must not overflow anyone's totals.
    if (typeof text !== 'string' || !/^\d{1,9}(\.\d{1,6})?$/.test(text)) {
      this.problems.push({
        path: name,
        message: 'must be a decimal from 0 to 999999999.999999',
      });
      return null;
    }

    return text;
  }

  currency(name: string): string | null {
    const value = this.record[name];

    if (value === undefined || value === null) return null;

    if (typeof value !== 'string' || !/^[A-Z]{3}$/.test(value)) {
      this.problems.push({ path: name, message: 'must be an ISO 4217 code such as USD' });
      return null;
    }

    return value;
  }

  timestamp(name: string, fallback: Date): Date {
    const value = this.record[name];

    if (value === undefined) return fallback;

    const parsed = typeof value === 'string' ? new Date(value) : new Date(Number.NaN);

    if (
      Number.isNaN(parsed.getTime()) ||
      typeof value !== 'string' ||
      !/^\d{4}-\d{2}-\d{2}T/.test(value)
    ) {
      this.problems.push({ path: name, message: 'must be an RFC 3339 date-time' });
      return fallback;
    }

    return parsed;
  }
}
