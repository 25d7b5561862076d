import { open, readFile, rm } from 'node:fs/promises';

import {
  archiveLedger,
  sealLedger,
  verifyArchiveLines,
  verifyLedger,
  type ArchiveResult,
} from '@tollgate/core';
import type { Kysely, Schema } from '@tollgate/db';

import type { Command } from './commands.js';
import { instantOption, requiredString } from './options.js';

/** Seal until nothing is left, however long the backlog. */
const EVERY_BATCH = Number.POSITIVE_INFINITY;

const ledgerVerifyCommand: Command = {
  path: ['ledger', 'verify'],
  usage: 'ledger verify [--json]',
  summary: "recompute the ledger's hash chain; exit code 1 at the first broken link",
  options: { json: { type: 'boolean' } },
  migrateFirst: true,
  run: async ({ options, database, print }) => {
    const result = await verifyLedger(database.db);
    const broken = result.first_broken;

    if (options.json === true) {
      print(JSON.stringify(result, null, 2));
    } else if (broken === undefined) {
      print(
        `ledger chain intact: ${result.checked} links checked from seq ${result.started_from.seq}` +
          `, ${result.unsealed} events not yet sealed`,
      );
    } else {
      print(
        `ledger chain BROKEN at seq ${broken.seq} (event ${broken.event_id}): ${broken.problem}`,
      );
      print(`${result.checked} links before it verified`);
    }

    return result.ok ? 0 : 1;
  },
};

const ledgerSealCommand: Command = {
  path: ['ledger', 'seal'],
  usage: 'ledger seal',
  summary: 'seal committed ledger events into the hash chain now',
  options: {},
  migrateFirst: true,
  run: async ({ database, print }) => {
    print(`sealed ${await sealLedger(database.db, EVERY_BATCH)} events`);
  },
};

const ledgerArchiveCommand: Command = {
  path: ['ledger', 'archive'],
  usage: 'ledger archive --before ISO --out FILE',
  summary: 'move sealed events older than a date to a JSON-lines file, keeping a checkpoint',
  options: { before: { type: 'string' }, out: { type: 'string' } },
  migrateFirst: true,
  run: async ({ options, database, print }) => {
    const before = instantOption(options, 'before');
    const file = requiredString(options, 'out');
    const result = await archiveToFile(database.db, before, file);

    if (result.archived === 0) {
      print(`nothing to archive before ${before.toISOString()}`);
      return;
    }

    print(
      `archived ${result.archived} events (seq ${result.from_seq}..${result.to_seq}) to ${file}`,
    );
    print(`end hash ${result.end_hash}, archive digest ${result.digest}`);
  },
};

/**
 * Writes the archive to a new file (never over an existing one), on disk before the rows
 * are deleted; the file is removed again when nothing was archived or the archive failed.
 */
async function archiveToFile(
  db: Kysely<Schema>,
  before: Date,
  file: string,
): Promise<ArchiveResult> {
  const handle = await open(file, 'wx').catch((error: unknown) => {
    const exists = error instanceof Error && 'code' in error && error.code === 'EEXIST';

    throw exists ? new Error(`${file} already exists; refusing to overwrite it`) : error;
  });
  let result: ArchiveResult | undefined;

  try {
    result = await archiveLedger(
      db,
      before,
      async (line) => {
        await handle.write(`${line}\n`);
      },
      () => handle.sync(),
    );
  } finally {
    await handle.close();

    if (result === undefined || result.archived === 0) {
      await rm(file, { force: true });
    }
  }

  return result;
}

const ledgerVerifyArchiveCommand: Command = {
  path: ['ledger', 'verify-archive'],
  usage: 'ledger verify-archive FILE [--json]',
  summary: 'check an archive file on its own; exit code 1 when a link is broken',
  options: { json: { type: 'boolean' } },
  positionals: ['FILE'],
  migrateFirst: false,
  run: async ({ options, positionals, print }) => {
    const file = positionals[0] ?? '';
    const result = verifyArchiveLines((await readFile(file, 'utf8')).split('\n'));

    if (options.json === true) {
      print(JSON.stringify(result, null, 2));
    } else if (result.ok) {
      print(`archive intact: ${result.checked} links`);
    } else {
      const where = /^\d+$/.test(result.broken_at ?? '')
        ? `seq ${result.broken_at}`
        : result.broken_at;
      print(`archive BROKEN at ${where} after ${result.checked} good links`);
    }

    return result.ok ? 0 : 1;
  },
};

export const LEDGER_COMMANDS: Command[] = [
  ledgerVerifyCommand,
  ledgerSealCommand,
  ledgerArchiveCommand,
  ledgerVerifyArchiveCommand,
];
