import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { delimiter } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);

export const REPO_ROOT = fileURLToPath(new URL('../../../../', import.meta.url));
const SERVER_MAIN = `${REPO_ROOT}packages/server/dist/main.js`;
const CLI_MAIN = `${REPO_ROOT}packages/cli/dist/main.js`;

/** The deployable as operators run it: `node packages/server/dist/main.js` in its own process. */
export interface ChildServer {
  readonly child: ChildProcess;
  readonly publicUrl: string;
  readonly adminUrl: string;
  /** Everything it wrote, for failure messages. */
  output(): string;
  /** Resolves with the exit code (or the signal's name) once the process has ended. */
  exited: Promise<number | string>;
}

/** Builds the packages when the compiled entry points are missing (CI builds them in setup). */
export async function ensureBuilt(): Promise<void> {
  if (existsSync(SERVER_MAIN) && existsSync(CLI_MAIN)) {
    return;
  }

  const tools = `${REPO_ROOT}.tools/node_modules/.bin`;
  await run('pnpm', ['run', 'build'], {
    cwd: REPO_ROOT,
    env: { ...process.env, PATH: `${tools}${delimiter}${process.env.PATH ?? ''}` },
  });
}

/** A child's environment: only what it needs, without the test runner's NODE_OPTIONS. */
export function childEnv(settings: Record<string, string>): NodeJS.ProcessEnv {
  return { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...settings };
}

/** `tollgate admin create --json` against the same database: the operator's way to an admin. */
export async function createAdminWithCli(
  env: NodeJS.ProcessEnv,
): Promise<{ clientId: string; clientSecret: string }> {
  const { stdout } = await run(
    process.execPath,
    [CLI_MAIN, 'admin', 'create', '--name', 't', '--json'],
    {
      cwd: REPO_ROOT,
      env,
    },
  );
  const created = JSON.parse(stdout) as { client_id: string; client_secret: string };

  return { clientId: created.client_id, clientSecret: created.client_secret };
}

/** Spawns the built server and waits until it reports ready on /readyz. */
export async function spawnServer(
  env: NodeJS.ProcessEnv,
  urls: { publicUrl: string; adminUrl: string },
): Promise<ChildServer> {
  const child = spawn(process.execPath, [SERVER_MAIN], {
    cwd: REPO_ROOT,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
  const exited = new Promise<number | string>((resolve) => {
    child.once('exit', (code, signal) => resolve(code ?? signal ?? 'unknown'));
  });
  const server = { child, ...urls, output: () => output, exited };

  await waitUntilReady(server);

  return server;
}

async function waitUntilReady(server: ChildServer): Promise<void> {
  const deadline = Date.now() + 20_000;
  let ended = false;
  void server.exited.then(() => (ended = true));

  while (Date.now() < deadline && !ended) {
    const ready = await fetch(`${server.publicUrl}/readyz`).then(
      (response) => response.status === 200,
      () => false,
    );

    if (ready) return;

    await new Promise((resolve) => setTimeout(resolve, 100));
  }

  throw new Error(`the server did not become ready:\n${server.output()}`);
}
