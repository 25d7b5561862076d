import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

import {
  ClientSecretVerifier,
  closeLapsedSessions,
  FailureLimiter,
  sealLedger,
  loadSigningKeys,
  resetElapsedBudgets,
  type AuditContext,
} from '@tollgate/core';
import {
  deleteExpiredModels,
  deleteExpiredTokens,
  ensureServerSecret,
  findClientForAuthentication,
  migrate,
  openDatabase,
  LiveTokenReader,
  ReplayWriter,
  TokenIssueWriter,
  type Database,
} from '@tollgate/db';
import type Provider from 'oidc-provider';

import { createAdminApp } from './admin/app.js';
import { adminAuthenticator } from './admin-auth.js';
import type { Config } from './config.js';
import { healthRoutes, authorizationServerMetadata } from './http/public-routes.js';
import { requestContext } from './http/request-context.js';
import { sessionCloseRoute } from './http/session-close.js';
import { usageRoute } from './http/usage-route.js';
import type { Logger } from './logger.js';
import { ClientCache } from './oidc/client-cache.js';
import { ClientDirectory } from './oidc/client-directory.js';
import { watchClientChanges } from './oidc/client-watch.js';
import { createProvider } from './oidc/provider.js';

/** A running Tollgate: both listeners, the provider and the database behind them. */
export interface RunningTollgate {
  readonly publicUrl: string;
  readonly adminUrl: string;
  readonly provider: Provider;
  readonly database: Database;
  /** Client rows kept in memory (absent when TOLLGATE_CLIENT_CACHE_SECONDS is 0). */
  readonly clientCache: ClientCache | undefined;
  /** Stops accepting requests, lets in-flight ones finish (up to the grace period), closes. */
  close(): Promise<void>;
}

export interface StartOptions {
  logger: Logger;
  /** An already open database (tests); otherwise the configured one is opened and owned. */
  database?: Database;
}

/** Starts Tollgate: database and migrations, keys, the OAuth provider and both listeners. */
export async function startTollgate(
  config: Config,
  options: StartOptions,
): Promise<RunningTollgate> {
  const { logger } = options;
  const database = options.database ?? (await openDatabase(config.database));

  if (config.migrateOnStart) {
    const applied = await migrate(database, config.migrationsDir);
    logger.info({ event: 'db.migrated', applied }, 'database migrated');
  }

  const clientCache = createClientCache(config, database);
  const stopWatching =
    clientCache === undefined
      ? async () => undefined
      : watchClientChanges(database, clientCache, logger);
  const provider = await buildProvider(config, database, logger, clientCache);
  const admin = createAdminApp({
    db: database.db,
    logger,
    authenticate: adminAuthenticator(provider),
  });

  const publicServer = await listen(serve(provider.callback()), config.host, config.port);
  const adminServer = await listen(serve(admin.callback()), config.adminHost, config.adminPort);
  const stopSweeper = startSweeper(database, config, logger);
  const stopSealer = startSealer(database, config, logger);

  return {
    publicUrl: urlOf(publicServer),
    adminUrl: urlOf(adminServer),
    provider,
    database,
    clientCache,
    close: async () => {
      stopSweeper();
      stopSealer();
      await Promise.all([
        drain(publicServer, config.shutdownGraceSeconds),
        drain(adminServer, config.shutdownGraceSeconds),
      ]);
      await stopWatching();

      if (options.database === undefined) {
        await database.close();
      }
    },
  };
}

/** Client rows kept in memory between requests, unless configured off. */
function createClientCache(config: Config, database: Database): ClientCache | undefined {
  if (config.clientCacheSeconds === 0) {
    return undefined;
  }

  return new ClientCache((clientId) => findClientForAuthentication(database.db, clientId), {
    maxAgeMs: config.clientCacheSeconds * 1000,
    maxEntries: CLIENT_CACHE_ENTRIES,
  });
}

/** Far more agents than one instance serves in a minute; a row is a few kilobytes. */
const CLIENT_CACHE_ENTRIES = 50_000;

