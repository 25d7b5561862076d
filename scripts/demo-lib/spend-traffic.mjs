// A day's traffic of the spend demo, task by task: the agent gets one token per audience
// (token exchange for a person, client credentials on its own), the tool server reports each
// tool call, the LLM gateway queues its reports and sends them in batches, and the agent
// closes its sessions when the task is done (or forgets to).
import { randomUUID } from 'node:crypto';

import { DemoFailure, expectStatus } from './expect.mjs';
import { send } from './http.mjs';
import { JWT_TOKEN_TYPE, TOKEN_EXCHANGE } from './oauth.mjs';
import { LLM_AUDIENCE, PEOPLE_AUDIENCE, TOOLS_AUDIENCE } from './spend-cast.mjs';
import { costOf, planLlmCall, planToolReports } from './spend-plan.mjs';

/** Tasks run this many at a time, as several agents would. */
const PARALLEL_TASKS = 4;

/**
 * @typedef {object} Held a token an agent holds, and when it may be used
 * @property {string} token
 * @property {number} issuedAt
 * @property {number} expiresAt
 * @property {number | undefined} closedAt
 * @property {string | undefined} sessionId learnt from the first usage report
 * @property {number} reports how many usage reports name it
 */

/**
 * @typedef {object} Task
 * @property {import('./spend-cast.mjs').Agent} agent
 * @property {string | null} person whom the agent acts for; null when it acts on its own
 * @property {boolean} close whether the agent closes its sessions at the end
 * @property {() => number} random the task's own seeded numbers, so that it is the same every
 *   run whatever order the tasks run in
 */

/**
 * @typedef {object} Day
 * @property {import('./tollgate.mjs').LocalTollgate} tollgate
 * @property {import('./idp.mjs').IdentityProvider} idp
 * @property {import('./spend-cast.mjs').Cast} cast
 * @property {object[]} gatewayQueue LLM usage reports the gateway has yet to send
 * @property {Record<string, number>} counts what was sent, by kind
 * @property {Set<string>} shown the kinds of request already printed in full
 * @property {{ task: Task, audience: string, held: Held }[]} sessions
 */

/**
 * Runs tasks a few at a time, then the gateway sends what it queued.
 * @param {Day} day
 * @param {Task[]} tasks
 */
export async function runTasks(day, tasks) {
  let next = 0;
  const worker = async () => {
    while (next < tasks.length) {
      const task = tasks[next++];

      if (task !== undefined) await runTask(day, task);
    }
  };

  await Promise.all(Array.from({ length: PARALLEL_TASKS }, worker));
  await flushGateway(day);
}

/**
 * @param {Day} day
 * @param {Task} task
 */
async function runTask(day, task) {
  const llm = await obtainToken(day, task, LLM_AUDIENCE, ['llm.chat']);
  const tools = await obtainToken(day, task, TOOLS_AUDIENCE, toolsBeyondLlm(task));

  for (const report of planToolReports(task.random, task.agent.plan)) {
    await reportToolUse(day, task, tools, report);
  }

  const calls = 10 + Math.floor(task.random() * 7);

  for (let index = 0; index < calls; index += 1) {
    const call = planLlmCall(task.random, task.agent.plan);

    day.gatewayQueue.push(llmReport(task, llm, call));
    count(day, `llm_tokens:${task.agent.plan.name}`, call.input_tokens + call.output_tokens);
  }

  if (task.close) {
    await closeSession(day, llm);
    await closeSession(day, tools);
  }
}

/**
 * Gets a token for one audience: exchanged for the person's IdP token, or client credentials.
 * @param {Day} day
 * @param {Task} task
 * @param {string} audience
 * @param {string[]} tools
 * @returns {Promise<Held>}
 */
export async function obtainToken(day, task, audience, tools) {
  const kind = task.person === null ? 'client_credentials' : 'token_exchange';
  const answer = await send({
    url: `${day.tollgate.issuer}/token`,
    basic: [task.agent.clientId, task.agent.secret],
    form: await tokenRequest(day, task, audience, tools),
    show: ['access_token', 'scope', 'expires_in'],
    quiet: !firstOf(day, kind),
  });

  expectStatus(answer, 200, `${task.agent.plan.name}: ${kind}`);
  count(day, kind);

  const issuedAt = Date.now();
  const held = {
    token: String(answer.body.access_token),
    issuedAt,
    expiresAt: issuedAt + Number(answer.body.expires_in) * 1000,
    closedAt: undefined,
    sessionId: undefined,
    reports: 0,
  };

  day.sessions.push({ task, audience, held });

  return held;
}

/**
 * @param {Day} day
 * @param {Task} task
 * @param {string} audience
 * @param {string[]} tools
 */
