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

/** Ends a subscription made with `Database.listen`. */
export type Unlisten = () => Promise<void>;

/** How often a listening connection proves it is alive (and how long it may take to). */
const LISTEN_HEARTBEAT_MS = 5000;

/** Channels are fixed names in our own code, never input: anything else is refused. */
const CHANNEL_NAME = /^[a-z_]{1,63}$/;

function assertChannel(channel: string): void {
  if (!CHANNEL_NAME.test(channel)) {
    throw new Error(`not a channel name: ${channel}`);
  }
}

/** How to reach the database: a server by URL, or the embedded engine under a directory. */
export type DatabaseTarget =
  | { kind: 'postgres'; url: string; poolSize: number; queryTimeoutMs?: number }
  | { kind: 'embedded'; dataDir: string | null };

/** An open database: the Kysely handle plus the few driver-level abilities Kysely lacks. */
export interface Database {
  readonly db: Kysely<Schema>;
  readonly kind: DatabaseTarget['kind'];
  readonly scriptTransaction: ScriptTransaction;
  /**
   * Runs one hot statement under a fixed name, so that Postgres parses and plans it once per
   * connection rather than on every request. Such statements name every column they read or
   * return (never `*`): a migration applied by another instance must not change the shape of a
   * plan that is already prepared.
   */
  prepared<Row>(name: string, text: string, values: readonly unknown[]): Promise<Row[]>;
  /**
   * Delivers the payloads of NOTIFY on a channel. `onLost` is called once if the subscription
   * breaks (notifications may then have been missed); subscribe again to resume.
   */
  listen(
    channel: string,
    onNotify: (payload: string) => void,
    onLost: () => void,
  ): Promise<Unlisten>;
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
    prepared: async <Row>(name: string, text: string, values: readonly unknown[]) =>
      (await pool.query({ name, text, values: [...values] })).rows as Row[],
    listen: (channel, onNotify, onLost) => listenOnOwnConnection(url, channel, onNotify, onLost),
    ping: async () => {
      await pool.query('SELECT 1');
    },
    close: () => db.destroy(),
  };
}

/**
 * LISTEN needs a connection of its own for as long as it lasts, outside the pool. A dropped
 * connection is reported once through onLost; the caller decides when to subscribe again.
 */
async function listenOnOwnConnection(
  url: string,
  channel: string,
  onNotify: (payload: string) => void,
  onLost: () => void,
): Promise<Unlisten> {
  assertChannel(channel);

  const client = new pg.Client({
    connectionString: url,
    connectionTimeoutMillis: 2000,
    query_timeout: LISTEN_HEARTBEAT_MS,
    keepAlive: true,
  });
  let ended = false;
  const timers: { heartbeat?: NodeJS.Timeout } = {};
  const lost = () => {
    clearInterval(timers.heartbeat);

    if (!ended) {
      ended = true;
      onLost();
      void client.end().catch(() => undefined);
    }
  };

  client.on('error', lost);
  client.on('end', lost);
  client.on('notification', (message) => {
    if (message.channel === channel) {
      onNotify(message.payload ?? '');
    }
  });

  try {
    await client.connect();
    await client.query(`LISTEN ${channel}`);
  } catch (error) {
    ended = true;
    await client.end().catch(() => undefined);
    throw error;
  }

  // A connection that only listens sends nothing, so a server that dropped it would go
  // unnoticed; a regular trivial query finds out.
  timers.heartbeat = setInterval(() => {
    client.query('SELECT 1').catch(lost);
  }, LISTEN_HEARTBEAT_MS);
  timers.heartbeat.unref();

  return async () => {
    clearInterval(timers.heartbeat);
    ended = true;
    await client.end().catch(() => undefined);
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
    // The embedded engine is one in-process connection; naming buys nothing there.
    prepared: async <Row>(_name: string, text: string, values: readonly unknown[]) =>
      (await engine.query<Row>(text, [...values])).rows,
    listen: async (channel, onNotify) => {
      assertChannel(channel);
      const unlisten = await engine.listen(channel, onNotify);

      return async () => unlisten();
    },
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
