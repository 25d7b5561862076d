// A Tollgate of the demo's own: the real server, on free loopback ports, with the embedded
// database in a fresh temporary data directory. On first start the server creates an admin
// client and prints its credentials once; the demo reads them from that banner.
import { spawn, spawnSync } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

import { defer, disownChild, ownChild } from './lifecycle.mjs';
import { CLI_MAIN, ROOT, SERVER_MAIN } from './modules.mjs';
import { say } from './show.mjs';

/** First start migrates the embedded database, which takes a few seconds. */
const START_TIMEOUT_MS = 60_000;
/** After SIGTERM the server finishes in-flight requests; then it is killed. */
const STOP_GRACE_MS = 15_000;

/**
 * @typedef {object} LocalTollgate
 * @property {string} issuer the public listener: OAuth endpoints, /usage, /sessions/close
 * @property {string} adminUrl the management API's listener
 * @property {{ clientId: string, clientSecret: string }} admin the bootstrap admin client
 * @property {string} dataDir where the embedded database lives
 * @property {string} logFile the server's output
 * @property {number} pid
 * @property {() => Promise<void>} stop stops the server (once; later calls wait for the same)
 */

/**
 * Starts a Tollgate and waits until it is ready and has printed its admin credentials. It is
 * stopped when the demo ends; its directory is kept after a failure, for a look, else removed.
 * @returns {Promise<LocalTollgate>}
 */
export async function startTollgate() {
  const workDir = await mkdtemp(join(tmpdir(), 'tollgate-demo-'));
  const dataDir = join(workDir, 'data');
  const logFile = join(workDir, 'server.log');
  const [port, adminPort] = [await freePort(), await freePort()];
  const issuer = `http://127.0.0.1:${port}`;
  const child = spawn(process.execPath, [SERVER_MAIN], {
    cwd: ROOT,
    env: serverEnv({ dataDir, port, adminPort, issuer }),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const pid = child.pid;

  if (pid === undefined) throw new Error('could not start the Tollgate server');
  ownChild(pid);

  const stop = once(() => stopChild(child));

  defer(async ({ failed }) => {
    await stop();
    await (failed ? keptFor(workDir) : rm(workDir, { recursive: true, force: true }));
  });

  const admin = await readiness(child, logFile, `${issuer}/readyz`);

  return { issuer, adminUrl: `http://127.0.0.1:${adminPort}`, admin, dataDir, logFile, pid, stop };
}

/**
 * Runs the operator CLI against a data directory (the server using it must be stopped: the
 * embedded database admits one process at a time).
 * @param {string[]} args
 * @param {string} dataDir
 */
export function runCli(args, dataDir) {
  const result = spawnSync(process.execPath, [CLI_MAIN, ...args], {
    cwd: ROOT,
    env: { ...ownEnv(), TOLLGATE_DATA_DIR: dataDir },
    encoding: 'utf8',
    timeout: 60_000,
  });

  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** The demo's environment without any Tollgate or database setting of the caller's. */
function ownEnv() {
  return Object.fromEntries(
    Object.entries(process.env).filter(
      ([name]) => !name.startsWith('TOLLGATE_') && name !== 'DATABASE_URL' && name !== 'NODE_ENV',
    ),
  );
}

/**
 * No DATABASE_URL: the embedded database, which also makes the server bootstrap an admin.
 * @param {{ dataDir: string, port: number, adminPort: number, issuer: string }} where
 */
function serverEnv({ dataDir, port, adminPort, issuer }) {
  return {
    ...ownEnv(),
    TOLLGATE_DATA_DIR: dataDir,
    TOLLGATE_HOST: '127.0.0.1',
    TOLLGATE_PORT: String(port),
    TOLLGATE_ADMIN_BIND: '127.0.0.1',
    TOLLGATE_ADMIN_PORT: String(adminPort),
    TOLLGATE_ISSUER: issuer,
    TOLLGATE_LOG_LEVEL: 'warn',
  };
}

/**
 * Copies the server's output to its log file while reading the admin banner from it, and
 * polls /readyz; resolves when both are there, rejects when the server exits or time runs out.
 * @param {import('node:child_process').ChildProcessByStdio<null, import('node:stream').Readable,
 *   import('node:stream').Readable>} child
 * @param {string} logFile
 * @param {string} readyUrl
 */
async function readiness(child, logFile, readyUrl) {
  const log = createWriteStream(logFile);
  let output = '';

  child.stdout.on('data', (chunk) => {
    output += chunk;
    log.write(chunk);
  });
  child.stderr.on('data', (chunk) => log.write(chunk));
  child.once('exit', () => log.end());

  const deadline = Date.now() + START_TIMEOUT_MS;

  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) {
      const how = child.exitCode ?? child.signalCode;

      throw new Error(`the Tollgate server exited (${how}) while starting; see ${logFile}`);
    }

    const admin = bannerCredentials(output);

    if (admin !== undefined && (await isReady(readyUrl))) return admin;
    await sleep(200);
  }

  throw new Error(`the Tollgate server was not ready after ${START_TIMEOUT_MS} ms; see ${logFile}`);
}

/**
 * The credentials of the first-start banner (packages/server/src/main.ts).
 * @param {string} output
 */
function bannerCredentials(output) {
  const clientId = /^\s+client_id:\s+(\S+)$/m.exec(output)?.[1];
  const clientSecret = /^\s+client_secret:\s+(\S+)$/m.exec(output)?.[1];

  return clientId && clientSecret ? { clientId, clientSecret } : undefined;
}

/** @param {string} url */
async function isReady(url) {
  return fetch(url).then(
    (response) => response.ok,
    () => false,
  );
}

/**
 * SIGTERM by PID, then SIGKILL if the server is still there after the grace period.
 * @param {import('node:child_process').ChildProcess} child
 */
async function stopChild(child) {
  const pid = child.pid;

  if (pid === undefined) return;

  if (child.exitCode === null && child.signalCode === null) {
    const exited = new Promise((resolve) => child.once('exit', resolve));
    const kill = setTimeout(() => signal(pid, 'SIGKILL'), STOP_GRACE_MS);

    signal(pid, 'SIGTERM');
    await exited;
    clearTimeout(kill);
  }

  disownChild(pid);
}

/** @param {number} pid @param {NodeJS.Signals} name */
function signal(pid, name) {
  try {
    process.kill(pid, name);
  } catch (error) {
    // ESRCH: it exited in the meantime, which is what we wanted.
    if (/** @type {NodeJS.ErrnoException} */ (error).code !== 'ESRCH') throw error;
  }
}

/** @param {string} workDir */
function keptFor(workDir) {
  say(`kept for a look: ${workDir} (server.log, data/)`);
}

/** A TCP port on 127.0.0.1 that was free a moment ago. @returns {Promise<number>} */
export function freePort() {
  return new Promise((resolve, reject) => {
    const probe = createServer();

    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;

      probe.close(() => resolve(port));
    });
  });
}

/**
 * @template T
 * @param {() => Promise<T>} task
 * @returns {() => Promise<T>}
 */
function once(task) {
  /** @type {Promise<T> | undefined} */
  let running;

  return () => (running ??= task());
}
