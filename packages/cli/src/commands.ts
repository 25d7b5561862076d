import { CLI_AUDIT, createAdmin, rotateSigningKey } from '@tollgate/core';
import { migrate, type Database } from '@tollgate/db';
import type { Config } from '@tollgate/server';

import { LEDGER_COMMANDS } from './ledger-commands.js';
import { requiredString, secondsOption, type Options } from './options.js';
import { REPORT_COMMANDS } from './report-commands.js';

export { UsageError } from './options.js';

/** What a command may use: the parsed options, the configuration and an open database. */
export interface CommandContext {
  options: Options;
  /** The positional arguments, as many as the command names. */
  positionals: string[];
  config: Config;
  database: Database;
  print: (line: string) => void;
}

export interface Command {
  /** Words that select the command, e.g. ['admin', 'create']. */
  path: string[];
  usage: string;
  summary: string;
  options: Record<string, { type: 'string' | 'boolean' }>;
  /** Names of the positional arguments the command requires, for usage and checking. */
  positionals?: string[];
  migrateFirst: boolean;
  /** Resolves to the exit code; nothing means success. */
  run(context: CommandContext): Promise<number | void>;
}

const migrateCommand: Command = {
  path: ['migrate'],
  usage: 'migrate',
  summary: 'apply pending database migrations',
  options: {},
  migrateFirst: false,
  run: async ({ config, database, print }) => {
    const applied = await migrate(database, config.migrationsDir);
    print(applied.length === 0 ? 'database is up to date' : `applied: ${applied.join(', ')}`);
  },
};

const adminCreateCommand: Command = {
  path: ['admin', 'create'],
  usage: 'admin create --name NAME [--json]',
  summary: 'create an admin client and print its credentials once',
  options: { name: { type: 'string' }, json: { type: 'boolean' } },
  migrateFirst: true,
  run: async ({ options, database, print }) => {
    const name = requiredString(options, 'name');
    const admin = await createAdmin(database.db, name, CLI_AUDIT);

    if (options.json === true) {
      print(JSON.stringify({ client_id: admin.client_id, client_secret: admin.client_secret }));
      return;
    }

    print(`client_id:     ${admin.client_id}`);
    print(`client_secret: ${admin.client_secret}`);
    print('The secret is shown only this once. Get a token with grant_type=client_credentials');
    print('and scope=admin at the token endpoint.');
  },
};

const keysRotateCommand: Command = {
  path: ['keys', 'rotate'],
  usage: 'keys rotate [--activate-after SECONDS] [--retire-after SECONDS]',
  summary: 'publish a new signing key, sign with it after a delay, retire superseded keys',
  options: { 'activate-after': { type: 'string' }, 'retire-after': { type: 'string' } },
  migrateFirst: true,
  run: async ({ options, database, print }) => {
    const result = await rotateSigningKey(
      database.db,
      {
        activateAfterSeconds: secondsOption(options, 'activate-after', 3600),
        retireAfterSeconds: secondsOption(options, 'retire-after', 86_400),
      },
      CLI_AUDIT,
    );

    print(JSON.stringify(result));
  },
};

export const COMMANDS: Command[] = [
  migrateCommand,
  adminCreateCommand,
  keysRotateCommand,
  ...REPORT_COMMANDS,
  ...LEDGER_COMMANDS,
];
