import { mkdirSync } from 'node:fs';

import { acquireDataDirLock } from './data-dir-lock.js';

import { PGlite } from '@electric-sql/pglite';
import { Kysely, PostgresDialect } from 'kysely';
import { PGliteDialect } from 'kysely-pglite-dialect';
import pg from 'pg';

import type { Schema } from './schema.js';

/** Postgres OIDs whose text form we keep as strings on both drivers. */
const INT8_OID = 20;

/** Runs raw SQL (several statements allowed) inside one transaction of the underlying driver. */
export type ScriptTransaction = <T>(
  work: (run: (sql: string, params?: unknown[]) => Promise<unknown[]>) => Promise<T>,
) => Promise<T>;

/** How to reach the database: a server by URL, or the embedded engine under a directory. */
export type DatabaseTarget =
  | { kind: 'postgres'; url: string; poolSize: number; queryTimeoutMs?: number }
  | { kind: 'embedded'; dataDir: string | null };

/** An open database: the Kysely handle plus the few driver-level abilities Kysely lacks. */
export interface Database {
  readonly db: Kysely<Schema>;
  readonly kind: DatabaseTarget['kind'];
  readonly scriptTransaction: ScriptTransaction;
  /** Checks the connection with a trivial query; throws when the database cannot answer. */
  ping(): Promise<void>;
  close(): Promise<void>;
}

/** Opens the database named by the target; the embedded engine keeps its files in dataDir. */
export async function openDatabase(target: DatabaseTarget): Promise<Database> {
  return target.kind === 'postgres'
    ? openPostgres(target.url, target.poolSize, target.queryTimeoutMs ?? DEFAULT_QUERY_TIMEOUT_MS)
    : openEmbedded(target.dataDir);
}

/** Every query of an authorization server is short; one that takes longer means trouble. */
const DEFAULT_QUERY_TIMEOUT_MS = 3000;

function openPostgres(url: string, poolSize: number, queryTimeoutMs: number): Database {
  const types = {
    getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
      oid === INT8_OID
        ? (value: string) => value
        : pg.types.getTypeParser(oid, format ?? 'text')) as typeof pg.types.getTypeParser,
  };
  const pool = new pg.Pool({
    connectionString: url,
    max: poolSize,
    types,
    // A database that stops answering must become an error the caller can report, not a hang.
    connectionTimeoutMillis: 2000,
    query_timeout: queryTimeoutMs,
    keepAlive: true,
  });

  // A client losing its connection, idle or checked out, must not crash the process: the query
  // in flight fails (and is answered 503), and the pool opens a new connection next time.
  pool.on('error', () => undefined);
  pool.on('connect', (client) => client.on('error', () => undefined));

  const db = new Kysely<Schema>({ dialect: new PostgresDialect({ pool }) });

  const scriptTransaction: ScriptTransaction = async (work) => {
    const client = await pool.connect();

    try {
      await client.query('BEGIN');
      const result = await work(async (sql, params) => (await client.query(sql, params)).rows);
      await client.query('COMMIT');

      return result;
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw error;
    } finally {
      client.release();
    }
  };

  return {
    db,
    kind: 'postgres',
    scriptTransaction,
    ping: async () => {
      await pool.query('SELECT 1');
    },
    close: () => db.destroy(),
  };
}

async function openEmbedded(dataDir: string | null): Promise<Database> {
  // The embedded engine is single-process: a second process on the same files would corrupt them.
  const releaseLock = dataDir === null ? () => undefined : acquireDataDirLock(mkdirp(dataDir));

  const engine = await PGlite.create({
    ...(dataDir === null ? {} : { dataDir }),
    parsers: { [INT8_OID]: (value: string) => value },
  }).catch((error: unknown) => {
    releaseLock();
    throw error;
  });
  const db = new Kysely<Schema>({ dialect: new PGliteDialect(engine) });

  const scriptTransaction: ScriptTransaction = (work) =>
    engine.transaction((tx) =>
      work(async (sql, params) => {
        if (params === undefined || params.length === 0) {
          const results = await tx.exec(sql);

          return results.at(-1)?.rows ?? [];
        }

        return (await tx.query(sql, params)).rows;
      }),
    );

  return {
    db,
    kind: 'embedded',
    scriptTransaction,
    ping: async () => {
      await engine.query('SELECT 1');
    },
    close: async () => {
      await db.destroy();
      releaseLock();
    },
  };
}

function mkdirp(directory: string): string {
  mkdirSync(directory, { recursive: true });

  return directory;
}
