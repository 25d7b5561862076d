import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';

import pg from 'pg';

import { migrate, openDatabase, type Database } from '@tollgate/db';

export const MIGRATIONS_DIR = fileURLToPath(new URL('../../../../migrations', import.meta.url));

export type Backend = 'postgres' | 'embedded';

/** Backends this run can test: embedded always, Postgres when DATABASE_URL is set. */
export function availableBackends(): Backend[] {
  return process.env.DATABASE_URL === undefined ? ['embedded'] : ['postgres', 'embedded'];
}

/** The backend a test uses when it does not care: real Postgres when there is one. */
export function primaryBackend(): Backend {
  return process.env.DATABASE_URL === undefined ? 'embedded' : 'postgres';
}

export interface TestDatabase {
  database: Database;
  /** The URL of the fresh database (Postgres only), for servers the test starts itself. */
  url: string | undefined;
  drop(): Promise<void>;
}

/**
 * A fresh, migrated database of its own for one test file: a new Postgres database named
 * after a random suffix (dropped afterwards), or an in-memory embedded one.
 */
export async function createTestDatabase(
  backend: Backend = primaryBackend(),
): Promise<TestDatabase> {
  if (backend === 'embedded') {
    const database = await openDatabase({ kind: 'embedded', dataDir: null });
    await migrate(database, MIGRATIONS_DIR);

    return { database, url: undefined, drop: () => database.close() };
  }

  const adminUrl = process.env.DATABASE_URL;

  if (adminUrl === undefined) {
    throw new Error('DATABASE_URL is needed for the postgres backend');
  }

  const name = `tollgate_test_${randomBytes(6).toString('hex')}`;
  await withAdminClient(adminUrl, (client) => client.query(`CREATE DATABASE ${name}`));

  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  const database = await openDatabase({ kind: 'postgres', url: url.href, poolSize: 4 });
  await migrate(database, MIGRATIONS_DIR);

  return {
    database,
    url: url.href,
    drop: async () => {
      await database.close();
      await withAdminClient(adminUrl, (client) =>
        client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`),
      );
    },
  };
}

async function withAdminClient<T>(
  url: string,
  work: (client: pg.Client) => Promise<T>,
): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();

  try {
    return await work(client);
  } finally {
    await client.end();
  }
}
