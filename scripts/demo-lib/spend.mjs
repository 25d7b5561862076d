// scripts/demo-spend: a day of agent traffic with every LLM token and tool call reported by
// the resource servers, a budget that stops an agent, and the reports an owner, a finance team
// and an IAM team read afterwards.
import { setTimeout as sleep } from 'node:timers/promises';

import { check } from './expect.mjs';
import { send } from './http.mjs';
import { startIdentityProvider } from './idp.mjs';
import { runDemo } from './lifecycle.mjs';
import { adminSession } from './oauth.mjs';
import { AGENT_PLANS, registerCast, TOOLS_AUDIENCE } from './spend-cast.mjs';
import { seededRandom, SCHEDULE } from './spend-plan.mjs';
import { printReports } from './spend-reports.mjs';
import { runTasks } from './spend-traffic.mjs';
import { say, skipped, step, title } from './show.mjs';
import { printTimeline } from './timeline.mjs';
import { startTollgate } from './tollgate.mjs';

const BUDGETED_AGENT = 'triage-bot';
/** Each task draws from its own seed, so that every run has the same day. */
const SEEDS = { morning: 1000, afternoon: 2000 };

await runDemo('demo-spend', async () => {
  title(
    'Tollgate demo: spend attribution and budgets',
    'Four agents of two owners work for five people through an LLM gateway and a tool server; ' +
      'every call is reported, one agent runs into its budget, and the reports tell who spent what.',
  );

  const { day, admin } = await setUp();

  await workShift(day, 'morning');
  const budgeted = await setBudget(day, admin);
  await workShift(day, 'afternoon');

  if (budgeted) await showBudgetStop(day, admin);
  await waitForLapsedSession(day);
  await printReports(day, admin);
});

async function setUp() {
  step('Start a local Tollgate and the company identity provider');
  const tollgate = await startTollgate();
  const idp = await startIdentityProvider();

  say(`Tollgate: OAuth at ${tollgate.issuer}, management API at ${tollgate.adminUrl}`);
  say(`          bootstrap admin from its first-start banner: ${tollgate.admin.clientId}`);
  say(`company IdP: ${idp.issuer} (its people: alice, bob, carol, dave, erin @example.com)`);

  step('The admin gets a token for the management API');
  const admin = await adminSession(tollgate);
  const cast = await registerCast(admin, idp);

  /** @type {import('./spend-traffic.mjs').Day} */
  const day = {
    tollgate,
    idp,
    cast,
    gatewayQueue: [],
    counts: {},
    shown: new Set(),
    sessions: [],
  };

  return { day, admin };
}

/**
 * @param {import('./spend-traffic.mjs').Day} day
 * @param {'morning' | 'afternoon'} shift
 */
async function workShift(day, shift) {
  const tasks = SCHEDULE[shift].map(([name, person, close], index) => ({
    agent: day.cast.agents[name] ?? missing(name),
    person,
    close,
    random: seededRandom(SEEDS[shift] + index),
  }));

  const shown = shift === 'morning' ? 'the first request of each kind in full' : 'counted';

  step(`${capitalized(shift)}: ${tasks.length} tasks (${shown})`);

  if (shift === 'morning') {
    say("Tokens are real, so each report is dated inside its token's life: Tollgate refuses");
    say('usage dated before the token was issued. The day is compressed into these seconds.');
  }

  const before = { ...day.counts };

  await runTasks(day, tasks);
  summarize(day, before, tasks);
}

/**
 * @param {import('./spend-traffic.mjs').Day} day
 * @param {Record<string, number>} before
 * @param {{ close: boolean }[]} tasks
 */
function summarize(day, before, tasks) {
  const delta = (/** @type {string} */ kind) => (day.counts[kind] ?? 0) - (before[kind] ?? 0);
  const open = tasks.filter((task) => !task.close).length * 2;

  say(
    `tokens: ${delta('token_exchange')} by token exchange, ` +
      `${delta('client_credentials')} by client credentials`,
  );
  say(
    `usage:  ${delta('tool_report')} tool reports one by one, ` +
      `${delta('llm_report')} LLM reports in ${delta('batch')} gateway batch`,
  );
  say(`closed: ${delta('close')} sessions by their agents; ${open} left open`);
}

