// What the spend demo's day is made of: who works for whom in the morning and the afternoon,
// how big each LLM call and tool call is, and what it costs. Seeded, so every run is alike.

/** USD per million input and output tokens, by model. */
const MODEL_PRICES = {
  'gpt-4.1': { input: 2, output: 8 },
  'gpt-4.1-mini': { input: 0.4, output: 1.6 },
};

/** USD per call of each tool the tool server offers. */
const TOOL_PRICES = { search: 0.005, 'github.issues.create': 0.001 };

/** The heavy LLM users: which model they use and how large their prompts are. */
const LLM_PROFILES = {
  'research-assistant': { model: 'gpt-4.1', input: [800, 6000], output: [150, 1200] },
  'release-notes-writer': { model: 'gpt-4.1', input: [1500, 5000], output: [300, 1500] },
  'triage-bot': { model: 'gpt-4.1-mini', input: [3000, 12_000], output: [200, 800] },
  'nightly-digest': { model: 'gpt-4.1-mini', input: [2000, 8000], output: [300, 900] },
};

/**
 * A small seeded generator (mulberry32): the same day every run.
 * @param {number} seed
 * @returns {() => number} numbers in [0, 1)
 */
export function seededRandom(seed) {
  let state = seed >>> 0;

  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let mixed = Math.imul(state ^ (state >>> 15), 1 | state);

    mixed ^= mixed + Math.imul(mixed ^ (mixed >>> 7), 61 | mixed);

    return ((mixed ^ (mixed >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/**
 * The morning's and the afternoon's tasks: [agent name, person or null, closes its sessions].
 * @type {Record<'morning' | 'afternoon', [string, string | null, boolean][]>}
 */
export const SCHEDULE = {
  morning: [
    ['research-assistant', 'alice@example.com', true],
    ['triage-bot', null, true],
    ['research-assistant', 'bob@example.com', true],
    ['release-notes-writer', 'dave@example.com', true],
    ['triage-bot', null, true],
    ['research-assistant', 'carol@example.com', true],
    ['nightly-digest', null, false],
    ['triage-bot', null, true],
  ],
  afternoon: [
    ['triage-bot', null, true],
    ['research-assistant', 'alice@example.com', true],
    ['release-notes-writer', 'erin@example.com', false],
    ['triage-bot', null, true],
    ['research-assistant', 'bob@example.com', true],
    ['release-notes-writer', 'dave@example.com', true],
    ['triage-bot', null, true],
    ['research-assistant', 'carol@example.com', true],
  ],
};

/**
 * One LLM call of an agent: its model and token counts.
 * @param {() => number} random
 * @param {import('./spend-cast.mjs').AgentPlan} plan
 */
export function planLlmCall(random, plan) {
  const profile = LLM_PROFILES[/** @type {keyof typeof LLM_PROFILES} */ (plan.name)];
  const between = (/** @type {number[]} */ [low = 0, high = 0]) =>
    Math.round(low + random() * (high - low));

  return {
    model: profile.model,
    input_tokens: between(profile.input),
    output_tokens: between(profile.output),
  };
}

/**
 * The tool calls of one task, one report each: a few searches, and an issue or two for the
 * agents that may file them.
 * @param {() => number} random
 * @param {import('./spend-cast.mjs').AgentPlan} plan
 */
export function planToolReports(random, plan) {
  const searches = Array.from({ length: 3 + Math.floor(random() * 3) }, () => ({
    tool: 'search',
    calls: 1 + Math.floor(random() * 3),
  }));
  const issues = plan.tools.includes('github.issues.create')
    ? Array.from({ length: 1 + Math.floor(random() * 2) }, () => ({
        tool: 'github.issues.create',
        calls: 1,
      }))
    : [];

  return [...searches, ...issues];
}

/**
 * The cost of a call, as a report carries it: a decimal string of at most 6 places, in USD.
 * @param {string} tool
 * @param {{ calls?: number, model?: string, input_tokens?: number, output_tokens?: number }} use
 */
export function costOf(tool, use) {
  const price = MODEL_PRICES[/** @type {keyof typeof MODEL_PRICES} */ (use.model ?? '')];
  const amount =
    price === undefined
      ? (use.calls ?? 1) * (TOOL_PRICES[/** @type {keyof typeof TOOL_PRICES} */ (tool)] ?? 0)
      : ((use.input_tokens ?? 0) * price.input + (use.output_tokens ?? 0) * price.output) / 1e6;

  return { cost: amount.toFixed(6), currency: 'USD' };
}
