import { fileURLToPath } from 'node:url';
import { resolve } from 'node:path';

import type { DatabaseTarget } from '@tollgate/db';

/** Everything Tollgate reads from its environment, parsed and checked once at start. */
export interface Config {
  readonly issuer: string;
  readonly host: string;
  readonly port: number;
  readonly adminHost: string;
  readonly adminPort: number;
  readonly database: DatabaseTarget;
  readonly migrateOnStart: boolean;
  readonly migrationsDir: string;
  readonly bootstrapAdmin: boolean;
  readonly logLevel: string;
  readonly production: boolean;
  readonly trustProxy: boolean;
  /** With trustProxy: how many proxies append to X-Forwarded-For. */
  readonly proxyHops: number;
  /** Expired token rows are kept this long for audit and late usage reports, then swept. */
  readonly tokenRetentionSeconds: number;
  readonly sweepIntervalSeconds: number;
  /** Failed client authentications per minute before argon2 is withheld (per client / address). */
  readonly authFailuresPerClient: number;
  readonly authFailuresPerAddress: number;
  /** How often new ledger events are sealed into the hash chain. */
  readonly ledgerSealIntervalMs: number;
  /** How long in-flight requests may take to finish after SIGTERM. */
  readonly shutdownGraceSeconds: number;
  /** How long a client row may be reused from memory (0: read it on every request). */
  readonly clientCacheSeconds: number;
  /** Dev-only defaults in force, to be announced loudly at start. */
  readonly warnings: readonly string[];
}

/** Raised with every problem found in the environment at once. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';

  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n  - ${problems.join('\n  - ')}`);
  }
}

const DEFAULT_MIGRATIONS_DIR = fileURLToPath(new URL('../../../migrations', import.meta.url));
const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];
type Env = Record<string, string | undefined>;

/** Parses the environment into a frozen Config, or throws a ConfigError listing every problem. */
export function loadConfig(env: Env = process.env): Config {
  const problems: string[] = [];
  const warnings: string[] = [];
  const read = new EnvReader(env, problems);
  const production = env.NODE_ENV === 'production';

  const port = read.integer('TOLLGATE_PORT', 4000, 0, 65_535);
  // Without an explicit issuer, the local one follows the port, so discovery stays consistent.
  const issuer = read.issuer('TOLLGATE_ISSUER', `http://localhost:${port}`);
  const databaseUrl = env.DATABASE_URL?.trim() || undefined;
  const database: DatabaseTarget =
    databaseUrl === undefined
      ? { kind: 'embedded', dataDir: resolve(env.TOLLGATE_DATA_DIR ?? './.tollgate') }
      : {
          kind: 'postgres',
          url: databaseUrl,
          poolSize: read.integer('TOLLGATE_DB_POOL_SIZE', 10, 1, 200),
          queryTimeoutMs: read.integer('TOLLGATE_DB_QUERY_TIMEOUT_MS', 3000, 100, 600_000),
        };

  if (database.kind === 'embedded') {
    (production ? problems : warnings).push(
      'no DATABASE_URL: using the embedded single-process database (not for production)',
    );
  }

  if (issuer.startsWith('http:')) {
    (production ? problems : warnings).push(
      `TOLLGATE_ISSUER ${issuer} is not https (allowed for local development only)`,
    );
  }

  const config: Config = {
    issuer,
    host: env.TOLLGATE_HOST ?? '0.0.0.0',
    port,
    adminHost: env.TOLLGATE_ADMIN_BIND ?? '127.0.0.1',
    adminPort: read.integer('TOLLGATE_ADMIN_PORT', 4001, 0, 65_535),
    database,
    migrateOnStart: read.boolean('TOLLGATE_MIGRATE', true),
    migrationsDir: resolve(env.TOLLGATE_MIGRATIONS_DIR ?? DEFAULT_MIGRATIONS_DIR),
    bootstrapAdmin: read.boolean('TOLLGATE_BOOTSTRAP_ADMIN', database.kind === 'embedded'),
    logLevel: read.oneOf('TOLLGATE_LOG_LEVEL', 'info', LOG_LEVELS),
    production,
    trustProxy: read.boolean('TOLLGATE_TRUST_PROXY', false),
    proxyHops: read.integer('TOLLGATE_PROXY_HOPS', 1, 1, 10),
    tokenRetentionSeconds: read.integer(
      'TOLLGATE_TOKEN_RETENTION_SECONDS',
      7 * 86_400,
      0,
      366 * 86_400,
    ),
    sweepIntervalSeconds: read.integer('TOLLGATE_SWEEP_INTERVAL_SECONDS', 300, 1, 86_400),
    authFailuresPerClient: read.integer('TOLLGATE_AUTH_FAILURES_PER_CLIENT', 10, 1, 1_000_000),
    authFailuresPerAddress: read.integer('TOLLGATE_AUTH_FAILURES_PER_ADDRESS', 100, 1, 1_000_000),
    ledgerSealIntervalMs: read.integer('TOLLGATE_LEDGER_SEAL_INTERVAL_MS', 2000, 100, 600_000),
    shutdownGraceSeconds: read.integer('TOLLGATE_SHUTDOWN_GRACE_SECONDS', 10, 0, 600),
    clientCacheSeconds: read.integer('TOLLGATE_CLIENT_CACHE_SECONDS', 60, 0, 3600),
    warnings,
  };

  if (problems.length > 0) {
    throw new ConfigError(problems);
  }

  return Object.freeze(config);
}

/** Reads typed values, collecting problems instead of stopping at the first one. */
class EnvReader {
  constructor(
    private readonly env: Env,
    private readonly problems: string[],
  ) {}

  integer(name: string, fallback: number, min: number, max: number): number {
    const raw = this.env[name];

    if (raw === undefined || raw === '') return fallback;

    const value = Number(raw);

    if (!Number.isInteger(value) || value < min || value > max) {
      this.problems.push(`${name} must be an integer from ${min} to ${max}, got "${raw}"`);
      return fallback;
    }

    return value;
  }

  boolean(name: string, fallback: boolean): boolean {
    const raw = this.env[name]?.toLowerCase();

    if (raw === undefined || raw === '') return fallback;
    if (['1', 'true', 'yes', 'on'].includes(raw)) return true;
    if (['0', 'false', 'no', 'off'].includes(raw)) return false;

    this.problems.push(`${name} must be true or false, got "${raw}"`);
    return fallback;
  }

  oneOf(name: string, fallback: string, allowed: string[]): string {
    const raw = this.env[name];

    if (raw === undefined || raw === '') return fallback;
    if (allowed.includes(raw)) return raw;

    this.problems.push(`${name} must be one of ${allowed.join(', ')}, got "${raw}"`);
    return fallback;
  }

  /** RFC 8414 §2: an issuer is a URL with no query or fragment, used byte for byte as given. */
  issuer(name: string, fallback: string): string {
    const raw = this.env[name] ?? fallback;
    const url = URL.parse(raw);

    if (url === null || !['http:', 'https:'].includes(url.protocol) || url.search || url.hash) {
      this.problems.push(`${name} must be an http(s) URL without query or fragment, got "${raw}"`);
      return fallback;
    }

    if (raw.endsWith('/')) {
      this.problems.push(`${name} must not end with "/" (the issuer is compared byte for byte)`);
    }

    return raw;
  }
}
