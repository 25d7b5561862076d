// Ledger events as a timeline a person can read: oldest first, seconds since the first event,
// who acted, what happened, and the facts that matter for that kind of event.
import { say, short } from './show.mjs';

/** @typedef {Record<string, any>} LedgerEvent */

/** @type {Record<string, (event: LedgerEvent, names: Record<string, string>) => string>} */
const SUMMARIES = {
  'agent.created': ({ data }) =>
    `"${data.name}" of ${data.owner}, tools ${list(data.tools)}, audiences ${list(data.audiences)}`,
  'agent.updated': ({ data }) => `changed ${list(data.changed ?? Object.keys(data))}`,
  'secret.added': ({ data }) => `client secret ${data.secret_id}`,
  'session.opened': ({ subject, data }) =>
    `for ${subject ?? 'the agent itself'}, tools ${list(data.tools)}, until ${clock(data.deadline)}`,
  'session.renewed': ({ data }) => `tools ${list(data.tools)}`,
  'token.exchanged': ({ subject, token_id, data }, names) =>
    `${data.exchange}, token id ${short(token_id ?? '')}: ${names[data.act?.sub] ?? data.act?.sub}` +
    ` acts for ${subject}`,
  'token.issued': ({ token_id, data }) =>
    `token id ${short(token_id ?? '')}, tools ${list(data.tools)}`,
  'exchange.refused': ({ data }) => `${data.error} (${data.reason}): ${data.description}`,
  'session.closed': ({ data }) => data.reason,
  'usage.reported': ({ data }) =>
    `${data.tool}: ${data.calls} call(s), ${data.input_tokens}+${data.output_tokens} LLM tokens`,
  'budget.reached': ({ data }) => `${data.scope} ${data.limit} reached (max ${data.max})`,
};

/**
 * @param {LedgerEvent[]} events ledger events as the management API shows them
 * @param {{ names: Record<string, string>, sessionId?: string }} options who is who (by client
 *   id), and the session whose events are marked with ●
 */
export function printTimeline(events, { names, sessionId }) {
  const sorted = [...events].sort((a, b) => Number(a.id) - Number(b.id));
  const start = Date.parse(sorted[0]?.at ?? '');
  const kindWidth = Math.max(...sorted.map((event) => event.kind.length));
  const seconds = (/** @type {LedgerEvent} */ event) => (Date.parse(event.at) - start) / 1000;
  const offsetWidth = Math.max(...sorted.map((event) => seconds(event).toFixed(3).length));

  for (const event of sorted) {
    const offset = seconds(event).toFixed(3).padStart(offsetWidth);
    const mark = sessionId !== undefined && event.session_id === sessionId ? '●' : ' ';
    const actor = names[event.actor] ?? event.actor ?? 'tollgate';
    const summary = (SUMMARIES[event.kind] ?? ((e) => JSON.stringify(e.data)))(event, names);

    say(`+${offset}s ${mark} ${event.kind.padEnd(kindWidth)}  ${actor}: ${summary}`);
  }
}

/** @param {unknown} values */
function list(values) {
  return Array.isArray(values) ? values.join(' ') : String(values);
}

/** The time of day of an instant, to the second. @param {string} instant */
function clock(instant) {
  return `${instant.slice(11, 19)}Z`;
}
