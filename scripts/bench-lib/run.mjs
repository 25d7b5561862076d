// scripts/bench: starts a bare oidc-provider, Tollgate and a floor server, measures the same
// operations on each under the same load, and reports Tollgate's ratios to the other two.
import { mkdir, writeFile } from 'node:fs/promises';
import { cpus, loadavg, totalmem } from 'node:os';
import { join, relative } from 'node:path';

import { readOptions, USAGE } from './args.mjs';
import { startBare } from './bare.mjs';
import { startFloor } from './floor.mjs';
import { runLoad } from './load.mjs';
import { ROOT } from './modules.mjs';
import { floorSpec, OPERATIONS } from './operations.mjs';
import { dropScratchDatabases } from './postgres.mjs';
import { stopAll, stopChild } from './processes.mjs';
import { summariseProfiles } from './profile.mjs';
import { withCpu } from './cpu.mjs';
import { checkLines, checkTargets, cpuTable, failureBlock, runLine, table } from './report.mjs';
import { soak } from './soak.mjs';
import { startTollgate } from './tollgate.mjs';

const AUDIENCE = 'https://tools.bench/';
const SCOPE = 'search';

/** Single-use items per second of run, relative to the target's client_credentials pace. */
const POOL_FACTOR = { cc_jwt: 1.4, revoke: 2, token_exchange: 1.4 };
/** Pace assumed when client_credentials was not measured first (e.g. with --ops). */
const DEFAULT_PACE = 3000;
const MAX_POOL = 250_000;
/** Tokens kept from the client_credentials runs are revoked only while well inside their TTL. */
const SPARE_TOKEN_MAX_AGE_MS = 5 * 60_000;

const say = (line = '') => process.stdout.write(`${line}\n`);

