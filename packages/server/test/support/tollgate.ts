import { createServer } from 'node:net';
import { Writable } from 'node:stream';

import { createAdmin, CLI_AUDIT } from '@tollgate/core';

import {
  createTestDatabase,
  primaryBackend,
  type Backend,
  type TestDatabase,
} from '../../../db/test/support/database.js';
import { createLogger, loadConfig, startTollgate, type RunningTollgate } from '../../src/index.js';

/** A Tollgate started by a test on loopback ports, with its log lines kept for inspection. */
export interface TestTollgate {
  server: RunningTollgate;
  issuer: string;
  adminUrl: string;
  test: TestDatabase;
  logLines: string[];
  admin: { clientId: string; clientSecret: string };
  /** A fresh admin bearer token for the management API. */
  adminToken(): Promise<string>;
  /** Stops the server; `keepDatabase` leaves the database for a restart on the same data. */
  stop(options?: { keepDatabase?: boolean }): Promise<void>;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      probe.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

export async function startTestTollgate(
  options: { backend?: Backend; database?: TestDatabase; env?: Record<string, string> } = {},
): Promise<TestTollgate> {
  const test = options.database ?? (await createTestDatabase(options.backend ?? primaryBackend()));
  const port = await freePort();
  const issuer = `http://127.0.0.1:${port}`;
  const config = loadConfig({
    TOLLGATE_ISSUER: issuer,
    TOLLGATE_HOST: '127.0.0.1',
    TOLLGATE_PORT: String(port),
    TOLLGATE_ADMIN_PORT: '0',
    TOLLGATE_MIGRATE: 'false',
    TOLLGATE_LOG_LEVEL: 'debug',
    ...(test.url === undefined ? {} : { DATABASE_URL: test.url }),
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
  const server = await startTollgate(config, { logger, database: test.database });
  const created = await createAdmin(test.database.db, 'test-admin', CLI_AUDIT);
  const admin = { clientId: created.client_id, clientSecret: created.client_secret };

  return {
    server,
    issuer,
    adminUrl: server.adminUrl,
    test,
    logLines,
    admin,
    adminToken: () => clientCredentialsToken(issuer, admin.clientId, admin.clientSecret, 'admin'),
    stop: async ({ keepDatabase = false } = {}) => {
      await server.close();

      if (!keepDatabase) {
        await test.drop();
      }
    },
  };
}

/** Gets a token with HTTP Basic client authentication; fails the test on any error. */
export async function clientCredentialsToken(
  issuer: string,
  clientId: string,
  clientSecret: string,
  scope: string,
  resource?: string,
): Promise<string> {
  const body = new URLSearchParams({ grant_type: 'client_credentials', scope });

  if (resource !== undefined) {
    body.set('resource', resource);
  }

  const response = await fetch(`${issuer}/token`, {
    method: 'POST',
    headers: { authorization: basicAuth(clientId, clientSecret) },
    body,
  });
  const json = (await response.json()) as { access_token?: string };

  if (response.status !== 200 || json.access_token === undefined) {
    throw new Error(`token request failed: ${response.status} ${JSON.stringify(json)}`);
  }

  return json.access_token;
}

export function basicAuth(clientId: string, clientSecret: string): string {
  const encode = (value: string) => encodeURIComponent(value);

  return `Basic ${Buffer.from(`${encode(clientId)}:${encode(clientSecret)}`).toString('base64')}`;
}

/** Calls the management API as admin with a JSON body; returns status and parsed JSON. */
export async function adminCall(
  tollgate: TestTollgate,
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; json: Record<string, unknown> }> {
  const token = await tollgate.adminToken();
  const response = await fetch(`${tollgate.adminUrl}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${token}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();

  return {
    status: response.status,
    json: text === '' ? {} : (JSON.parse(text) as Record<string, unknown>),
  };
}
