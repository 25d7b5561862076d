// Measuring one operation on every target that has it: a warm-up each, then every concurrency
// level in slices, the targets taking turns slice by slice so that a burst of outside load
// falls on all of them alike. Each slice also records the CPU its processes spent.
import { withCpu } from './cpu.mjs';
import { runLoad, summarise } from './load.mjs';
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

/** The floor is measured alongside client_credentials, the operation it is the floor of. */
const FLOOR_ALONGSIDE = 'cc_secret';
const FLOOR_LABEL = 'floor: sign one ES256 JWT + insert one row';

/**
 * @typedef {object} Participant
 * @property {string} op the operation id its runs are recorded under
 * @property {{ name: string, child: import('node:child_process').ChildProcess, database?: string }} target
 * @property {(connections: number, seconds: number) => Promise<import('./load.mjs').LoadSpec>} prepare
 */

/** The operations the options ask for, in their fixed order. */
export function selectedOperations(options) {
  return OPERATIONS.filter((op) => options.ops === undefined || options.ops.includes(op.id));
}

/**
 * Every operation the options ask for, then the floor on its own if client_credentials was
 * not among them.
 */
export async function measureAll(targets, options, state) {
  const floorWanted =
    targets.floor !== undefined && (options.ops === undefined || options.ops.includes('floor'));
  const ops = selectedOperations(options);

  for (const op of ops) {
    const floor = floorWanted && op.id === FLOOR_ALONGSIDE ? targets.floor : undefined;
    await measure(op.label, participants(op, targets, state, floor), options, state.runs);
  }

  if (floorWanted && !ops.some((op) => op.id === FLOOR_ALONGSIDE)) {
    await measure(FLOOR_LABEL, [floorParticipant(targets.floor, state.scope)], options, state.runs);
  }
}

/** @returns {Participant[]} */
function participants(op, targets, { runs, skips, spare, scope }, floor) {
  const list = [];

  for (const target of [targets.bare, targets.tollgate].filter(Boolean)) {
    const reason = op.skipReason(target);

    if (reason !== undefined) {
      skips.push({ op: op.id, target: target.name, reason });
      continue;
    }

    list.push({
      op: op.id,
      target,
      prepare: (connections, seconds) =>
        op.prepare(target, {
          scope,
          poolSize: op.pooled ? poolSize(op.id, runs, target.name, connections, seconds) : 0,
          spareTokens: spareTokens(spare, target.name, op.id),
        }),
    });
  }

  return floor === undefined ? list : [...list, floorParticipant(floor, scope)];
}

/** @returns {Participant} */
function floorParticipant(floor, scope) {
  const spec = floorSpec(floor.url, scope);

  return { op: 'floor', target: floor, prepare: async () => spec };
}

/**
 * @param {string} label
 * @param {Participant[]} list
 */
async function measure(label, list, options, runs) {
  if (list.length === 0) return;
  say(`\n${list[0]?.op}: ${label}`);

  const first = options.connections[0] ?? 10;

  if (options.warmup > 0) {
    for (const participant of list) {
      const spec = await participant.prepare(first, options.warmup);
      await runLoad(spec, { connections: first, seconds: options.warmup });
    }
  }

  for (const connections of options.connections) {
    const slices = await slicedRuns(list, connections, options);

    for (const participant of list) {
      const run = combine(participant, slices.get(participant) ?? []);
      runs.push(run);
      say(runLine(run));
    }
  }
}

/** Runs every participant in turns, reversing the order on every other slice. */
async function slicedRuns(list, connections, options) {
  const seconds = options.duration / options.slices;
  const slices = new Map(list.map((participant) => [participant, []]));

  for (let slice = 0; slice < options.slices; slice += 1) {
    const order = slice % 2 === 0 ? list : [...list].reverse();

    for (const participant of order) {
      const spec = await participant.prepare(connections, seconds);
      const target = participant.target;
      const measured = await withCpu(
        { pid: target.child.pid ?? 0, postgresUrl: options.postgres, database: target.database },
        () => runLoad(spec, { connections, seconds }),
      );
      slices.get(participant)?.push(measured);
    }
  }

  return slices;
}

/**
 * One participant's slices as one run, with CPU per request for each process.
 * @param {Participant} participant
 * @param {{ result: import('./load.mjs').RawResult, cpu: Record<string, number | undefined> }[]} parts
 */
function combine(participant, parts) {
  const result = summarise(parts.map((part) => part.result));
  const total = (key) =>
    parts.some((part) => part.cpu[key] === undefined)
      ? undefined
      : parts.reduce((sum, part) => sum + (part.cpu[key] ?? 0), 0);
  const perRequest = (seconds) =>
    seconds === undefined || result.requests === 0 ? undefined : (seconds * 1000) / result.requests;
  const cpu = {
    nodeSeconds: total('nodeSeconds'),
    postgresSeconds: total('postgresSeconds'),
    loadGeneratorSeconds: total('loadGeneratorSeconds'),
  };

  return {
    op: participant.op,
    target: participant.target.name,
    slices: parts.length,
    ...result,
    cpu: {
      ...cpu,
      serverMsPerRequest: perRequest(cpu.nodeSeconds),
      postgresMsPerRequest: perRequest(cpu.postgresSeconds),
      loadGeneratorMsPerRequest: perRequest(cpu.loadGeneratorSeconds),
    },
  };
}

/**
 * Single-use items for one slice: the target's client_credentials pace times the slice's
 * length, with headroom; a pool that still runs out ends that slice early (and says so).
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
