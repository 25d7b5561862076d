// CPU time spent per request by each process involved in a run: the target's Node process,
// the Postgres backends serving its database, and the load generator itself. Read from
// /proc, so it tells where the two shared cores went.
import { readFile } from 'node:fs/promises';

import { backendPids } from './postgres.mjs';

/** Linux reports utime and stime in clock ticks; USER_HZ is 100 on every usual kernel. */
const TICKS_PER_SECOND = 100;

/** @param {number} pid @returns {Promise<number | undefined>} seconds of user + system CPU */
async function cpuSeconds(pid) {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => undefined);
  if (stat === undefined) return undefined;

  // Fields after the parenthesised command name; utime and stime are the 14th and 15th.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');

  return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND;
}

/**
 * @param {{ pid: number, postgresUrl: string, database?: string }} target
 */
async function snapshot({ pid, postgresUrl, database }) {
  const backends = database === undefined ? [] : await backendPids(postgresUrl, database);
  const pg = new Map();

  for (const backend of backends) pg.set(backend, (await cpuSeconds(backend)) ?? 0);

  return { node: (await cpuSeconds(pid)) ?? 0, pg, bench: process.cpuUsage() };
}

/**
 * Runs `work` and returns its result with the CPU seconds each side used meanwhile.
 * Backends that closed during the run are missed, ones that opened are counted from zero.
 * @template T
 * @param {{ pid: number, postgresUrl: string, database?: string }} target
 * @param {() => Promise<T>} work
 */
export async function withCpu(target, work) {
  const before = await snapshot(target);
  const result = await work();
  const after = await snapshot(target);
  let pg = 0;

  for (const [backend, seconds] of after.pg) pg += seconds - (before.pg.get(backend) ?? 0);

  const bench = process.cpuUsage(before.bench);

  return {
    result,
    cpu: {
      nodeSeconds: after.node - before.node,
      postgresSeconds: target.database === undefined ? undefined : pg,
      loadGeneratorSeconds: (bench.user + bench.system) / 1e6,
    },
  };
}
