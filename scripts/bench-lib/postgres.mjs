// Scratch databases for one bench run: created with a random name, dropped at the end. Only
// databases this run created are ever dropped.
import { randomBytes } from 'node:crypto';

import { loadPg } from './modules.mjs';

/** @type {Set<string>} */
const created = new Set();

/**
 * @param {string} adminUrl a database URL for CREATE/DROP DATABASE (usually .../postgres)
 * @param {string} prefix
 * @returns {Promise<string>} the URL of the new, empty database
 */
export async function createScratchDatabase(adminUrl, prefix) {
  const name = `${prefix}_${randomBytes(6).toString('hex')}`;

  await withClient(adminUrl, (client) => client.query(`CREATE DATABASE ${name}`));
  created.add(name);

  const url = new URL(adminUrl);
  url.pathname = `/${name}`;

  return url.toString();
}

/** Drops every database this run created; FORCE ends any session still attached. */
export async function dropScratchDatabases(adminUrl) {
  const names = [...created];
  if (names.length === 0) return names;

  await withClient(adminUrl, async (client) => {
    for (const name of names) {
      await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      created.delete(name);
    }
  });

  return names;
}

/**
 * @template T
 * @param {string} url
 * @param {(client: any) => Promise<T>} work
 * @returns {Promise<T>}
 */
async function withClient(url, work) {
  const { Client } = await loadPg();
  const client = new Client({ connectionString: url });

  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

/**
 * Process ids of the Postgres backends connected to one of this run's databases.
 * @param {string} adminUrl
 * @param {string} database
 * @returns {Promise<number[]>}
 */
export async function backendPids(adminUrl, database) {
  const { rows } = await withClient(adminUrl, (client) =>
    client.query('SELECT pid FROM pg_stat_activity WHERE datname = $1', [database]),
  );

  return rows.map((row) => Number(row.pid));
}
