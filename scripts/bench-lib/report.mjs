// Turns the measured runs into the printed table, the PASS/MISS checks against Tollgate's
// performance targets, and loud warnings about failed requests.

/**
 * @typedef {import('./load.mjs').LoadResult & { op: string, target: string }} Run
 * @typedef {{ op: string, target: string, reason: string }} Skip
 */

/**
 * Tollgate's targets: throughput relative to a bare provider's operation, and p99 latency no
 * worse than 1.5 times the bare provider's for the same operation.
 */
export const TARGETS = [
  { name: 'client_credentials >= 0.8x bare', tollgate: 'cc_secret', bare: 'cc_secret', min: 0.8 },
  {
    name: 'private_key_jwt >= 0.5x bare client_credentials',
    tollgate: 'cc_jwt',
    bare: 'cc_secret',
    min: 0.5,
  },
  {
    name: 'introspection (active) >= 0.9x bare',
    tollgate: 'introspect_active',
    bare: 'introspect_active',
    min: 0.9,
  },
  {
    name: 'token exchange >= 0.5x bare client_credentials',
    tollgate: 'token_exchange',
    bare: 'cc_secret',
    min: 0.5,
  },
];
const P99_LIMIT = 1.5;

/** Bare's counterpart of a Tollgate operation when comparing latency. */
const BARE_COUNTERPART = { token_exchange: 'cc_secret', usage: undefined };

/** @param {Run} run */
export const failures = (run) => run.non2xx + run.errors + run.mismatches;

/**
 * @param {Run[]} runs
 * @param {string} op
 * @param {string} target
 * @param {number} connections
 */
function find(runs, op, target, connections) {
  return runs.find((r) => r.op === op && r.target === target && r.connections === connections);
}

/**
 * PASS/MISS for every target at every concurrency; INVALID where a run had failures.
 * @param {Run[]} runs
 * @param {number[]} levels
 */
export function checkTargets(runs, levels) {
  const checks = [];

  for (const target of TARGETS) {
    for (const connections of levels) {
      const mine = find(runs, target.tollgate, 'tollgate', connections);
      const theirs = find(runs, target.bare, 'bare', connections);
      if (mine === undefined || theirs === undefined) continue;
      checks.push(
        verdict(target.name, connections, mine, theirs, mine.rps / theirs.rps, target.min),
      );
    }
  }

  for (const mine of runs.filter((r) => r.target === 'tollgate')) {
    const counterpart = mine.op in BARE_COUNTERPART ? BARE_COUNTERPART[mine.op] : mine.op;
    const theirs = counterpart && find(runs, counterpart, 'bare', mine.connections);
    if (!theirs) continue;
    const ratio = mine.p99 / theirs.p99;
    const check = verdict(
      `${mine.op} p99 <= ${P99_LIMIT}x bare ${counterpart} p99`,
      mine.connections,
      mine,
      theirs,
      ratio,
      0,
    );
    checks.push({
      ...check,
      status: check.status === 'INVALID' ? 'INVALID' : ratio <= P99_LIMIT ? 'PASS' : 'MISS',
    });
  }

  return checks;
}

function verdict(name, connections, mine, theirs, ratio, min) {
  const invalid = failures(mine) > 0 || failures(theirs) > 0;

  return {
    name,
    connections,
    ratio,
    status: invalid ? 'INVALID' : ratio >= min ? 'PASS' : 'MISS',
  };
}

const num = (value, digits = 0) =>
  value === undefined || !Number.isFinite(value) ? '-' : value.toFixed(digits);
const ratio = (value) =>
  value === undefined || !Number.isFinite(value) ? '-' : `${value.toFixed(2)}x`;

/**
 * One line per operation and concurrency: each target's req/s, p50, p99 and failures, then
 * Tollgate's ratios.
 * @param {Run[]} runs
 * @param {string[]} ops in order
 * @param {number[]} levels
 */
