// The soak phase: steady client_credentials load on Tollgate while its resident memory is
// sampled every second, to see whether memory settles or keeps growing.
import { readFile } from 'node:fs/promises';

import { runLoad, summarise } from './load.mjs';

/** Memory is judged steady when the last window's mean is within this of the first's. */
const STEADY_TOLERANCE = 0.1;

/**
 * @param {number} pid
 * @returns {Promise<number | undefined>} resident set size in MiB
 */
export async function residentMiB(pid) {
  const status = await readFile(`/proc/${pid}/status`, 'utf8').catch(() => '');
  const kib = /^VmRSS:\s+(\d+)\s+kB/m.exec(status)?.[1];

  return kib === undefined ? undefined : Number(kib) / 1024;
}

/**
 * @param {import('./load.mjs').LoadSpec} spec
 * @param {number} pid
 * @param {number} seconds
 */
export async function soak(spec, pid, seconds) {
  /** @type {{ t: number, rssMiB: number }[]} */
  const samples = [];
  const started = Date.now();
  const sampler = setInterval(async () => {
    const rssMiB = await residentMiB(pid);
    if (rssMiB !== undefined) samples.push({ t: (Date.now() - started) / 1000, rssMiB });
  }, 1000);

  try {
    const load = summarise([await runLoad(spec, { connections: 50, seconds })]);

    return { load, samples, ...judge(samples, seconds) };
  } finally {
    clearInterval(sampler);
  }
}

/**
 * Compares the first window after warm-up with the last window: one minute each on a long
 * soak, a third of the soak on a short one.
 * @param {{ t: number, rssMiB: number }[]} samples
 * @param {number} seconds
 */
function judge(samples, seconds) {
  const window = Math.round(Math.min(60, seconds / 3));
  const warmup = Math.round(Math.min(30, seconds / 6));
  const mean = (list) => list.reduce((sum, s) => sum + s.rssMiB, 0) / Math.max(1, list.length);
  const first = mean(samples.filter((s) => s.t >= warmup && s.t < warmup + window));
  const last = mean(samples.filter((s) => s.t >= seconds - window));
  const values = samples.map((s) => s.rssMiB);

  return {
    windowSeconds: window,
    warmupSeconds: warmup,
    firstRssMiB: values[0] ?? 0,
    lastRssMiB: values.at(-1) ?? 0,
    maxRssMiB: Math.max(0, ...values),
    firstWindowMeanMiB: first,
    lastWindowMeanMiB: last,
    steady: first > 0 && Math.abs(last - first) / first <= STEADY_TOLERANCE,
  };
}
