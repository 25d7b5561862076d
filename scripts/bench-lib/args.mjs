// Command-line options of scripts/bench, read once into one frozen object.
import { parseArgs } from 'node:util';

export const USAGE = `usage: scripts/bench [options]

Measures Tollgate against a bare oidc-provider and a floor (sign one JWT + insert one row),
on this machine, in one run. Prints ratios; writes raw results to .bench/<timestamp>.json.

  --connections LIST   concurrency levels, comma-separated        (default 10,50)
  --duration SECONDS   length of each measured run                (default 6)
  --warmup SECONDS     warm-up per operation and target           (default 1)
  --slices N           split each run into N slices, the targets taking turns slice by
                       slice, so outside load falls on all alike  (default 2)
  --soak SECONDS       then run client_credentials at 50 connections this long on Tollgate,
                       sampling its RSS every second              (default 0: off; 300 = 5 min)
  --ops LIST           only these operations: cc_secret, cc_jwt, introspect_active,
                       introspect_revoked, revoke, token_exchange, usage, floor
  --targets LIST       only these targets: bare, tollgate, floor  (default all)
  --cpu-prof           run Tollgate under node --cpu-prof and summarise its hottest functions
                       (best with --ops cc_secret --targets tollgate)
  --postgres URL       server to create scratch databases on
                       (default postgres://postgres@127.0.0.1:5432/postgres)
  -h, --help           this text
`;

const OPTIONS = /** @type {const} */ ({
  connections: { type: 'string', default: '10,50' },
  duration: { type: 'string', default: '6' },
  warmup: { type: 'string', default: '1' },
  slices: { type: 'string', default: '2' },
  soak: { type: 'string', default: '0' },
  ops: { type: 'string' },
  targets: { type: 'string', default: 'bare,tollgate,floor' },
  'cpu-prof': { type: 'boolean', default: false },
  postgres: { type: 'string', default: 'postgres://postgres@127.0.0.1:5432/postgres' },
  help: { type: 'boolean', short: 'h', default: false },
});

const TARGETS = ['bare', 'tollgate', 'floor'];

/**
 * @typedef {object} BenchOptions
 * @property {number[]} connections
 * @property {number} duration
 * @property {number} warmup
 * @property {number} slices
 * @property {number} soak
 * @property {string[] | undefined} ops
 * @property {string[]} targets
 * @property {boolean} cpuProf
 * @property {string} postgres
 * @property {boolean} help
 */

/**
 * @param {string[]} argv
 * @param {string[]} knownOps
 * @returns {BenchOptions}
 */
export function readOptions(argv, knownOps) {
  const { values } = parseArgs({ args: argv, options: OPTIONS, strict: true });
  const problems = [];
  const seconds = (name, min) => {
    const value = Number(values[name]);
    if (!Number.isFinite(value) || value < min)
      problems.push(`--${name} must be a number >= ${min}`);
    return value;
  };
  const list = (name, allowed) => {
    const items = String(values[name])
      .split(',')
      .map((item) => item.trim())
      .filter(Boolean);
    const unknown = items.filter((item) => !allowed.includes(item));
    if (unknown.length > 0) problems.push(`--${name}: unknown ${unknown.join(', ')}`);
    return items;
  };
  const connections = String(values.connections).split(',').map(Number);

  if (connections.length === 0 || connections.some((n) => !Number.isInteger(n) || n < 1)) {
    problems.push('--connections must be whole numbers >= 1, e.g. 10,50');
  }

  const options = {
    connections,
    duration: seconds('duration', 1),
    warmup: seconds('warmup', 0),
    slices: Math.round(seconds('slices', 1)),
    soak: seconds('soak', 0),
    ops: values.ops === undefined ? undefined : list('ops', [...knownOps, 'floor']),
    targets: list('targets', TARGETS),
    cpuProf: values['cpu-prof'] === true,
    postgres: String(values.postgres),
    help: values.help === true,
  };

  if (problems.length > 0) {
    throw new Error(`bad options:\n  ${problems.join('\n  ')}\n\n${USAGE}`);
  }

  return Object.freeze(options);
}
