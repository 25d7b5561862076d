import { parseArgs } from 'node:util';

import { openDatabase, migrate } from '@tollgate/db';
import { ConfigError, loadConfig } from '@tollgate/server';

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

  const { values } = parseArgs({
    args: argv.slice(command.path.length),
    options: command.options,
    strict: true,
    allowPositionals: false,
  });
  const config = loadConfig();
  const database = await openDatabase(config.database);

  try {
    if (command.migrateFirst && config.migrateOnStart) {
      await migrate(database, config.migrationsDir);
    }

    await command.run({
      options: values,
      config,
      database,
      print: (line) => process.stdout.write(`${line}\n`),
    });

    return 0;
  } finally {
    await database.close();
  }
}

function usage(): string {
  const lines = COMMANDS.map(
    (command: Command) => `  ${command.usage.padEnd(64)} ${command.summary}`,
  );

  return ['usage: tollgate <command>', '', 'commands:', ...lines, ''].join('\n');
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    const isUsage =
      error instanceof UsageError ||
      (error as { code?: unknown }).code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION';

    if (error instanceof ConfigError || isUsage) {
      process.stderr.write(`${(error as Error).message}\n${isUsage ? usage() : ''}`);
      process.exit(2);
    }

    process.stderr.write(`tollgate: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  },
);
