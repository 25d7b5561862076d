/** Parsed command-line options, as node:util parseArgs gives them. */
export type Options = Record<string, string | boolean | undefined>;

/** A mistake in how a command was called; printed with the usage, exit code 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

export function requiredString(options: Options, name: string): string {
  const value = optionalString(options, name);

  if (value === undefined) {
    throw new UsageError(`--${name} is required`);
  }

  return value;
}

export function optionalString(options: Options, name: string): string | undefined {
  const value = options[name];

  if (value === undefined) return undefined;

  if (typeof value !== 'string' || value.trim() === '') {
    throw new UsageError(`--${name} needs a value`);
  }

  return value.trim();
}

export function secondsOption(options: Options, name: string, fallback: number): number {
  const raw = options[name];

  if (raw === undefined) return fallback;

  const value = Number(raw);

  if (typeof raw !== 'string' || !Number.isInteger(value) || value < 0) {
    throw new UsageError(`--${name} must be a whole number of seconds`);
  }

  return value;
}

/** An ISO 8601 instant (or a date, meaning its UTC midnight). */
export function instantOption(options: Options, name: string): Date {
  const value = requiredString(options, name);
  const date = new Date(value);

  if (!/^\d{4}-\d{2}-\d{2}/.test(value) || Number.isNaN(date.getTime())) {
    throw new UsageError(`--${name} must be an ISO 8601 date or date-time`);
  }

  return date;
}