async function tokenRequest(day, task, audience, tools) {
  const target = { scope: tools.join(' '), resource: audience };

  if (task.person === null) {
    return { grant_type: 'client_credentials', ...target };
  }

  return {
    grant_type: TOKEN_EXCHANGE,
    subject_token: await day.idp.signUserToken(task.person, PEOPLE_AUDIENCE),
    subject_token_type: JWT_TOKEN_TYPE,
    ...target,
  };
}

/**
 * The tool server reports one tool call, on its own, as it happens.
 * @param {Day} day
 * @param {Task} task
 * @param {Held} held
 * @param {{ tool: string, calls: number }} use
 */
async function reportToolUse(day, task, held, { tool, calls }) {
  const answer = await send({
    url: `${day.tollgate.issuer}/usage`,
    basic: [day.cast.toolServer.clientId, day.cast.toolServer.secret],
    json: {
      token: held.token,
      tool,
      calls,
      ...costOf(tool, { calls }),
      idempotency_key: `tools-${randomUUID()}`,
      occurred_at: occurredAt(task.random, held),
    },
    show: ['agent_id', 'session_id', 'subject', 'tool', 'calls', 'cost', 'occurred_at'],
    quiet: !firstOf(day, 'tool_report'),
  });

  expectStatus(answer, 201, `usage report for ${tool}`);
  held.sessionId ??= answer.body.session_id;
  held.reports += 1;
  count(day, 'tool_report');
}

/**
 * @param {Task} task
 * @param {Held} held
 * @param {{ model: string, input_tokens: number, output_tokens: number }} call
 */
function llmReport(task, held, call) {
  held.reports += 1;

  return {
    token: held.token,
    tool: 'llm.chat',
    ...call,
    calls: 1,
    ...costOf('llm.chat', call),
    idempotency_key: `gw-${randomUUID()}`,
    occurred_at: occurredAt(task.random, held),
  };
}

/**
 * The gateway sends its queue in one batch; every report must be accepted.
 * @param {Day} day
 */
export async function flushGateway(day) {
  const reports = day.gatewayQueue.splice(0);

  if (reports.length === 0) return;

  const answer = await send({
    url: `${day.tollgate.issuer}/usage`,
    basic: [day.cast.gateway.clientId, day.cast.gateway.secret],
    json: { reports },
    shownBody: `'{"reports":[{"token":"…","tool":"llm.chat","model":"…",…} … ${reports.length} reports]}'`,
    show: ({ body }) => `{"results":[… ${body.results?.length} results: ${statusCounts(body)}]}`,
    quiet: !firstOf(day, 'batch'),
  });

  expectStatus(answer, 200, 'gateway batch');
  const refused = answer.body.results.filter((/** @type {any} */ result) => result.status !== 201);

  if (refused.length > 0) {
    throw new DemoFailure(
      `gateway batch: ${refused.length} refused, e.g. ${JSON.stringify(refused[0])}`,
    );
  }

  count(day, 'batch');
  count(day, 'llm_report', reports.length);
}

/**
 * The agent ends its task: any live token of the session closes it.
 * @param {Day} day
 * @param {Held} held
 */
async function closeSession(day, held) {
  const answer = await send({
    method: 'POST',
    url: `${day.tollgate.issuer}/sessions/close`,
    bearer: held.token,
    quiet: !firstOf(day, 'close'),
  });

  expectStatus(answer, 200, 'session close');
  held.closedAt = Date.now();
  count(day, 'close');
}

/**
 * A moment inside the token's life so far: after its issue, before now and its end.
 * @param {() => number} random
 * @param {Held} held
 */
function occurredAt(random, held) {
  const end = Math.min(Date.now(), held.expiresAt, held.closedAt ?? Infinity);

  return new Date(held.issuedAt + random() * Math.max(0, end - held.issuedAt)).toISOString();
}

/** @param {Task} task */
function toolsBeyondLlm(task) {
  return task.agent.plan.tools.filter((tool) => tool !== 'llm.chat');
}

/** @param {{ results?: { status: number }[] }} body */
function statusCounts(body) {
  /** @type {Record<number, number>} */
  const counts = {};

  for (const result of body.results ?? []) counts[result.status] = (counts[result.status] ?? 0) + 1;

  return Object.entries(counts)
    .map(([status, times]) => `${times} × ${status}`)
    .join(', ');
}

/** Whether this is the first request of its kind (printed in full; the rest are counted). */
function firstOf(/** @type {Day} */ day, /** @type {string} */ kind) {
  const first = !day.shown.has(kind);

  day.shown.add(kind);

  return first;
}

function count(/** @type {Day} */ day, /** @type {string} */ kind, by = 1) {
  day.counts[kind] = (day.counts[kind] ?? 0) + by;
}
