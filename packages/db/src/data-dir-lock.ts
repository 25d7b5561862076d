import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** Another live process has the embedded database open. */
export class DataDirBusyError extends Error {
  override readonly name = 'DataDirBusyError';
}

const LOCK_FILE = 'tollgate.lock';

/**
 * Takes an exclusive lock on an embedded data directory by creating a lock file holding our
 * pid. A lock left by a process that no longer runs is taken over. Returns the release function.
 */
export function acquireDataDirLock(dataDir: string): () => void {
  const path = join(dataDir, LOCK_FILE);

  if (!tryCreate(path)) {
    const holder = Number(readFileSync(path, 'utf8').trim());

    if (isRunning(holder)) {
      throw new DataDirBusyError(
        `the embedded database in ${dataDir} is in use by process ${holder}; stop it first, ` +
          'use the management API, or run Tollgate on Postgres (DATABASE_URL)',
      );
    }

    rmSync(path, { force: true });

    if (!tryCreate(path)) {
      throw new DataDirBusyError(`could not lock the embedded database in ${dataDir}`);
    }
  }

  return () => rmSync(path, { force: true });
}

function tryCreate(path: string): boolean {
  try {
    writeFileSync(path, String(process.pid), { flag: 'wx' });
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') {
      return false;
    }

    throw error;
  }
}

function isRunning(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0 || pid === process.pid) {
    return pid === process.pid;
  }

  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
