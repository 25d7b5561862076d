import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';

import type { Database } from './database.js';
import { MigrationError } from './errors.js';

/** Any key works, as long as every instance uses the same one to serialise migrations. */
const MIGRATION_LOCK_KEY = 7_411_820_259;

const MIGRATION_FILE = /^\d{4}_[a-z0-9_]+\.sql$/;

export interface MigrationFile {
  name: string;
  sql: string;
  checksum: string;
}

/** Reads the numbered `.sql` files of a directory in order. */
export async function readMigrations(directory: string): Promise<MigrationFile[]> {
  const names = (await readdir(directory)).filter((name) => MIGRATION_FILE.test(name)).sort();

  return Promise.all(
    names.map(async (name) => {
      const sql = await readFile(join(directory, name), 'utf8');

      return { name, sql, checksum: createHash('sha256').update(sql).digest('hex') };
    }),
  );
}

/**
 * Applies every migration not yet recorded, each in a transaction of its own, in file order.
 * Instances starting together take turns on an advisory lock; an applied file whose content
 * changed since is refused, because migrations are append-only.
 */
export async function migrate(database: Database, directory: string): Promise<string[]> {
  const files = await readMigrations(directory);
  const applied: string[] = [];

  await database.scriptTransaction(async (run) => {
    await run(
      `CREATE TABLE IF NOT EXISTS schema_migrations (
         name text PRIMARY KEY,
         checksum text NOT NULL,
         applied_at timestamptz NOT NULL DEFAULT now()
       )`,
    );
  });

  for (const file of files) {
    const wasApplied = await database.scriptTransaction(async (run) => {
      await run('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK_KEY]);

      const rows = (await run('SELECT checksum FROM schema_migrations WHERE name = $1', [
        file.name,
      ])) as { checksum: string }[];
      const recorded = rows[0];

      if (recorded !== undefined) {
        if (recorded.checksum !== file.checksum) {
          throw new MigrationError(`migration ${file.name} was changed after it was applied`);
        }

        return false;
      }

      await run(file.sql);
      await run('INSERT INTO schema_migrations (name, checksum) VALUES ($1, $2)', [
        file.name,
        file.checksum,
      ]);

      return true;
    });

    if (wasApplied) {
      applied.push(file.name);
    }
  }

  return applied;
}
