import { CLI_AUDIT, resetElapsedBudgets } from '@tollgate/core';

import {
  expectInactive,
  expectRefusal,
  exchange,
  exchangeOk,
  TokenTypeUri,
} from './support/exchange.js';
import { adminCall, startTestTollgate, type TestTollgate } from './support/tollgate.js';
import {
  askToken,
  eventsOf,
  expectBudgetExceeded,
  postUsage,
  reportOk,
  sessionOfToken,
  spendAgent,
  spendServer,
  tokenOf,
  usageOf,
  type SpendAgentInput,
  type SpendClient,
} from './support/usage.js';

const LLM = 'https://llm.example.com/';
const DAY_MS = 86_400_000;

describe('budgets', () => {
  let tollgate: TestTollgate;
  let gateway: SpendClient;

  const budgetAgent = (budget: SpendAgentInput['budget'], extra: Partial<SpendAgentInput> = {}) =>
    spendAgent(tollgate, { tools: ['llm'], audiences: [LLM], budget, ...extra });

  /** Reports LLM tokens used with a token, and insists on 201. */
  const use = (token: string, tokens: number, fields: Record<string, unknown> = {}) =>
    reportOk(tollgate, gateway, usageOf(token, { input_tokens: tokens, ...fields }));

  const reached = (agentId: string) => eventsOf(tollgate, ['budget.reached'], agentId);

  /** Renews the agent's session by exchanging its own token (RFC 8693). */
  const renew = (agent: SpendClient, token: string) =>
    exchange(tollgate, agent, {
      subject_token: token,
      subject_token_type: TokenTypeUri.accessToken,
    });

  beforeAll(async () => {
    tollgate = await startTestTollgate();
    gateway = await spendServer(tollgate, LLM);
  });

  afterAll(async () => {
    await tollgate.stop();
  });

  describe('daily LLM tokens at the boundary', () => {
    it('still issues tokens at 99 of 100, refuses them at exactly 100', async () => {
      const agent = await budgetAgent({ daily_llm_tokens: 100 });
      const token = await tokenOf(tollgate, agent, 'llm');

      await use(token, 60, { output_tokens: 39 });
      expect((await askToken(tollgate, agent, 'llm')).status).toBe(200);
      expect(await reached(agent.id)).toHaveLength(0);

      await use(token, 1);
      expectBudgetExceeded(await askToken(tollgate, agent, 'llm'), /daily_llm_tokens/);
      expect((await reached(agent.id)).map((event) => event.data)).toEqual([
        {
          scope: 'agent',
          scope_id: agent.id,
          limit: 'daily_llm_tokens',
          max: 100,
          period_start: expect.any(String),
        },
      ]);
    });

    it('refuses tokens past the limit, and still records later usage', async () => {
      const agent = await budgetAgent({ daily_llm_tokens: 100 });
      const token = await tokenOf(tollgate, agent, 'llm');

      await use(token, 101);
      const refused = await askToken(tollgate, agent, 'llm');
      const after = await postUsage(tollgate, gateway, usageOf(token, { input_tokens: 50 }));

      expectBudgetExceeded(refused, 'agent budget daily_llm_tokens reached: 101 of 100');
      expect(after.status).toBe(201);
      expectBudgetExceeded(await askToken(tollgate, agent, 'llm'), /151 of 100/);
      expect(await reached(agent.id)).toHaveLength(1);
    });

    it('records the limit once when 10 concurrent reports race past it', async () => {
      const agent = await budgetAgent({ daily_llm_tokens: 100 });
      const token = await tokenOf(tollgate, agent, 'llm');
      const replies = await Promise.all(
        Array.from({ length: 10 }, () =>
          postUsage(tollgate, gateway, usageOf(token, { input_tokens: 20 })),
        ),
      );
      const stored = await tollgate.test.database.db
        .selectFrom('usage_reports')
        .select('input_tokens')
        .where('agent_pk', '=', agent.id)
        .execute();

      expect(replies.map((reply) => reply.status)).toEqual(Array(10).fill(201));
      expect(stored).toHaveLength(10);
      expect(await reached(agent.id)).toHaveLength(1);
      expectBudgetExceeded(await askToken(tollgate, agent, 'llm'), /200 of 100/);
    });

    it('counts LLM tokens whatever currency their reports carry', async () => {
      const agent = await budgetAgent({ daily_llm_tokens: 100 });
      const token = await tokenOf(tollgate, agent, 'llm');

      await use(token, 60, { cost: '0.10', currency: 'USD' });
      await use(token, 40);

      expect(await reached(agent.id)).toHaveLength(1);
      expectBudgetExceeded(await askToken(tollgate, agent, 'llm'), /100 of 100/);
    });
  });

  describe('session budgets', () => {
    it('refuse renewing a session that used its budget, not a new session', async () => {
      const agent = await budgetAgent({ session_llm_tokens: 50 });
      const token = await tokenOf(tollgate, agent, 'llm');

      await use(token, 49);
      const renewed = await exchangeOk(tollgate, agent, {
        subject_token: token,
        subject_token_type: TokenTypeUri.accessToken,
      });

      await use(renewed.access_token, 1);
      const refused = await renew(agent, renewed.access_token);

      await expectRefusal(tollgate, refused, agent, 'budget_exceeded', 'budget_session_llm_tokens');
      expect(refused.body.error_description).toContain('session budget session_llm_tokens');
      expect((await askToken(tollgate, agent, 'llm')).status).toBe(200);
      expect((await reached(agent.id)).map((event) => event.data.scope)).toEqual(['session']);
    });
  });

  describe('close_sessions', () => {
    it("closes the agent's open sessions when a limit is reached", async () => {
      const agent = await budgetAgent({ daily_llm_tokens: 10, close_sessions: true });
      const first = await tokenOf(tollgate, agent, 'llm');
      const second = await tokenOf(tollgate, agent, 'llm');

      await use(first, 10);

      await expectInactive(tollgate, gateway, first);
      await expectInactive(tollgate, gateway, second);

      for (const token of [first, second]) {
        const session = await tollgate.test.database.db
          .selectFrom('sessions')
          .select(['closed_at', 'close_reason'])
          .where('id', '=', await sessionOfToken(tollgate, token))
          .executeTakeFirstOrThrow();

        expect(session).toEqual({ closed_at: expect.any(Date), close_reason: 'budget_reached' });
      }
    });

    it('leaves sessions open without it', async () => {
      const agent = await budgetAgent({ daily_llm_tokens: 10 });
      const token = await tokenOf(tollgate, agent, 'llm');

      await use(token, 10);

      const reply = await postUsage(tollgate, gateway, usageOf(token));

      expect(reply.status).toBe(201);
      expect(
        (await eventsOf(tollgate, ['session.closed'], agent.id)).map((event) => event.data),
      ).toEqual([]);
    });
  });

  describe('owner budgets', () => {
    it('stop the tokens of every agent of the owner, and no one else’s', async () => {
      const spender = await budgetAgent(undefined, { owner: 'team-budget' });
      const colleague = await budgetAgent(undefined, { owner: 'team-budget' });
      const outsider = await budgetAgent(undefined, { owner: 'team-other' });
      const put = await adminCall(tollgate, 'PUT', '/v1/owners/team-budget/budget', {
        daily_llm_tokens: 30,
      });

      expect(put).toEqual({
        status: 200,
        json: { owner: 'team-budget', budget: { daily_llm_tokens: 30 } },
      });

      await use(await tokenOf(tollgate, spender, 'llm'), 30);

      expectBudgetExceeded(await askToken(tollgate, spender, 'llm'), /owner budget daily_llm/);
      expectBudgetExceeded(await askToken(tollgate, colleague, 'llm'), /owner budget daily_llm/);
      expect((await askToken(tollgate, outsider, 'llm')).status).toBe(200);
      expect((await reached(spender.id)).map((event) => event.data.scope)).toEqual(['owner']);
    });

    it('are listed, replaced and checked through the management API', async () => {
      const path = '/v1/owners/team-list/budget';
      await adminCall(tollgate, 'PUT', path, { daily_cost: 5, currency: 'EUR' });
      await adminCall(tollgate, 'PUT', path, { monthly_cost: 50, currency: 'EUR' });
      const list = await adminCall(tollgate, 'GET', '/v1/owner-budgets');
      const negative = await adminCall(tollgate, 'PUT', path, { daily_llm_tokens: -1 });
      const noCurrency = await adminCall(tollgate, 'PUT', path, { daily_cost: 1 });
      const badCurrency = await adminCall(tollgate, 'PUT', path, { currency: 'euro' });
      const unknown = await adminCall(tollgate, 'PUT', path, { yearly_cost: 1 });
      const events = await eventsOf(tollgate, ['owner_budget.set']);

      expect(list.json.next_cursor).toBeNull();
      expect(list.json.items).toContainEqual({
        owner: 'team-list',
        budget: { monthly_cost: 50, currency: 'EUR' },
        updated_at: expect.any(String),
      });
      expect(negative.json.errors).toEqual([
        { path: 'daily_llm_tokens', message: expect.any(String) },
      ]);
      expect(noCurrency.json.errors).toEqual([
        { path: 'budget/currency', message: expect.any(String) },
      ]);
      expect([badCurrency.status, unknown.status]).toEqual([400, 400]);
      expect(events.filter((event) => event.data.owner === 'team-list')).toHaveLength(2);

      const encoded = `/v1/owners/${encodeURIComponent('Team A/B')}/budget`;
      const spaced = await adminCall(tollgate, 'PUT', encoded, { daily_llm_tokens: 1 });
      expect(spaced.json.owner).toBe('Team A/B');
    });
  });

  describe('cost budgets', () => {
    it('count only reports in their currency', async () => {
      const agent = await budgetAgent({ daily_cost: 1, currency: 'EUR' });
      const token = await tokenOf(tollgate, agent, 'llm');

      await use(token, 1, { cost: '5.00', currency: 'USD' });
      await use(token, 1, { cost: '0.6', currency: 'EUR' });
      expect((await askToken(tollgate, agent, 'llm')).status).toBe(200);
      expect(await reached(agent.id)).toHaveLength(0);

      await use(token, 1, { cost: '0.400000', currency: 'EUR' });
      expectBudgetExceeded(
        await askToken(tollgate, agent, 'llm'),
        /daily_cost reached: 1 of 1 EUR/,
      );
      expect((await reached(agent.id)).map((event) => event.data.limit)).toEqual(['daily_cost']);
    });
  });

  describe('resets', () => {
    it('records budget.reset once the day a daily budget was reached is over', async () => {
      const agent = await budgetAgent({ daily_llm_tokens: 10 });
      await use(await tokenOf(tollgate, agent, 'llm'), 10);
      const resets = () => eventsOf(tollgate, ['budget.reset'], agent.id);

      await resetElapsedBudgets(tollgate.test.database.db, CLI_AUDIT, new Date());
      expect(await resets()).toHaveLength(0);

      const tomorrow = new Date(Date.now() + DAY_MS);
      expect(
        await resetElapsedBudgets(tollgate.test.database.db, CLI_AUDIT, tomorrow),
      ).toBeGreaterThan(0);
      await resetElapsedBudgets(tollgate.test.database.db, CLI_AUDIT, tomorrow);

      expect((await resets()).map((event) => event.data)).toEqual([
        {
          scope: 'agent',
          scope_id: agent.id,
          limit: 'daily_llm_tokens',
          period_start: `${new Date().toISOString().slice(0, 10)}T00:00:00.000Z`,
        },
      ]);
    });
  });

  describe('agent budgets through the management API', () => {
    it('are set on create, shown, changed by PATCH and checked', async () => {
      const created = await adminCall(tollgate, 'POST', '/v1/agents', {
        name: 'budgeted',
        owner: 'api',
        tools: ['llm'],
        audiences: [LLM],
        budget: { daily_llm_tokens: 1000, session_cost: 2.5, currency: 'USD' },
      });
      const id = String(created.json.id);
      const patched = await adminCall(tollgate, 'PATCH', `/v1/agents/${id}`, {
        budget: { monthly_llm_tokens: 5000, close_sessions: true },
      });
      const read = await adminCall(tollgate, 'GET', `/v1/agents/${id}`);
      const invalid = await adminCall(tollgate, 'PATCH', `/v1/agents/${id}`, {
        budget: { daily_llm_tokens: '5', close_sessions: 'yes' },
      });

      expect(created.json.budget).toEqual({
        daily_llm_tokens: 1000,
        session_cost: 2.5,
        currency: 'USD',
      });
      expect(patched.json.budget).toEqual({ monthly_llm_tokens: 5000, close_sessions: true });
      expect(read.json.budget).toEqual(patched.json.budget);
      expect(invalid.status).toBe(400);
      expect(invalid.json.errors).toEqual([
        { path: 'budget/daily_llm_tokens', message: expect.any(String) },
        { path: 'budget/close_sessions', message: expect.any(String) },
      ]);
    });
  });
});
