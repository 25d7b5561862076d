// The bench borrows its libraries from the server package, so that the bare provider and the
// floor run exactly the oidc-provider, jose and pg versions that Tollgate itself runs.
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

/** Repository root (scripts/bench-lib/../..). */
export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

const serverRequire = createRequire(join(ROOT, 'packages', 'server', 'package.json'));

/**
 * Imports a package as packages/server would resolve it.
 * @param {string} specifier
 * @returns {Promise<any>}
 */
export function importFromServer(specifier) {
  return import(pathToFileURL(serverRequire.resolve(specifier)).href);
}

/**
 * Path of a file inside a package the server depends on (for deep imports).
 * @param {string} name package name
 * @param {string} file path inside the package
 */
export function serverPackageFile(name, file) {
  const main = serverRequire.resolve(name);
  const marker = `${join('node_modules', name)}/`;
  const root = main.slice(0, main.lastIndexOf(marker) + marker.length);

  return pathToFileURL(join(root, file)).href;
}

/** jose, as packages/server has it. */
export const loadJose = () => importFromServer('jose');

/** node-postgres, as packages/server has it (CommonJS: its exports sit on `default`). */
export async function loadPg() {
  const module = await importFromServer('pg');

  return module.default ?? module;
}
