import pino, { type Logger } from 'pino';

/**
 * Every field that may carry a credential, wherever it appears in a log object. Tokens and
 * secrets are never logged; the redaction is the safety net for a field logged by mistake.
 */
export const REDACTED_PATHS = [
  'authorization',
  'headers.authorization',
  'req.headers.authorization',
  'headers.cookie',
  'req.headers.cookie',
  'client_secret',
  '*.client_secret',
  'client_assertion',
  '*.client_assertion',
  'token',
  '*.token',
  'access_token',
  '*.access_token',
  'refresh_token',
  '*.refresh_token',
  'subject_token',
  '*.subject_token',
  'actor_token',
  '*.actor_token',
  'password',
  '*.password',
  'secret',
  '*.secret',
];

export type { Logger };

export interface LoggerOptions {
  level: string;
  /** Where lines go; tests pass a stream to read them back. */
  destination?: pino.DestinationStream;
}

export function createLogger(options: LoggerOptions): Logger {
  return pino(
    {
      level: options.level,
      base: { service: 'tollgate' },
      redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    options.destination,
  );
}
