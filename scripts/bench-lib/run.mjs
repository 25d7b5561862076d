// scripts/bench: starts a bare oidc-provider, Tollgate and a floor server, measures the same
// operations on each under the same load, and reports Tollgate's ratios to the other two.
import { mkdir, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';

import { readOptions, USAGE } from './args.mjs';
import { startBare } from './bare.mjs';
import { startFloor } from './floor.mjs';
import { measureAll, selectedOperations, soakTollgate } from './measure.mjs';
import { ROOT } from './modules.mjs';
import { OPERATIONS } from './operations.mjs';
import { dropScratchDatabases } from './postgres.mjs';
import { machine, machineLine, printReport, say, silence } from './print.mjs';
import { stopAll } from './processes.mjs';
import { summariseProfiles } from './profile.mjs';
import { checkTargets } from './report.mjs';
import { startTollgate } from './tollgate.mjs';

const AUDIENCE = 'https://tools.bench/';
const SCOPE = 'search';

async function main() {
  const options = readOptions(
    process.argv.slice(2),
    OPERATIONS.map((op) => op.id),
  );

  if (options.help) {
    say(USAGE);
    return;
  }

  assertNode();
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  const benchDir = join(ROOT, '.bench');
  const logDir = join(benchDir, 'logs', stamp);
  const profileDir = options.cpuProf ? join(benchDir, `${stamp}-cpu-prof`) : undefined;
  await mkdir(logDir, { recursive: true });

  const cleanup = cleanupOnce(options.postgres);
  stopOnSignals(cleanup);

  try {
    await bench(options, { stamp, benchDir, logDir, profileDir }, cleanup);
  } finally {
    await cleanup();
  }
}

/**
 * @param {import('./args.mjs').BenchOptions} options
 * @param {{ stamp: string, benchDir: string, logDir: string, profileDir: string | undefined }} paths
 * @param {() => Promise<void>} cleanup
 */
async function bench(options, paths, cleanup) {
  const startedAt = new Date();
  say(machineLine(options));
  say(`logs: ${relative(ROOT, paths.logDir)}/`);

  const targets = await startTargets(options, paths);
  const runs = [];
  const skips = [];
  const spare = new Map();

  await measureAll(targets, options, { runs, skips, spare, scope: SCOPE });

  const soakResult =
    options.soak > 0 && targets.tollgate
      ? await soakTollgate(targets.tollgate, options, SCOPE)
      : undefined;
  const checks = checkTargets(runs, options.connections);

  // Tollgate writes its CPU profile when it exits, so it stops before the report is made.
  await cleanup();
  const profile = paths.profileDir ? await summariseProfiles(paths.profileDir) : undefined;

  const ops = [...selectedOperations(options).map((op) => op.id), 'floor'];
  printReport({ ops, runs, skips, checks, soakResult, profile, options });

  const file = join(paths.benchDir, `${paths.stamp}.json`);
  const record = {
    startedAt,
    finishedAt: new Date(),
    machine: machine(),
    options,
    notes: Object.fromEntries(
      Object.entries(targets).map(([name, target]) => [name, target?.notes ?? []]),
    ),
    runs,
    skips,
    checks,
    soak: soakResult,
    profile: profile && { dir: relative(ROOT, paths.profileDir ?? ''), ...profile },
  };
  await writeFile(file, `${JSON.stringify(record, null, 2)}\n`);
  say(`\nraw results: ${relative(ROOT, file)}`);
}

async function startTargets(options, { logDir, profileDir }) {
  const wanted = (name) => options.targets.includes(name);
  const common = { logDir, audience: AUDIENCE, scope: SCOPE, postgresUrl: options.postgres };
  const targets = {};

  if (wanted('bare')) targets.bare = await startBare(common);
  if (wanted('tollgate')) {
    targets.tollgate = await startTollgate({ ...common, cpuProfileDir: profileDir });
  }
  if (wanted('floor')) targets.floor = await startFloor(common);

  for (const [name, target] of Object.entries(targets)) {
    say(`started ${name} (pid ${target.child.pid})${target.issuer ? ` at ${target.issuer}` : ''}`);
    (target.notes ?? []).forEach((note) => say(`  note: ${note}`));
  }

  return targets;
}

function assertNode() {
  const major = Number(process.versions.node.split('.')[0]);

  if (major < 22) {
    throw new Error(
      `node >= 22 is needed (this is ${process.version}); run scripts/bench, not node directly`,
    );
  }
}

/** Stops the children and drops the scratch databases, once, however the run ends. */
function cleanupOnce(postgresUrl) {
  let done;

  return () => {
    done ??= (async () => {
      await stopAll();
      const dropped = await dropScratchDatabases(postgresUrl).catch((error) => {
        process.stderr.write(`!! could not drop the scratch databases: ${error.message}\n`);
        return [];
      });
      if (dropped.length > 0)
        process.stderr.write(`dropped scratch databases: ${dropped.join(', ')}\n`);
    })();

    return done;
  };
}

function stopOnSignals(cleanup) {
  const stop = (signal) => {
    silence();
    process.stderr.write(`\n${signal}: stopping the servers and dropping the scratch databases\n`);
    cleanup().finally(() => process.exit(130));
  };

  process.once('SIGINT', () => stop('SIGINT'));
  process.once('SIGTERM', () => stop('SIGTERM'));
}

main().catch((error) => {
  process.stderr.write(
    `bench failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
  );
  process.exitCode = 1;
});
