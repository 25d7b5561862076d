// Measuring one operation on every target that has it: warm-up, then each concurrency level
// with the targets taking turns, each run with the CPU its processes spent.
import { withCpu } from './cpu.mjs';
import { runLoad } from './load.mjs';
import { floorSpec, OPERATIONS } from './operations.mjs';
import { say } from './print.mjs';
import { runLine } from './report.mjs';
import { soak } from './soak.mjs';

/** Single-use items per second of run, relative to the target's client_credentials pace. */
const POOL_FACTOR = { cc_jwt: 1.4, revoke: 2, token_exchange: 1.4 };
/** Pace assumed when client_credentials was not measured first (e.g. with --ops). */
const DEFAULT_PACE = 3000;
const MAX_POOL = 250_000;
/** Tokens kept from the client_credentials runs are revoked only while well inside their TTL. */
const SPARE_TOKEN_MAX_AGE_MS = 5 * 60_000;

/** The operations the options ask for, in their fixed order. */
export function selectedOperations(options) {
  return OPERATIONS.filter((op) => options.ops === undefined || options.ops.includes(op.id));
}

/**
 * Warm-up on each target, then every concurrency level, targets taking turns.
 * @param {import('./operations.mjs').Operation} op
 */
export async function measureOperation(op, targets, options, { runs, skips, spare, scope }) {
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
      scope,
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
    runs.find(
      (r) => r.op === 'cc_secret' && r.target === targetName && r.connections === connections,
    )?.rps ?? DEFAULT_PACE;

  return Math.min(
    MAX_POOL,
    Math.ceil(pace * (POOL_FACTOR[opId] ?? 1.5) * seconds) + 2 * connections + 50,
  );
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

export async function measureFloor(floor, options, runs, scope) {
  say('\nfloor: sign one ES256 JWT + insert one row');
  const spec = floorSpec(floor.url, scope);
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

export async function soakTollgate(tollgate, options, scope) {
  say(`\nsoak: client_credentials on Tollgate, 50 connections, ${options.soak}s, RSS every second`);
  const ccSecret = OPERATIONS.find((op) => op.id === 'cc_secret');
  const spec = await ccSecret.prepare(tollgate, {
    scope,
    poolSize: 0,
    spareTokens: { push() {} },
  });

  return soak(spec, tollgate.child.pid, options.soak);
}
