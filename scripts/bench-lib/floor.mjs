// Starts the floor target: a bare HTTP server that signs one JWT and inserts one row.
import { join } from 'node:path';

import { newKeyPair } from './keys.mjs';
import { ROOT } from './modules.mjs';
import { createScratchDatabase } from './postgres.mjs';
import { freePort, startNode, waitForLine } from './processes.mjs';

/** The same pool size Tollgate uses by default (TOLLGATE_DB_POOL_SIZE). */
const POOL_SIZE = 10;

/**
 * @param {{ logDir: string, postgresUrl: string }} options
 * @returns {Promise<{ name: string, child: import('node:child_process').ChildProcess,
 *   database: string, url: string }>}
 */
export async function startFloor({ logDir, postgresUrl }) {
  const port = await freePort();
  const signing = await newKeyPair('floor-signing');
  const databaseUrl = await createScratchDatabase(postgresUrl, 'tollgate_bench_floor');
  const child = startNode({
    name: 'floor',
    cwd: ROOT,
    args: [join(ROOT, 'scripts', 'bench-lib', 'floor-server.mjs')],
    env: {
      BENCH_FLOOR: JSON.stringify({
        port,
        databaseUrl,
        poolSize: POOL_SIZE,
        signingJwk: signing.privateJwk,
      }),
    },
    logFile: join(logDir, 'floor.log'),
  });

  await waitForLine(child, 'floor');

  return {
    name: 'floor',
    child,
    database: new URL(databaseUrl).pathname.slice(1),
    url: `http://127.0.0.1:${port}/token`,
  };
}