async function main() {
  const options = readOptions(process.argv.slice(2), OPERATIONS.map((op) => op.id));

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

  for (const op of selectedOperations(options)) {
    await measureOperation(op, targets, options, { runs, skips, spare });
  }

  if (targets.floor && (options.ops === undefined || options.ops.includes('floor'))) {
    await measureFloor(targets.floor, options, runs);
  }

  const soakResult =
    options.soak > 0 && targets.tollgate ? await soakTollgate(targets.tollgate, options) : undefined;
  const checks = checkTargets(runs, options.connections);

  // Tollgate writes its CPU profile when it exits, so it stops before the report is made.
  await cleanup();
  const profile = paths.profileDir ? await summariseProfiles(paths.profileDir) : undefined;

  printReport({ runs, skips, checks, targets, soakResult, profile, options });

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

function selectedOperations(options) {
  return OPERATIONS.filter((op) => options.ops === undefined || options.ops.includes(op.id));
}

/**
 * Warm-up on each target, then every concurrency level, targets taking turns.
 * @param {import('./operations.mjs').Operation} op
 */
async function measureOperation(op, targets, options, { runs, skips, spare }) {
  const active = [];

  for (const target of [targets.bare, targets.tollgate].filter(Boolean)) {
    const reason = op.skipReason(target);
    if (reason === undefined) active.push(target);
    else skips.push({ op: op.id, target: target.name, reason });
  }

  if (active.length === 0) return;
  say(`\n${op.id}: ${op.label}`);

  const prepare = (target, connections, seconds) =>
    op.prepare(target, {
      scope: SCOPE,
      poolSize: op.pooled ? poolSize(op.id, runs, target.name, connections, seconds) : 0,
      spareTokens: spareTokens(spare, target.name, op.id),
    });

  if (options.warmup > 0) {
    for (const target of active) {
      const connections = options.connections[0] ?? 10;
      await runLoad(await prepare(target, connections, options.warmup), {
        connections,
        seconds: options.warmup,
      });
    }
  }

  for (const connections of options.connections) {
    for (const target of active) {
      const spec = await prepare(target, connections, options.duration);
      const run = await measured(op.id, target, options, () =>
        runLoad(spec, { connections, seconds: options.duration }),
      );
      runs.push(run);
      say(runLine(run));
    }
  }
}

/**
 * Single-use items for one run: the target's client_credentials pace times the run's length,
 * with headroom; a pool that still runs out ends that run early (and says so).
 */
function poolSize(opId, runs, targetName, connections, seconds) {
  const pace =
    runs.find((r) => r.op === 'cc_secret' && r.target === targetName && r.connections === connections)
      ?.rps ?? DEFAULT_PACE;

  return Math.min(MAX_POOL, Math.ceil(pace * (POOL_FACTOR[opId] ?? 1.5) * seconds) + 2 * connections + 50);
}

/** Tokens the client_credentials runs issued, kept for the revocation runs. */
function spareTokens(spare, targetName, opId) {
  const entry = spare.get(targetName) ?? { since: Date.now(), tokens: [] };
  spare.set(targetName, entry);

  if (opId === 'revoke' && Date.now() - entry.since > SPARE_TOKEN_MAX_AGE_MS) {
    entry.tokens.length = 0;
  }

  return entry.tokens;
}

async function measureFloor(floor, options, runs) {
  say('\nfloor: sign one ES256 JWT + insert one row');
  const spec = floorSpec(floor.url, SCOPE);
  const first = options.connections[0] ?? 10;

  if (options.warmup > 0) await runLoad(spec, { connections: first, seconds: options.warmup });

  for (const connections of options.connections) {
    const run = await measured('floor', floor, options, () =>
      runLoad(spec, { connections, seconds: options.duration }),
    );
    runs.push(run);
    say(runLine(run));
  }
}

/**
 * One measured run, with the CPU each process spent on it, per request.
 * @param {string} op
 * @param {{ name: string, child: import('node:child_process').ChildProcess, database?: string }} target
 * @param {() => Promise<import('./load.mjs').LoadResult>} work
 */
async function measured(op, target, options, work) {
  const { result, cpu } = await withCpu(
    { pid: target.child.pid ?? 0, postgresUrl: options.postgres, database: target.database },
    work,
  );
  const perRequest = (seconds) =>
    seconds === undefined || result.requests === 0 ? undefined : (seconds * 1000) / result.requests;

  return {
    op,
    target: target.name,
    ...result,
    cpu: {
      ...cpu,
      serverMsPerRequest: perRequest(cpu.nodeSeconds),
      postgresMsPerRequest: perRequest(cpu.postgresSeconds),
      loadGeneratorMsPerRequest: perRequest(cpu.loadGeneratorSeconds),
    },
  };
}

async function soakTollgate(tollgate, options) {
  say(`\nsoak: client_credentials on Tollgate, 50 connections, ${options.soak}s, RSS every second`);
  const ccSecret = OPERATIONS.find((op) => op.id === 'cc_secret');
  const spec = await ccSecret.prepare(tollgate, { scope: SCOPE, poolSize: 0, spareTokens: { push() {} } });

  return soak(spec, tollgate.child.pid, options.soak);
}

function printReport({ runs, skips, checks, soakResult, profile, options }) {
  const ops = [...selectedOperations(options).map((op) => op.id), 'floor'];

  say('\n' + table(runs, ops, options.connections));
  say('  (r/s = requests per second; p50/p99 in ms; fail = non-2xx + errors + wrong bodies)');
  say('\nCPU per request, ms (server process / its Postgres backends / load generator):');
  say(cpuTable(runs, ops, options.connections));

  if (skips.length > 0) {
    say('\nskipped:');
    skips.forEach((skip) => say(`  ${skip.target} ${skip.op}: ${skip.reason}`));
  }

  if (checks.length > 0) {
    say('\ntargets (Tollgate vs bare, measured in this run):');
    checkLines(checks).forEach((line) => say(line));
  }

  if (soakResult) printSoak(soakResult);
  if (profile) printProfile(profile);

  const block = failureBlock(soakResult ? [...runs, { op: 'soak', target: 'tollgate', ...soakResult.load }] : runs);
  if (block.length > 0) say(`\n${block.join('\n')}`);
}

function printSoak(result) {
  const mib = (value) => `${value.toFixed(1)} MiB`;

  say('\nsoak:');
  say(runLine({ op: 'soak cc_secret', target: 'tollgate', ...result.load }));
  say(
    `  RSS first ${mib(result.firstRssMiB)}, last ${mib(result.lastRssMiB)}, max ${mib(result.maxRssMiB)}; ` +
      `mean of first ${result.windowSeconds}s after ${result.warmupSeconds}s warm-up ` +
      `${mib(result.firstWindowMeanMiB)}, of last ${result.windowSeconds}s ${mib(result.lastWindowMeanMiB)}: ` +
      (result.steady ? 'STEADY (within 10%)' : 'GROWING (more than 10% apart)'),
  );
}

function printProfile(profile) {
  say(`\nTollgate CPU profile (${profile.files.length} file(s), ${profile.totalMs.toFixed(0)} ms sampled), top self time:`);
  profile.functions.forEach((f) => say(`  ${(f.share * 100).toFixed(1).padStart(5)}%  ${f.name}`));
  say('  by package:');
  profile.packages.forEach((p) => say(`  ${(p.share * 100).toFixed(1).padStart(5)}%  ${p.name}`));
}

function machine() {
  return {
    cpus: cpus().length,
    cpuModel: cpus()[0]?.model,
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    loadavg: loadavg(),
    node: process.version,
  };
}

function machineLine(options) {
  const m = machine();

  return (
    `tollgate bench: ${m.cpus} CPU(s) shared with the load generator, node ${m.node}, ` +
    `load ${m.loadavg.map((n) => n.toFixed(2)).join(' ')}; connections ${options.connections.join(',')}, ` +
    `${options.duration}s per run, ${options.warmup}s warm-up`
  );
}

function assertNode() {
  const major = Number(process.versions.node.split('.')[0]);

  if (major < 22) {
    throw new Error(`node >= 22 is needed (this is ${process.version}); run scripts/bench, not node directly`);
  }
}

/** Stops the children and drops the scratch databases, once, however the run ends. */
function cleanupOnce(postgresUrl) {
  let done;

  return () => {
    done ??= (async () => {
      await stopAll();
      const dropped = await dropScratchDatabases(postgresUrl);
      if (dropped.length > 0) process.stderr.write(`dropped scratch databases: ${dropped.join(', ')}\n`);
    })();

    return done;
  };
}

function stopOnSignals(cleanup) {
  const stop = (signal) => {
    process.stderr.write(`\n${signal}: stopping the servers and dropping the scratch databases\n`);
    cleanup().finally(() => process.exit(130));
  };

  process.once('SIGINT', () => stop('SIGINT'));
  process.once('SIGTERM', () => stop('SIGTERM'));
}

main().catch((error) => {
  process.stderr.write(`bench failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exitCode = 1;
});
