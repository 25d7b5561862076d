// How a demo talks to its reader: numbered steps, the requests it sends in curl form, the parts
// of the answers that matter, the checks it made, and tables. Everything goes to stdout.

const colour = process.stdout.isTTY === true && !process.env.NO_COLOR;

/** @param {string} code @param {string} text */
const paint = (code, text) => (colour ? `\x1b[${code}m${text}\x1b[0m` : text);
const bold = (/** @type {string} */ text) => paint('1', text);
const dim = (/** @type {string} */ text) => paint('2', text);
const green = (/** @type {string} */ text) => paint('32', text);
const red = (/** @type {string} */ text) => paint('31', text);
const yellow = (/** @type {string} */ text) => paint('33', text);

/** Lines wider than this are folded (curl lines at argument boundaries). */
const WIDTH = 100;

let stepNumber = 0;

/** @param {string} line */
const out = (line = '') => process.stdout.write(`${line}\n`);

/** The demo's name and what it is about, once at the top. @param {string} name @param {string} about */
export function title(name, about) {
  out(bold(`${name}`));
  out(dim(about));
}

/** Starts the next numbered step of the story. @param {string} text */
export function step(text) {
  stepNumber += 1;
  out();
  out(bold(`── ${stepNumber}. ${text}`));
}

/** A line of narration. @param {string} text */
export function say(text) {
  out(`   ${text}`);
}

/** A request, as the curl command that would send it. @param {string[]} words */
export function showRequest(words) {
  fold(['$', ...words]).forEach((line) => out(dim(`   ${line}`)));
}

/** The status and the interesting part of an answer. @param {number} status @param {string} text */
export function showAnswer(status, text) {
  const arrow = status >= 400 ? yellow(`→ ${status}`) : `→ ${status}`;
  const [first = '', ...rest] = text.split('\n');

  out(`   ${arrow} ${first}`);
  rest.forEach((line) => out(`         ${line}`));
}

/** A check that held. @param {string} text */
export function passed(text) {
  out(`   ${green('✓')} ${text}`);
}

/** A check that did not hold, or a step that broke. @param {string} text */
export function failed(text) {
  out(`   ${red('✗')} ${text}`);
}

/** A step skipped because the server does not offer it yet. @param {string} text */
export function skipped(text) {
  out(`   ${yellow('–')} not available yet: ${text}`);
}

/** The closing line of a demo. @param {string} text @param {boolean} ok */
export function finish(text, ok) {
  out();
  out(ok ? green(bold(text)) : red(bold(text)));
}

/**
 * Prints rows as an aligned table; numbers are right-aligned.
 * @param {Record<string, unknown>[]} rows
 * @param {{ key: string, label: string, format?: (value: unknown) => string }[]} columns
 */
export function table(rows, columns) {
  const cells = rows.map((row) =>
    columns.map(({ key, format }) => (format ?? plain)(row[key] ?? null)),
  );
  const widths = columns.map(({ label }, index) =>
    Math.max(label.length, ...cells.map((line) => (line[index] ?? '').length)),
  );
  const numeric = columns.map((_, index) =>
    cells.every((line) => /^[\d.,%-]*$/.test(line[index] ?? '')),
  );
  const render = (/** @type {string[]} */ line) =>
    line
      .map((cell, index) =>
        numeric[index] ? cell.padStart(widths[index] ?? 0) : cell.padEnd(widths[index] ?? 0),
      )
      .join('  ')
      .trimEnd();

  out(`   ${bold(render(columns.map(({ label }) => label)))}`);
  cells.forEach((line) => out(`   ${render(line)}`));
}

/** A cell as text; an absent value as a dash. @param {unknown} value */
function plain(value) {
  return value === null ? '–' : String(value);
}

/** Prints a block of text as it is, indented. @param {string} text */
export function block(text) {
  text
    .trimEnd()
    .split(/\r?\n/)
    .forEach((line) => out(`     ${line}`));
}

/**
 * Shortens a token or secret so that a reader can tell values apart without the output
 * carrying anything usable: the first 8 and last 4 characters.
 * @param {string} value
 */
export function short(value) {
  return value.length <= 16 ? value : `${value.slice(0, 8)}…${value.slice(-4)}`;
}

/**
 * Folds a command at word boundaries with shell continuation lines.
 * @param {string[]} words
 */
function fold(words) {
  const lines = [];
  let line = '';

  for (const word of words) {
    if (line !== '' && line.length + word.length + 3 > WIDTH - 3) {
      lines.push(`${line} \\`);
      line = `    ${word}`;
    } else {
      line = line === '' ? word : `${line} ${word}`;
    }
  }

  return [...lines, line];
}
