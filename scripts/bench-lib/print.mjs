// What the bench prints: a line about the machine, then the tables, checks, soak and profile.
import { cpus, loadavg, totalmem } from 'node:os';

import { checkLines, cpuTable, failureBlock, runLine, table } from './report.mjs';

let silenced = false;

/** After an interrupt, runs cut short would only print noise. */
export function silence() {
  silenced = true;
}

export function say(line = '') {
  if (!silenced) process.stdout.write(`${line}\n`);
}

/** Everything a finished run prints. */
export function printReport({ ops, runs, skips, checks, soakResult, profile, options }) {
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

  const block = failureBlock(
    soakResult ? [...runs, { op: 'soak', target: 'tollgate', ...soakResult.load }] : runs,
  );
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
  say(
    `\nTollgate CPU profile (${profile.files.length} file(s), ${profile.totalMs.toFixed(0)} ms sampled), top self time:`,
  );
  profile.functions.forEach((f) => say(`  ${(f.share * 100).toFixed(1).padStart(5)}%  ${f.name}`));
  say('  by package:');
  profile.packages.forEach((p) => say(`  ${(p.share * 100).toFixed(1).padStart(5)}%  ${p.name}`));
}

export function machine() {
  return {
    cpus: cpus().length,
    cpuModel: cpus()[0]?.model,
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    loadavg: loadavg(),
    node: process.version,
  };
}

/** Busy beyond this load per CPU at the start, the machine is called out as busy. */
const BUSY_LOAD_PER_CPU = 0.5;

export function machineLine(options) {
  const m = machine();
  const lines = [
    `tollgate bench: ${m.cpus} CPU(s) shared with the load generator, node ${m.node}, ` +
      `load ${m.loadavg.map((n) => n.toFixed(2)).join(' ')}; ` +
      `connections ${options.connections.join(',')}, ${options.duration}s per run, ` +
      `${options.warmup}s warm-up`,
  ];

  if ((m.loadavg[0] ?? 0) > m.cpus * BUSY_LOAD_PER_CPU) {
    lines.push(
      `!! the machine is busy before the bench starts (load ${m.loadavg[0]?.toFixed(2)}): ` +
        'absolute numbers will be low and noisy; compare ratios, and rerun when it is quiet',
    );
  }

  return lines.join('\n');
}
