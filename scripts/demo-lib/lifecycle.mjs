// A demo's life: run its story, and whatever happens (success, a failed check, an error,
// Ctrl-C) undo what it set up, newest first: stop the servers it started, tidy its files.
import { DemoFailure } from './expect.mjs';
import { failed, finish } from './show.mjs';

/** @typedef {(outcome: { failed: boolean }) => Promise<void> | void} Undo */

/** @type {Undo[]} */
const undos = [];

/** @type {Set<number>} */
const children = new Set();

/**
 * Registers something to undo when the demo ends, whatever the outcome.
 * @param {Undo} undo
 */
export function defer(undo) {
  undos.push(undo);
}

/**
 * Remembers a child process by PID, so that it is killed even if the demo dies abruptly.
 * @param {number} pid
 */
export function ownChild(pid) {
  children.add(pid);
}

/** @param {number} pid */
export function disownChild(pid) {
  children.delete(pid);
}

/**
 * Runs a demo's story and exits: 0 when every step gave the expected answer, 1 when one did
 * not, 130 on Ctrl-C.
 * @param {string} name
 * @param {() => Promise<void>} story
 */
export async function runDemo(name, story) {
  process.once('SIGINT', () => void end(130, `${name}: interrupted`));
  process.once('SIGTERM', () => void end(143, `${name}: stopped`));
  process.once('exit', killLeftovers);

  try {
    await story();
  } catch (error) {
    // After Ctrl-C the story breaks as its servers go away: that is not worth a report.
    if (ending) return;
    failed(error instanceof DemoFailure ? error.message : errorText(error));
    await end(1, `${name}: FAILED`);
  }

  await end(0, `${name}: every step gave the expected answer`);
}

let ending = false;

/** @param {number} code @param {string} text */
async function end(code, text) {
  if (ending) return;
  ending = true;

  for (const undo of undos.reverse()) {
    await Promise.resolve(undo({ failed: code === 1 })).catch((error) => failed(errorText(error)));
  }

  finish(text, code === 0);
  process.exit(code);
}

/** Last resort when the process exits without end(): no child of ours outlives the demo. */
function killLeftovers() {
  for (const pid of children) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // Already gone: nothing to do.
    }
  }
}

/** @param {unknown} error */
function errorText(error) {
  return error instanceof Error ? (error.stack ?? error.message) : String(error);
}
