// The end of the spend demo's day: spend per agent and per person, the finance team's CSV, one
// session's statement, the IAM team's governance coverage, and the ledger's hash chain checked.
import { check, DemoFailure, expectStatus } from './expect.mjs';
import { runCli } from './tollgate.mjs';
import { block, say, showAnswer, showRequest, skipped, step, table } from './show.mjs';

/** @typedef {import('./spend-traffic.mjs').Day} Day */
/** @typedef {import('./oauth.mjs').AdminCall} AdminCall */

const tokens = (/** @type {unknown} */ value) => Number(value).toLocaleString('en-US');
const usd = (/** @type {unknown} */ value) => (value === null ? '–' : String(value));

const TOTAL_COLUMNS = [
  { key: 'reports', label: 'reports' },
  { key: 'calls', label: 'calls' },
  { key: 'input_tokens', label: 'input tok', format: tokens },
  { key: 'output_tokens', label: 'output tok', format: tokens },
  { key: 'llm_tokens', label: 'LLM tokens', format: tokens },
  { key: 'cost', label: 'cost USD', format: usd },
];

/**
 * @param {Day} day
 * @param {AdminCall} admin
 */
export async function printReports(day, admin) {
  await spendByAgent(day, admin);
  await spendByPerson(admin);
  await ownerToolCsv(admin);
  await sessionStatement(day, admin);
  await governance(admin);
  await ledgerChain(day, admin);
}

/**
 * @param {Day} day
 * @param {AdminCall} admin
 */
async function spendByAgent(day, admin) {
  step("Spend per agent (the report's default period: the last 30 days)");
  const report = await optionalGet(admin, '/v1/reports/spend?group_by=agent', 'spend reports');

  if (report === undefined) return;

  // Biggest spender first (the API orders rows by their keys).
  const byCost = [...report.rows].sort((x, y) => Number(y.cost) - Number(x.cost));

  table(byCost, [{ key: 'agent_name', label: 'agent' }, ...TOTAL_COLUMNS]);

  const sent = (day.counts.tool_report ?? 0) + (day.counts.llm_report ?? 0);
  const rows = /** @type {{ reports: number }[]} */ (report.rows);
  const counted = rows.reduce((sum, row) => sum + row.reports, 0);

  check(counted === sent, `all ${sent} usage reports are accounted for`, counted);
}

/** @param {AdminCall} admin */
async function spendByPerson(admin) {
  step('Spend per person the agents acted for');
  const report = await optionalGet(admin, '/v1/reports/spend?group_by=person', 'spend reports');

  if (report === undefined) return;

  const person = (/** @type {unknown} */ value) =>
    value === null ? '(agents on their own)' : String(value);

  table(report.rows, [{ key: 'person', label: 'person', format: person }, ...TOTAL_COLUMNS]);
  check(report.rows.length === 6, 'five people, plus the work agents did on their own');
}

/** @param {AdminCall} admin */
async function ownerToolCsv(admin) {
  step('The same for finance, as CSV: per owner and tool');
  const answer = await admin('GET', '/v1/reports/spend?group_by=owner,tool', {
    accept: 'text/csv',
    show: (reply) => `Content-Type: ${reply.headers.get('content-type')}`,
  });

  if (unavailable(answer, 'spend reports as CSV')) return;

  expectStatus(answer, 200, 'spend CSV');
  block(answer.text);
  check(answer.text.startsWith('owner,tool,currency,'), 'CSV with a header row');
}

/**
 * A closed session of dave's, on the tool server: what it was allowed and what it spent.
 * @param {Day} day
 * @param {AdminCall} admin
 */
async function sessionStatement(day, admin) {
  const chosen = day.sessions.find(
    ({ task, audience, held }) =>
      task.person === 'dave@example.com' && audience.startsWith('https://tools.') && held.closedAt,
  );

  step("A session statement: dave's release-notes task on the tool server");
  if (chosen?.held.sessionId === undefined) {
    throw new DemoFailure('no closed tool-server session of dave with usage to show');
  }

  const path = `/v1/sessions/${chosen.held.sessionId}/statement`;
  const statement = await optionalGet(admin, path, 'session statements', {
    show: ({ body }) => describeSession(body.session, chosen.task.agent.plan.name),
  });

  if (statement === undefined) return;

  table(statement.by_tool, [{ key: 'tool', label: 'tool' }, ...TOTAL_COLUMNS]);
  table(statement.totals, [{ key: 'currency', label: 'total' }, ...TOTAL_COLUMNS]);
  check(
    Number(statement.totals[0]?.reports) === chosen.held.reports,
    `the statement counts the session's ${chosen.held.reports} reports`,
  );
}

