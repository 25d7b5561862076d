import { countAdmins, createAdmin, CLI_AUDIT } from '@tollgate/core';

import { ConfigError, loadConfig, type Config } from './config.js';
import { createLogger, type Logger } from './logger.js';
import { startTollgate, type RunningTollgate } from './server.js';

/** Entry point of `scripts/start` and the container: configure, start, stop on signals. */
async function main(): Promise<void> {
  const config = loadConfigOrExit();
  const logger = createLogger({ level: config.logLevel });

  config.warnings.forEach((warning) => logger.warn({ event: 'config.unsafe_default' }, warning));

  const tollgate = await startTollgate(config, { logger });

  logger.info(
    { event: 'server.started', publicUrl: tollgate.publicUrl, adminUrl: tollgate.adminUrl },
    'tollgate started',
  );
  await announceAdminAccess(config, tollgate, logger);
  stopOnSignals(tollgate, logger);
}

function loadConfigOrExit(): Config {
  try {
    return loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`${error.message}\n`);
      process.exit(2);
    }

    throw error;
  }
}

/**
 * The embedded default bootstraps an admin on first start, so a newcomer can act at once. Its
 * credentials are printed to the terminal exactly once (never to the log stream).
 */
async function announceAdminAccess(
  config: Config,
  tollgate: RunningTollgate,
  logger: Logger,
): Promise<void> {
  const tokenUrl = `${config.issuer}/token`;

  if (config.bootstrapAdmin && (await countAdmins(tollgate.database.db)) === 0) {
    const admin = await createAdmin(tollgate.database.db, 'bootstrap-admin', CLI_AUDIT);
    logger.info({ event: 'admin.bootstrapped', clientId: admin.client_id }, 'admin client created');
    process.stdout.write(
      [
        '',
        'First start: an admin client was created. Its secret is shown only this once:',
        `  client_id:     ${admin.client_id}`,
        `  client_secret: ${admin.client_secret}`,
        '',
        'Get an admin token for the management API (listening on ' + tollgate.adminUrl + '):',
        `  curl -s -u '${admin.client_id}:${admin.client_secret}' \\`,
        `    -d grant_type=client_credentials -d scope=admin ${tokenUrl}`,
        '',
      ].join('\n') + '\n',
    );
    return;
  }

  process.stdout.write(
    [
      '',
      `Tollgate is up: OAuth at ${tollgate.publicUrl}, management API at ${tollgate.adminUrl}.`,
      'Get an admin token with an admin client (create one with',
      `  ./scripts/tollgate admin create --name me${embeddedNote(tollgate)}):`,
      '  curl -s -u "$CLIENT_ID:$CLIENT_SECRET" \\',
      `    -d grant_type=client_credentials -d scope=admin ${tokenUrl}`,
      '',
    ].join('\n') + '\n',
  );
}

/** The embedded database is single-process: the CLI can only open it while the server is down. */
function embeddedNote(tollgate: RunningTollgate): string {
  return tollgate.database.kind === 'embedded' ? ', with the server stopped' : '';
}

function stopOnSignals(tollgate: RunningTollgate, logger: Logger): void {
  let stopping = false;

  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ event: 'server.stopping', signal }, 'stopping: finishing in-flight requests');

    tollgate.close().then(
      () => {
        logger.info({ event: 'server.stopped' }, 'tollgate stopped');
        process.exit(0);
      },
      (error: unknown) => {
        logger.error({ err: error, event: 'server.stop_failed' }, 'stopping failed');
        process.exit(1);
      },
    );
  };

  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

main().catch((error: unknown) => {
  process.stderr.write(
    `tollgate failed to start: ${error instanceof Error ? error.stack : String(error)}\n`,
  );
  process.exit(1);
});