export function table(runs, ops, levels) {
  const header = [
    'operation',
    'conns',
    'bare r/s',
    'p50',
    'p99',
    'tollgate r/s',
    'p50',
    'p99',
    'floor r/s',
    'p99',
    'fail b/t/f',
    'T/bare',
    'T/floor',
    'p99 T/bare',
  ];
  const rows = [header];

  for (const op of ops) {
    for (const connections of levels) {
      const [bare, tollgate, floor] = ['bare', 'tollgate', 'floor'].map((t) =>
        find(runs, op, t, connections),
      );
      const floorRun = floor ?? find(runs, 'floor', 'floor', connections);
      const bareForRatio = bare ?? find(runs, BARE_COUNTERPART[op] ?? op, 'bare', connections);
      if (bare === undefined && tollgate === undefined && floor === undefined) continue;

      rows.push([
        op,
        String(connections),
        num(bare?.rps),
        num(bare?.p50, 1),
        num(bare?.p99, 1),
        num(tollgate?.rps),
        num(tollgate?.p50, 1),
        num(tollgate?.p99, 1),
        num(floor?.rps),
        num(floor?.p99, 1),
        [bare, tollgate, floor].map((r) => (r === undefined ? '-' : String(failures(r)))).join('/'),
        ratio(tollgate && bareForRatio && tollgate.rps / bareForRatio.rps),
        ratio(tollgate && floorRun && tollgate.rps / floorRun.rps),
        ratio(tollgate && bareForRatio && tollgate.p99 / bareForRatio.p99),
      ]);
    }
  }

  return format(rows);
}

/**
 * Where the CPU went: per request, each target's own process and its Postgres backends, and
 * the load generator driving it.
 * @param {Run[]} runs
 * @param {string[]} ops
 * @param {number[]} levels
 */
export function cpuTable(runs, ops, levels) {
  const rows = [
    [
      'operation',
      'conns',
      'bare node',
      'gen',
      'tollgate node',
      'pg',
      'gen',
      'floor node',
      'pg',
      'gen',
    ],
  ];
  const cells = (run, withPg) => {
    const cpu = run?.cpu;
    const values = [cpu?.serverMsPerRequest, ...(withPg ? [cpu?.postgresMsPerRequest] : [])];

    return [...values, cpu?.loadGeneratorMsPerRequest].map((value) => num(value, 2));
  };

  for (const op of ops) {
    for (const connections of levels) {
      const [bare, tollgate, floor] = ['bare', 'tollgate', 'floor'].map((t) =>
        find(runs, op, t, connections),
      );
      if (bare === undefined && tollgate === undefined && floor === undefined) continue;

      rows.push([
        op,
        String(connections),
        ...cells(bare, false),
        ...cells(tollgate, true),
        ...cells(floor, true),
      ]);
    }
  }

  return format(rows);
}

/** Left-aligns the first column, right-aligns the others. */
function format(rows) {
  const widths = rows[0].map((_, column) => Math.max(...rows.map((row) => row[column].length)));

  return rows
    .map((row) =>
      row
        .map((cell, column) =>
          column === 0 ? cell.padEnd(widths[column]) : cell.padStart(widths[column]),
        )
        .join('  '),
    )
    .join('\n');
}

/** @param {ReturnType<typeof checkTargets>} checks */
export function checkLines(checks) {
  return checks.map(
    (check) =>
      `  ${check.status.padEnd(7)} ${check.name.padEnd(62)} c=${String(check.connections).padEnd(4)} ${ratio(check.ratio)}`,
  );
}

/**
 * A loud block for every run with failed requests: such a run's numbers mean nothing.
 * @param {Run[]} runs
 */
export function failureBlock(runs) {
  const failed = runs.filter((run) => failures(run) > 0);
  if (failed.length === 0) return [];

  const bar = '!'.repeat(78);

  return [
    bar,
    `!! ${failed.length} run(s) had failed requests; their numbers are not comparable:`,
    ...failed.map(
      (run) =>
        `!!   ${run.target} ${run.op} c=${run.connections}: non-2xx ${run.non2xx}, ` +
        `errors ${run.errors}, wrong body ${run.mismatches}, statuses ${JSON.stringify(run.statusCodes)}`,
    ),
    bar,
  ];
}

/**
 * One progress line per finished run.
 * @param {Run} run
 */
export function runLine(run) {
  const failed = failures(run);
  const cpu = run.cpu
    ? `  cpu/req ${num(run.cpu.serverMsPerRequest, 2)} ms` +
      (run.cpu.postgresMsPerRequest === undefined
        ? ''
        : ` + pg ${num(run.cpu.postgresMsPerRequest, 2)} ms`)
    : '';
  const note = [
    failed > 0
      ? `  !! FAILED ${failed} (non-2xx ${run.non2xx}, errors ${run.errors}, wrong body ${run.mismatches})`
      : '',
    run.poolRanOut ? `  (single-use pool ran out after ${run.seconds}s)` : '',
  ].join('');

  return (
    `  ${run.target.padEnd(8)} ${run.op.padEnd(18)} c=${String(run.connections).padEnd(3)} ` +
    `${num(run.rps).padStart(6)} req/s  p50 ${num(run.p50, 1).padStart(6)} ms  ` +
    `p99 ${num(run.p99, 1).padStart(6)} ms${cpu}${note}`
  );
}