/** @param {Record<string, any>} session @param {string | undefined} agentName */
function describeSession(session, agentName) {
  return [
    `session ${session.id}: ${agentName ?? session.agent_id} acting for ${session.subject}`,
    `tools ${session.tools.join(' ')} at ${session.audience}`,
    `opened ${session.opened_at}, ${session.state} ${session.closed_at} (${session.close_reason})`,
  ].join('\n');
}

/** @param {AdminCall} admin */
async function governance(admin) {
  step(
    'Governance coverage: how much usage ran under an owned agent, scoped tools, a closed session',
  );
  const report = await optionalGet(admin, '/v1/reports/governance', 'governance reports', {
    show: ({ body }) => `coverage ${body.coverage}, weighted by ${body.weighted_by}`,
  });

  if (report === undefined) return;

  const percent = (/** @type {number} */ share) => `${(share * 100).toFixed(1)}%`;

  say(`coverage: ${percent(report.coverage)} of ${tokens(report.totals.llm_tokens)} LLM tokens`);

  for (const [criterion, share] of Object.entries(report.criteria)) {
    say(`  ${criterion.padEnd(16)} ${percent(Number(share)).padStart(6)}`);
  }

  printOffenders(report.offenders);
  check(report.coverage < 1, 'the sessions left open pull coverage below 100%');
  const lapsed = /** @type {{ agent_name: string }[]} */ (
    report.offenders.open_sessions_past_deadline
  );

  check(
    lapsed.some((row) => row.agent_name === 'nightly-digest'),
    "nightly-digest's lapsed session is listed as an offender",
  );
}

/** @param {Record<string, Record<string, any>[]>} offenders */
function printOffenders(offenders) {
  say('offenders:');

  for (const [kind, rows] of Object.entries(offenders)) {
    say(`  ${kind.padEnd(28)} ${rows.length}${rows.length > 0 ? `  (${whose(rows)})` : ''}`);
  }
}

/**
 * Which agents the offending rows belong to, with how many rows each.
 * @param {Record<string, any>[]} rows
 */
function whose(rows) {
  /** @type {Map<string, number>} */
  const counts = new Map();

  for (const row of rows) {
    const name = String(row.agent_name ?? row.agent_id ?? row.id);

    counts.set(name, (counts.get(name) ?? 0) + 1);
  }

  return [...counts].map(([name, times]) => (times > 1 ? `${name} ×${times}` : name)).join(', ');
}

/**
 * Seals the newest events into the hash chain and verifies it over the API; then stops the
 * server and verifies it again with the CLI, straight from the data directory.
 * @param {Day} day
 * @param {AdminCall} admin
 */
async function ledgerChain(day, admin) {
  step('The ledger: seal the newest events into the hash chain, then verify the chain');
  const sealed = await admin('POST', '/v1/ledger/seal');

  if (unavailable(sealed, 'sealing the ledger')) return;

  const verified = await optionalGet(admin, '/v1/ledger/verify', 'ledger verification', {
    show: undefined,
  });

  check(
    verified?.ok === true && verified.unsealed === 0,
    `the chain verifies (${verified?.checked} links)`,
  );
  await verifyWithCli(day);
}

/** @param {Day} day */
async function verifyWithCli(day) {
  const help = runCli(['--help'], day.tollgate.dataDir);

  if (!`${help.stdout}${help.stderr}`.includes('ledger verify')) {
    skipped('the CLI has no `ledger verify` command (its --help lists none); the API check stands');
    return;
  }

  say('stopping the server: the embedded database admits one process at a time');
  await day.tollgate.stop();

  const result = runCli(['ledger', 'verify'], day.tollgate.dataDir);

  showRequest([
    `TOLLGATE_DATA_DIR=${day.tollgate.dataDir}`,
    'node packages/cli/dist/main.js',
    'ledger verify',
  ]);
  showAnswer(result.status ?? -1, `${result.stdout}${result.stderr}`.trim());
  check(result.status === 0, 'the CLI verifies the chain too');
}

/**
 * A GET of the management API that may not exist yet in this build.
 * @param {AdminCall} admin
 * @param {string} path
 * @param {string} feature
 * @param {Partial<import('./http.mjs').Call>} [options]
 */
async function optionalGet(admin, path, feature, options = {}) {
  const answer = await admin('GET', path, { show: false, ...options });

  if (unavailable(answer, feature)) return undefined;

  expectStatus(answer, 200, `GET ${path}`);

  return answer.body;
}

/**
 * A route this build does not have answers 404 (no such path) or 405 (no such method).
 * @param {import('./http.mjs').Answer} answer
 * @param {string} feature
 */
function unavailable(answer, feature) {
  if (answer.status !== 404 && answer.status !== 405) return false;

  skipped(`${feature} (HTTP ${answer.status})`);

  return true;
}
