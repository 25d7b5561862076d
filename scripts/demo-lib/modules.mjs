// Where the demos live, and the libraries they borrow from packages/server (jose), so that the
// demo's identity provider signs with the very library Tollgate verifies with.
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

/** Repository root (scripts/demo-lib/../..). */
export const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** The server's entry point, as scripts/start runs it. */
export const SERVER_MAIN = join(ROOT, 'packages', 'server', 'dist', 'main.js');

/** The operator CLI's entry point. */
export const CLI_MAIN = join(ROOT, 'packages', 'cli', 'dist', 'main.js');

const serverRequire = createRequire(join(ROOT, 'packages', 'server', 'package.json'));

/**
 * jose, resolved the way packages/server resolves it.
 * @returns {Promise<typeof import('jose')>}
 */
export function loadJose() {
  return import(pathToFileURL(serverRequire.resolve('jose')).href);
}
