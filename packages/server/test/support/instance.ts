import { Writable } from 'node:stream';

import type { TestDatabase } from '../../../db/test/support/database.js';
import { createLogger, loadConfig, startTollgate } from '../../src/index.js';
import { clientCredentialsToken, freePort, type TestTollgate } from './tollgate.js';

/** How a test starts one more Tollgate on a database someone else created. */
export interface InstanceOptions {
  /** The database the instance serves; its URL is used unless `databaseUrl` says otherwise. */
  test: TestDatabase;
  /** An admin client that already exists in that database. */
  admin: { clientId: string; clientSecret: string };
  /** Where the instance's own pool connects (a proxy, say); defaults to the test's URL. */
  databaseUrl?: string;
  /** The issuer it announces; defaults to its own loopback address. */
  issuer?: string;
  /** A port chosen beforehand (to build a shared issuer from it); a free one otherwise. */
  port?: number;
  env?: Record<string, string>;
}

/**
 * Starts a Tollgate that opens its own Postgres pool, as a separate deployment would, instead
 * of sharing the test's. `issuer` in the result is the instance's own address, so the
 * request helpers reach this instance even when all instances announce one issuer.
 * Stopping it never drops the database: the test that created it does.
 */
export async function startInstance(options: InstanceOptions): Promise<TestTollgate> {
  const url = options.databaseUrl ?? options.test.url;

  if (url === undefined) {
    throw new Error('a separate instance needs a Postgres database URL');
  }

  const port = options.port ?? (await freePort());
  const address = `http://127.0.0.1:${port}`;
  const config = loadConfig({
    TOLLGATE_ISSUER: options.issuer ?? address,
    TOLLGATE_HOST: '127.0.0.1',
    TOLLGATE_PORT: String(port),
    TOLLGATE_ADMIN_PORT: '0',
    TOLLGATE_MIGRATE: 'false',
    TOLLGATE_DB_POOL_SIZE: '4',
    DATABASE_URL: url,
    ...options.env,
  });
  const logLines: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, done) {
      logLines.push(chunk.toString('utf8'));
      done();
    },
  });
  const logger = createLogger({ level: 'debug', destination });
  const server = await startTollgate(config, { logger });
  const { admin } = options;

  return {
    server,
    issuer: address,
    adminUrl: server.adminUrl,
    test: options.test,
    logLines,
    admin,
    adminToken: () => clientCredentialsToken(address, admin.clientId, admin.clientSecret, 'admin'),
    stop: () => server.close(),
  };
}