/**
 * Midday, the admin caps the agent's LLM tokens per day at about half again what it used.
 * @param {import('./spend-traffic.mjs').Day} day
 * @param {import('./oauth.mjs').AdminCall} admin
 */
async function setBudget(day, admin) {
  const agent = day.cast.agents[BUDGETED_AGENT] ?? missing(BUDGETED_AGENT);
  const used = day.counts[`llm_tokens:${BUDGETED_AGENT}`] ?? 0;
  const limit = Math.ceil((used * 1.5) / 10_000) * 10_000;

  step(
    `Midday: ${BUDGETED_AGENT} used ${used.toLocaleString('en-US')} LLM tokens; the admin caps it`,
  );
  const answer = await admin('PATCH', `/v1/agents/${agent.id}`, {
    json: { budget: { daily_llm_tokens: limit } },
    show: ['name', 'owner', 'budget'],
  });

  if (answer.status === 404 || answer.status === 405 || answer.status === 400) {
    skipped(`agent budgets (PATCH /v1/agents/{id} {budget} answered ${answer.status})`);
    return false;
  }

  check(answer.status === 200 && answer.body.budget?.daily_llm_tokens === limit, 'budget set');

  return true;
}

/**
 * @param {import('./spend-traffic.mjs').Day} day
 * @param {import('./oauth.mjs').AdminCall} admin
 */
async function showBudgetStop(day, admin) {
  const agent = day.cast.agents[BUDGETED_AGENT] ?? missing(BUDGETED_AGENT);

  step(`The afternoon's reports pushed ${BUDGETED_AGENT} past its budget: the ledger says so`);
  const ledger = await admin('GET', `/v1/ledger?agent_id=${agent.id}&kind=budget.reached`, {
    show: ({ body }) => `${body.items?.length} event(s)`,
  });

  printTimeline(ledger.body.items ?? [], { names: namesOf(day) });
  check(ledger.body.items?.length === 1, 'one budget.reached event');

  step(`${BUDGETED_AGENT} asks for its next token, and is refused`);
  const refused = await send({
    url: `${day.tollgate.issuer}/token`,
    basic: [agent.clientId, agent.secret],
    form: { grant_type: 'client_credentials', scope: 'search', resource: TOOLS_AUDIENCE },
  });

  check(refused.status === 400 && refused.body.error === 'budget_exceeded', 'budget_exceeded');
}

/**
 * nightly-digest left a session open; once its deadline passes it is an offender.
 * @param {import('./spend-traffic.mjs').Day} day
 */
async function waitForLapsedSession(day) {
  const seconds = AGENT_PLANS.find((plan) => plan.name === 'nightly-digest')?.sessionMaxSeconds;
  const opened = day.sessions
    .filter(({ task }) => task.agent.plan.name === 'nightly-digest')
    .map(({ held }) => held.issuedAt);
  const wait = Math.max(0, ...opened.map((at) => at + (seconds ?? 0) * 1000 + 1000 - Date.now()));

  if (wait > 0) {
    say(`(waiting ${(wait / 1000).toFixed(1)} s for nightly-digest's session deadline to pass)`);
    await sleep(wait);
  }
}

/**
 * Names of the cast by client id, for the ledger's actors.
 * @param {import('./spend-traffic.mjs').Day} day
 */
function namesOf({ cast }) {
  return {
    [cast.gateway.clientId]: 'llm-gateway',
    [cast.toolServer.clientId]: 'tool-server',
    ...Object.fromEntries(
      Object.values(cast.agents).map((agent) => [agent.clientId, agent.plan.name]),
    ),
  };
}

/** @param {string} name @returns {never} */
function missing(name) {
  throw new Error(`no agent ${name} in the cast`);
}

/** @param {string} word */
function capitalized(word) {
  return `${word[0]?.toUpperCase()}${word.slice(1)}`;
}
