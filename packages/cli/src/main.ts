import { existsSync } from 'node:fs';
import { parseArgs } from 'node:util';

import { AppError } from '@tollgate/core';
import { openDatabase, migrate } from '@tollgate/db';
import { ConfigError, loadConfig, type Config } from '@tollgate/server';

import { COMMANDS, UsageError, type Command } from './commands.js';

/** `pnpm tollgate <command>`: operator commands against the configured database. */
async function main(argv: string[]): Promise<number> {
  const command = COMMANDS.find((candidate) =>
    candidate.path.every((word, index) => argv[index] === word),
  );

  if (command === undefined) {
    process.stderr.write(usage());
    return argv.length === 0 || argv[0] === 'help' || argv[0] === '--help' ? 0 : 2;
  }

  const expected = command.positionals ?? [];
  const { values, positionals } = parseArgs({
    args: argv.slice(command.path.length),
    options: command.options,
    strict: true,
    allowPositionals: expected.length > 0,
  });

  if (positionals.length !== expected.length) {
    throw new UsageError(`expected ${expected.join(' ')}: tollgate ${command.usage}`);
  }

  const config = loadConfig();
  assertDatabaseExists(config, command);
  const database = await openDatabase(config.database);

  try {
    if (command.migrateFirst && config.migrateOnStart) {
      await migrate(database, config.migrationsDir);
    }

    const code = await command.run({
      options: values,
      positionals,
      config,
      database,
      print: (line) => process.stdout.write(`${line}\n`),
    });

    return code ?? 0;
  } finally {
    await database.close();
  }
}

function usage(): string {
  const lines = COMMANDS.map((command: Command) => `  ${command.usage}\n      ${command.summary}`);

  return ['usage: tollgate <command>', '', 'commands:', ...lines, ''].join('\n');
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    const code = (error as { code?: unknown }).code;
    const isUsage =
      error instanceof UsageError ||
      code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION' ||
      code === 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL' ||
      code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE';

    if (error instanceof ConfigError || isUsage) {
      process.stderr.write(`${(error as Error).message}\n${isUsage ? usage() : ''}`);
      process.exit(2);
    }

    // Input core refused (a period, a group): say which, like a usage mistake.
    if (error instanceof AppError && error.code === 'invalid_input') {
      const fields = (error.errors ?? []).map((field) => `  ${field.path}: ${field.message}\n`);
      process.stderr.write(`tollgate: ${error.message}\n${fields.join('')}`);
      process.exit(2);
    }

    process.stderr.write(`tollgate: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  },
);

/**
 * Reading commands on an embedded database that does not exist would create an empty one and
 * report on nothing; say where Tollgate looked instead.
 */
function assertDatabaseExists(config: Config, command: Command): void {
  const { database } = config;
  const creates = ['migrate', 'admin'].includes(command.path[0] ?? '');

  if (database.kind === 'embedded' && database.dataDir !== null && !creates) {
    if (!existsSync(database.dataDir)) {
      throw new UsageError(
        `no embedded database in ${database.dataDir}: start the server once, or set ` +
          'TOLLGATE_DATA_DIR (or DATABASE_URL) to the database to use',
      );
    }
  }
}
