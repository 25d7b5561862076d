// Checks a demo makes as it goes: each one is printed when it holds, and the first one that
// does not hold ends the demo with a non-zero exit code.
import { passed } from './show.mjs';

/** A step of the story did not give the answer the demo expected. */
export class DemoFailure extends Error {
  name = 'DemoFailure';
}

/**
 * Prints the check when `condition` holds; throws a DemoFailure naming it otherwise.
 * @param {unknown} condition
 * @param {string} text what holds, phrased as a fact
 * @param {unknown} [seen] what was seen instead, for the failure message
 */
export function check(condition, text, seen) {
  if (!condition) {
    const detail = seen === undefined ? '' : ` (got ${JSON.stringify(seen)})`;

    throw new DemoFailure(`expected: ${text}${detail}`);
  }

  passed(text);
}

/**
 * Throws unless the answer has the status the step needs; the body goes into the message.
 * @param {import('./http.mjs').Answer} answer
 * @param {number} status
 * @param {string} what the step, for the message
 */
export function expectStatus(answer, status, what) {
  if (answer.status !== status) {
    throw new DemoFailure(
      `${what}: expected HTTP ${status}, got ${answer.status} ${answer.text.slice(0, 400)}`,
    );
  }
}