async function buildProvider(
  config: Config,
  database: Database,
  logger: Logger,
  clientCache: ClientCache | undefined,
): Promise<Provider> {
  // One verification cache for every endpoint that authenticates clients by secret.
  const verifier = new ClientSecretVerifier(
    undefined,
    new FailureLimiter({
      perClient: config.authFailuresPerClient,
      perAddress: config.authFailuresPerAddress,
      windowSeconds: 60,
    }),
  );
  const signingKeys = await loadSigningKeys(database.db);
  const cookieKey = await ensureServerSecret(
    database.db,
    'cookie_signing_key',
    randomBytes(32).toString('base64url'),
  );
  // Tollgate's own middleware runs before oidc-provider's routes, the request context first so
  // that every later log line carries the request id.
  return createProvider({
    issuer: config.issuer,
    database,
    directory: new ClientDirectory(database.db, clientCache),
    issueWriter: new TokenIssueWriter(database),
    replayWriter: new ReplayWriter(database),
    tokenReader: new LiveTokenReader(database),
    logger,
    signingKeys,
    cookieKeys: [cookieKey],
    trustProxy: config.trustProxy,
    proxyHops: config.proxyHops,
    middleware: [
      requestContext(logger),
      healthRoutes(database),
      authorizationServerMetadata(config.issuer),
      sessionCloseRoute(database.db),
      usageRoute({ db: database.db, verifier }),
    ],
    verifier,
  });
}

/** An HTTP server for a Koa callback (Koa handles its own errors; the promise is not awaited). */
function serve(callback: (req: IncomingMessage, res: ServerResponse) => Promise<void>): Server {
  const server = createServer((req, res) => {
    // Once draining, every answer closes its connection, so keep-alive clients move elsewhere.
    if (draining.has(server)) {
      res.shouldKeepAlive = false;
    }

    void callback(req, res);
  });

  return server;
}

/** Listeners that are shutting down. */
const draining = new WeakSet<Server>();

function listen(server: Server, host: string, port: number): Promise<Server> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve(server);
    });
  });
}

function urlOf(server: Server): string {
  const { address, port } = server.address() as AddressInfo;
  const host = address.includes(':') ? `[${address}]` : address;

  return `http://${host === '0.0.0.0' ? '127.0.0.1' : host}:${port}`;
}

/** Closes a listener: idle keep-alive sockets at once, busy ones after the grace period. */
async function drain(server: Server, graceSeconds: number): Promise<void> {
  draining.add(server);
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  server.closeIdleConnections();

  const timer = setTimeout(() => server.closeAllConnections(), graceSeconds * 1000);
  await closed;
  clearTimeout(timer);
}

const SWEEPER_AUDIT: AuditContext = { actor: 'tollgate', requestId: null, ip: null };

/** Periodically deletes expired oidc-provider rows and token rows past their retention. */
function startSweeper(database: Database, config: Config, logger: Logger): () => void {
  const sweep = async () => {
    try {
      const models = await deleteExpiredModels(database.db);
      const before = new Date(Date.now() - config.tokenRetentionSeconds * 1000);
      const tokens = await deleteExpiredTokens(database.db, before);
      const sessions = await closeLapsedSessions(database.db, SWEEPER_AUDIT);
      const budgets = await resetElapsedBudgets(database.db, SWEEPER_AUDIT);

      if (models + tokens + sessions + budgets > 0) {
        logger.info({ event: 'db.swept', models, tokens, sessions, budgets }, 'expired rows swept');
      }
    } catch (error) {
      logger.warn({ err: error, event: 'db.sweep_failed' }, 'sweeping expired rows failed');
    }
  };
  const timer = setInterval(() => void sweep(), config.sweepIntervalSeconds * 1000);
  timer.unref();

  return () => clearInterval(timer);
}

/** Seals new ledger events into the hash chain every few seconds (one instance at a time). */
function startSealer(database: Database, config: Config, logger: Logger): () => void {
  let running = false;
  const seal = async () => {
    if (running) return;
    running = true;

    try {
      await sealLedger(database.db);
    } catch (error) {
      logger.warn({ err: error, event: 'ledger.seal_failed' }, 'sealing the ledger chain failed');
    } finally {
      running = false;
    }
  };
  const timer = setInterval(() => void seal(), config.ledgerSealIntervalMs);
  timer.unref();

  return () => clearInterval(timer);
}
