/** Raised when the migration files and the database's record of them disagree. */
export class MigrationError extends Error {
  override readonly name = 'MigrationError';
}

/** A write collided with a unique constraint (e.g. an audience already registered). */
export class UniqueViolationError extends Error {
  override readonly name = 'UniqueViolationError';

  constructor(readonly constraint: string | undefined) {
    super(`unique constraint violated${constraint === undefined ? '' : `: ${constraint}`}`);
  }
}

/** A value the database cannot hold (a NUL byte, a date out of range, text too long). */
export class InvalidValueError extends Error {
  override readonly name = 'InvalidValueError';
}

/** SQLSTATEs of values that cannot be stored: the request's fault, not the server's. */
const INVALID_VALUE_CODES = new Set([
  '22001',
  '22003',
  '22007',
  '22008',
  '22021',
  '22P02',
  '22P05',
  // program_limit_exceeded: e.g. a value too large for an index entry.
  '54000',
]);

/** The database could not be reached or failed in a way that is not the request's fault. */
export class DatabaseUnavailableError extends Error {
  override readonly name = 'DatabaseUnavailableError';
}

const UNIQUE_VIOLATION = '23505';

/** SQLSTATE classes that mean the server or the connection is gone, not that the query is bad. */
const UNAVAILABLE_CLASSES = ['08', '53', '57', '58'];

const CONNECTION_ERROR_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT']);

const UNAVAILABLE_MESSAGES = new RegExp(
  [
    'Connection terminated',
    'connection timeout',
    'timeout exceeded when trying to connect',
    'not queryable',
    'Query read timeout',
  ].join('|'),
  'i',
);

/** Turns a driver error into one of the domain errors above, or returns it unchanged. */
export function translateDatabaseError(error: unknown): unknown {
  // Not `instanceof Error`: errors from Node's own sockets may come from another realm.
  if (typeof error !== 'object' || error === null) {
    return error;
  }

  const { code, constraint, message } = error as {
    code?: unknown;
    constraint?: unknown;
    message?: unknown;
  };

  if (code === UNIQUE_VIOLATION) {
    return new UniqueViolationError(typeof constraint === 'string' ? constraint : undefined);
  }

  if (typeof code === 'string' && INVALID_VALUE_CODES.has(code)) {
    return new InvalidValueError(String(message), { cause: error });
  }

  const isUnavailable =
    (typeof code === 'string' && UNAVAILABLE_CLASSES.includes(code.slice(0, 2))) ||
    (typeof code === 'string' && CONNECTION_ERROR_CODES.has(code)) ||
    (typeof message === 'string' && UNAVAILABLE_MESSAGES.test(message));

  return isUnavailable ? new DatabaseUnavailableError(String(message), { cause: error }) : error;
}
