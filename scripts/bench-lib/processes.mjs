// Child processes the bench owns: started here, remembered by PID, and stopped by PID when the
// run ends, fails or is interrupted. Nothing else is ever signalled.
import { spawn } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { createServer } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

/** @type {Map<number, { name: string, child: import('node:child_process').ChildProcess }>} */
const running = new Map();

/**
 * Starts `node args...` with its output in a log file.
 * @param {{ name: string, args: string[], env: Record<string, string>, logFile: string, cwd: string }} options
 */
export function startNode({ name, args, env, logFile, cwd }) {
  const log = createWriteStream(logFile, { flags: 'a' });
  const child = spawn(process.execPath, args, {
    cwd,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });

  if (child.pid === undefined) {
    throw new Error(`could not start ${name}`);
  }

  running.set(child.pid, { name, child });
  child.stdout.pipe(log, { end: false });
  child.stderr.pipe(log, { end: false });
  child.once('exit', () => {
    if (child.pid !== undefined) running.delete(child.pid);
    log.end();
  });

  return child;
}

/**
 * Resolves once the child prints a line equal to `line`; rejects if it exits first.
 * @param {import('node:child_process').ChildProcess} child
 * @param {string} name
 */
export function waitForLine(child, name, line = 'ready', timeoutMs = 30_000) {
  return new Promise((resolve, reject) => {
    let seen = '';
    const timer = setTimeout(
      () => fail(new Error(`${name} not ready after ${timeoutMs} ms`)),
      timeoutMs,
    );
    const onData = (chunk) => {
      seen += chunk.toString();
      if (seen.split('\n').includes(line)) done();
    };
    const onExit = (code) => fail(new Error(`${name} exited (code ${code}) before it was ready`));
    const cleanup = () => {
      clearTimeout(timer);
      child.stdout?.off('data', onData);
      child.off('exit', onExit);
    };
    const done = () => {
      cleanup();
      resolve(undefined);
    };
    const fail = (error) => {
      cleanup();
      reject(error);
    };

    child.stdout?.on('data', onData);
    child.once('exit', onExit);
  });
}

/**
 * Polls `url` until it answers 200; rejects if the child exits or time runs out.
 * @param {import('node:child_process').ChildProcess} child
 */
export async function waitForHttp(child, name, url, timeoutMs = 60_000) {
  const deadline = Date.now() + timeoutMs;

  while (Date.now() < deadline) {
    if (child.exitCode !== null) {
      throw new Error(`${name} exited (code ${child.exitCode}) before it was ready`);
    }

    const ok = await fetch(url).then(
      (response) => response.ok,
      () => false,
    );

    if (ok) return;
    await sleep(200);
  }

  throw new Error(`${name} not ready after ${timeoutMs} ms (${url})`);
}

/** A TCP port on 127.0.0.1 that was free a moment ago. */
export function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/**
 * Stops one child: SIGTERM, then SIGKILL if it is still there after `graceMs`.
 * @param {import('node:child_process').ChildProcess} child
 */
export async function stopChild(child, graceMs = 10_000) {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;

  const exited = new Promise((resolve) => child.once('exit', resolve));
  signal(child, 'SIGTERM');
  const timer = setTimeout(() => signal(child, 'SIGKILL'), graceMs);

  await exited;
  clearTimeout(timer);
}

/**
 * Signals a child by its PID unless it has exited (it may exit on its own meanwhile).
 * @param {import('node:child_process').ChildProcess} child
 * @param {NodeJS.Signals} name
 */
function signal(child, name) {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;

  try {
    process.kill(child.pid, name);
  } catch (error) {
    if (/** @type {NodeJS.ErrnoException} */ (error).code !== 'ESRCH') throw error;
  }
}

/** Stops every child still running, each by its own PID. */
export async function stopAll() {
  const children = [...running.values()].map(({ child }) => child);

  await Promise.all(children.map((child) => stopChild(child).catch(() => undefined)));
}

/** Names and PIDs of the children still running (for messages). */
export function runningChildren() {
  return [...running.entries()].map(([pid, { name }]) => `${name} (pid ${pid})`);
}
