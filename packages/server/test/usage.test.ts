import { setTimeout as sleep } from 'node:timers/promises';

import { tokenIdOf } from '@tollgate/core';

import { ownToken } from './support/exchange.js';
import { introspect, revoke, wrongSecret } from './support/oauth.js';
import { startTestTollgate, type TestTollgate } from './support/tollgate.js';
import {
  ageToken,
  eventsOf,
  expectProblem,
  minutesAgo,
  postUsage,
  reportOk,
  sessionOfToken,
  spendAgent,
  spendServer,
  tokenOf,
  usageOf,
  type SpendClient,
  type SpendAgentInput,
} from './support/usage.js';

const LLM = 'https://llm.example.com/';
const MAIL = 'https://mail.example.com/';

describe('usage reports (POST /usage)', () => {
  let tollgate: TestTollgate;
  let gateway: SpendClient;
  let mailServer: SpendClient;

  const llmAgent = (extra: Partial<SpendAgentInput> = {}) =>
    spendAgent(tollgate, { tools: ['llm', 'search'], audiences: [LLM], ...extra });

  const countReports = async (agentId: string) =>
    (
      await tollgate.test.database.db
        .selectFrom('usage_reports')
        .select('id')
        .where('agent_pk', '=', agentId)
        .execute()
    ).length;

  beforeAll(async () => {
    tollgate = await startTestTollgate();
    gateway = await spendServer(tollgate, LLM);
    mailServer = await spendServer(tollgate, MAIL);
  });

  afterAll(async () => {
    await tollgate.stop();
  });

  describe('token states', () => {
    it('records usage of a token in an open session, with its ledger event', async () => {
      const agent = await llmAgent();
      const token = await tokenOf(tollgate, agent, 'llm');
      const body = usageOf(token, {
        model: 'gpt-x',
        input_tokens: 120,
        output_tokens: 30,
        calls: 2,
        cost: '0.5',
        currency: 'USD',
      });
      const reply = await postUsage(tollgate, gateway, body);
      const [event] = await eventsOf(tollgate, ['usage.reported'], agent.id);

      expect(reply.status).toBe(201);
      expect(reply.body).toEqual({
        id: expect.any(String),
        token_id: tokenIdOf(token),
        agent_id: agent.id,
        session_id: await sessionOfToken(tollgate, token),
        subject: null,
        tool: 'llm',
        model: 'gpt-x',
        input_tokens: 120,
        output_tokens: 30,
        calls: 2,
        cost: '0.500000',
        currency: 'USD',
        occurred_at: expect.any(String),
        received_at: expect.any(String),
      });
      expect(event).toMatchObject({
        client_id: gateway.clientId,
        token_id: tokenIdOf(token),
        session_id: reply.body.session_id,
        data: {
          usage_id: reply.body.id,
          tool: 'llm',
          input_tokens: 120,
          output_tokens: 30,
          cost: '0.5',
          currency: 'USD',
          idempotency_key: body.idempotency_key,
        },
      });
    });

    it('accepts usage from before a session closed, refuses usage after', async () => {
      const agent = await llmAgent();
      const token = await tokenOf(tollgate, agent, 'llm');
      const closed = await fetch(`${tollgate.issuer}/sessions/close`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}` },
      });

      expect(closed.status).toBe(200);

      // Ten minutes pass: the token was issued 10 minutes ago, the session closed 5 minutes ago.
      await ageToken(tollgate, token, { issued: 10, ended: 5 });

      const before = await postUsage(
        tollgate,
        gateway,
        usageOf(token, { occurred_at: minutesAgo(7) }),
      );
      const after = await postUsage(
        tollgate,
        gateway,
        usageOf(token, { occurred_at: minutesAgo(1) }),
      );

      expect(before.status).toBe(201);
      expectProblem(after, 400, 'invalid_input');
      expect(after.body.errors).toEqual([{ path: 'occurred_at', message: expect.any(String) }]);
      expect(await countReports(agent.id)).toBe(1);
    });

    it('accepts usage that happened while an expired token was alive', async () => {
      const agent = await llmAgent({ token_ttl_seconds: 1 });
      const token = await tokenOf(tollgate, agent, 'llm');
      const duringLife = new Date().toISOString();

      // The one sleep of this file: the server's clock must pass the token's 1 s lifetime.
      await sleep(1500);

      const active = await introspect(tollgate, gateway, token);
      const reply = await postUsage(tollgate, gateway, usageOf(token, { occurred_at: duringLife }));

      expect(active.body.active).toBe(false);
      expect(reply.status).toBe(201);
      expect(reply.body.occurred_at).toBe(duringLife);
    });

    it('accepts usage from before a revocation, refuses usage after', async () => {
      const agent = await llmAgent();
      const token = await tokenOf(tollgate, agent, 'llm');

      expect((await revoke(tollgate, agent, token)).status).toBe(200);
      expect((await introspect(tollgate, gateway, token)).body.active).toBe(false);

      await ageToken(tollgate, token, { issued: 10, ended: 5 });

      const before = await postUsage(
        tollgate,
        gateway,
        usageOf(token, { occurred_at: minutesAgo(6) }),
      );
      const after = await postUsage(tollgate, gateway, usageOf(token));

      expect(before.status).toBe(201);
      expectProblem(after, 400, 'invalid_input');
    });

    it('identifies the token by token_id as well as by its value', async () => {
      const agent = await llmAgent();
      const token = await tokenOf(tollgate, agent, 'llm');
      const { token: _value, ...byValue } = usageOf(token);
      const reply = await postUsage(tollgate, gateway, { ...byValue, token_id: tokenIdOf(token) });

      expect(reply.status).toBe(201);
      expect(reply.body).toMatchObject({ agent_id: agent.id, token_id: tokenIdOf(token) });
    });

    it('answers 404 for a token Tollgate never issued', async () => {
      const reply = await postUsage(tollgate, gateway, usageOf('not-a-token'));

      expectProblem(reply, 404, 'not_found');
    });
  });

  describe('idempotency', () => {
    it('stores 20 concurrent duplicates once: one 201, 19 × 200, same body', async () => {
      const agent = await llmAgent();
      const token = await tokenOf(tollgate, agent, 'llm');
      const body = usageOf(token, { input_tokens: 7, cost: '0.25', currency: 'EUR' });
      const replies = await Promise.all(
        Array.from({ length: 20 }, () => postUsage(tollgate, gateway, body)),
      );
      const created = replies.filter((reply) => reply.status === 201);
      const events = await eventsOf(tollgate, ['usage.reported'], agent.id);

      expect(created).toHaveLength(1);
      expect(replies.filter((reply) => reply.status === 200)).toHaveLength(19);
      expect(new Set(replies.map((reply) => reply.text)).size).toBe(1);
      expect(await countReports(agent.id)).toBe(1);
      expect(events).toHaveLength(1);
      expect(events[0]?.data).toMatchObject({ idempotency_key: body.idempotency_key });
    });

    it('refuses the same key with different content (409)', async () => {
      const agent = await llmAgent();
      const token = await tokenOf(tollgate, agent, 'llm');
      const body = usageOf(token, { input_tokens: 5 });

      await reportOk(tollgate, gateway, body);
      const clash = await postUsage(tollgate, gateway, { ...body, input_tokens: 6 });

      expectProblem(clash, 409, 'conflict');
      expect(await countReports(agent.id)).toBe(1);
    });

    it('keeps keys apart per resource server', async () => {
      const agent = await spendAgent(tollgate, { tools: ['llm'], audiences: [LLM, MAIL] });
      const forLlm = await ownToken(tollgate, agent, 'llm', LLM);
      const forMail = await ownToken(tollgate, agent, 'llm', MAIL);
      const body = { input_tokens: 1, idempotency_key: 'shared-key' };

      expect((await postUsage(tollgate, gateway, usageOf(forLlm, body))).status).toBe(201);
      expect((await postUsage(tollgate, mailServer, usageOf(forMail, body))).status).toBe(201);
      expect(await countReports(agent.id)).toBe(2);
    });
  });

  describe('refusals', () => {
    let agent: SpendClient;
    let token: string;

    beforeAll(async () => {
      agent = await llmAgent();
      token = await tokenOf(tollgate, agent, 'llm');
    });

    it('refuses a server the token was not issued for (403)', async () => {
      expectProblem(await postUsage(tollgate, mailServer, usageOf(token)), 403, 'forbidden');
    });

    it('refuses a tool outside the token’s scope (403)', async () => {
      const reply = await postUsage(tollgate, gateway, usageOf(token, { tool: 'search' }));

      expectProblem(reply, 403, 'forbidden');
      expect(reply.body.detail).toContain('search');
    });

    it('refuses malformed units with every problem listed (400)', async () => {
      const reply = await postUsage(
        tollgate,
        gateway,
        usageOf(token, { input_tokens: -1, output_tokens: 1.5, calls: '3' }),
      );

      expectProblem(reply, 400, 'invalid_input');
      expect(reply.body.errors).toEqual([
        { path: 'input_tokens', message: expect.any(String) },
        { path: 'output_tokens', message: expect.any(String) },
        { path: 'calls', message: expect.any(String) },
      ]);
    });

    it('refuses unknown fields (400)', async () => {
      const reply = await postUsage(tollgate, gateway, usageOf(token, { prompt: 'secret text' }));

      expectProblem(reply, 400, 'invalid_input');
      expect(reply.body.errors).toEqual([{ path: 'prompt', message: 'unknown field' }]);
    });

    it('refuses a body without token or with both token and token_id (400)', async () => {
      const { token: _value, ...withoutToken } = usageOf(token);
      const both = usageOf(token, { token_id: tokenIdOf(token) });

      expectProblem(await postUsage(tollgate, gateway, withoutToken), 400, 'invalid_input');
      expectProblem(await postUsage(tollgate, gateway, both), 400, 'invalid_input');
      expectProblem(await postUsage(tollgate, gateway, '[1, 2]'), 400, 'invalid_input');
    });

    it('refuses cost without currency, and usage dated in the future (400)', async () => {
      const tomorrow = new Date(Date.now() + 86_400_000).toISOString();
      const costOnly = await postUsage(tollgate, gateway, usageOf(token, { cost: '1.00' }));
      const future = await postUsage(tollgate, gateway, usageOf(token, { occurred_at: tomorrow }));

      expectProblem(costOnly, 400, 'invalid_input');
      expect(future.body.errors).toEqual([{ path: 'occurred_at', message: 'is in the future' }]);
      expect(await countReports(agent.id)).toBe(0);
    });
  });

  describe('batches', () => {
    it('answers each report of a batch on its own, in order', async () => {
      const agent = await llmAgent();
      const token = await tokenOf(tollgate, agent, 'llm');
      const first = usageOf(token, { input_tokens: 3 });
      const reply = await postUsage(tollgate, gateway, {
        reports: [
          first,
          usageOf(token, { input_tokens: -3 }),
          usageOf(token, { tool: 'search' }),
          first,
          usageOf(token, { output_tokens: 4 }),
        ],
      });
      const results = reply.body.results as Record<string, unknown>[];

      expect(reply.status).toBe(200);
      expect(results.map((result) => result.status)).toEqual([201, 400, 403, 200, 201]);
      expect(results[1]).toEqual({
        status: 400,
        error: {
          code: 'invalid_input',
          detail: expect.any(String),
          errors: [{ path: 'input_tokens', message: expect.any(String) }],
        },
      });
      expect(results[3]?.usage).toEqual(results[0]?.usage);
      expect(await countReports(agent.id)).toBe(2);
    });

    it('refuses an empty batch and one that is not a list (400)', async () => {
      expectProblem(await postUsage(tollgate, gateway, { reports: [] }), 400, 'invalid_input');
      expectProblem(await postUsage(tollgate, gateway, { reports: {} }), 400, 'invalid_input');
    });
  });

  describe('resource server authentication', () => {
    const failures = async (clientId: string | null) =>
      (await eventsOf(tollgate, ['client.authentication_failed'])).filter(
        (event) => event.client_id === clientId && event.data.endpoint === '/usage',
      );

    it('answers 401 with a Basic challenge and records each failure', async () => {
      const agent = await llmAgent();
      const token = await tokenOf(tollgate, agent, 'llm');
      const wrong = { ...gateway, secret: wrongSecret(gateway.secret) };
      const none = await postUsage(tollgate, undefined, usageOf(token));
      const badSecret = await postUsage(tollgate, wrong, usageOf(token));
      const asAgent = await postUsage(tollgate, agent, usageOf(token));
      const unknown = await postUsage(
        tollgate,
        { clientId: 'rs_nobody', secret: 'x' },
        usageOf(token),
      );

      for (const reply of [none, badSecret, asAgent, unknown]) {
        expectProblem(reply, 401, 'unauthorized');
        expect(reply.headers.get('www-authenticate')).toBe('Basic realm="tollgate"');
      }

      expect((await failures(null)).map((event) => event.data.reason)).toContain('no_credentials');
      expect((await failures(gateway.clientId)).map((event) => event.data.reason)).toEqual([
        expect.stringMatching(/secret/),
      ]);
      expect((await failures(agent.clientId))[0]?.data.reason).toBe('wrong_client_kind');
      expect((await failures('rs_nobody'))[0]?.data.reason).toBe('unknown_client');
      expect(await countReports(agent.id)).toBe(0);
    });

    it('refuses methods other than POST', async () => {
      const reply = await fetch(`${tollgate.issuer}/usage`);

      expect(reply.status).toBe(405);
      expect(reply.headers.get('allow')).toBe('POST');
    });
  });
});
