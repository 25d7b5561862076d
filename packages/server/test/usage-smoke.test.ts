import { createAgent, createResourceServer, CLI_AUDIT, updateAgent } from '@tollgate/core';

import {
  basicAuth,
  clientCredentialsToken,
  startTestTollgate,
  type TestTollgate,
} from './support/tollgate.js';

describe('usage smoke', () => {
  let tollgate: TestTollgate;

  beforeAll(async () => {
    tollgate = await startTestTollgate();
  });

  afterAll(async () => {
    await tollgate.stop();
  });

  it('records usage, answers replays once, and a budget stops new tokens', async () => {
    const { db } = tollgate.test.database;
    const agent = await createAgent(
      db,
      { name: 'a', owner: 'team-a', tools: ['llm'], audiences: ['https://llm.example.com'] },
      CLI_AUDIT,
    );
    const rs = await createResourceServer(
      db,
      { name: 'gw', audience: 'https://llm.example.com' },
      CLI_AUDIT,
    );
    const secret = agent.client_secret ?? '';
    const token = await clientCredentialsToken(
      tollgate.issuer,
      agent.agent.client_id,
      secret,
      'llm',
    );
    const report = (key: string, tokens: number) =>
      fetch(`${tollgate.issuer}/usage`, {
        method: 'POST',
        headers: {
          authorization: basicAuth(rs.resource_server.client_id, rs.client_secret),
          'content-type': 'application/json',
        },
        body: JSON.stringify({
          token,
          tool: 'llm',
          input_tokens: tokens,
          output_tokens: 0,
          cost: '0.5',
          currency: 'USD',
          model: 'm',
          idempotency_key: key,
        }),
      });

    await updateAgent(db, agent.agent.id, { budget: { daily_llm_tokens: 100 } }, CLI_AUDIT);
    const first = await report('k1', 60);
    const again = await report('k1', 60);
    const body = (await first.json()) as Record<string, unknown>;
    expect(first.status).toBe(201);
    expect(again.status).toBe(200);
    expect(await again.json()).toEqual(body);
    expect((await report('k2', 40)).status).toBe(201);

    const refused = await fetch(`${tollgate.issuer}/token`, {
      method: 'POST',
      headers: { authorization: basicAuth(agent.agent.client_id, secret) },
      body: new URLSearchParams({ grant_type: 'client_credentials', scope: 'llm' }),
    });
    expect(refused.status).toBe(400);
    expect(await refused.json()).toMatchObject({ error: 'budget_exceeded' });

    const kinds = await db
      .selectFrom('ledger_events')
      .select('kind')
      .where('kind', 'in', ['usage.reported', 'budget.reached'])
      .execute();
    expect(kinds.map((row) => row.kind).sort()).toEqual([
      'budget.reached',
      'usage.reported',
      'usage.reported',
    ]);
  });

  it('tells the resource server what is left of the session budget', async () => {
    const { db } = tollgate.test.database;
    const agent = await createAgent(
      db,
      {
        name: 'b',
        owner: 'team-b',
        tools: ['llm'],
        audiences: ['https://llm-b.example.com'],
        budget: { session_llm_tokens: 1000 },
      },
      CLI_AUDIT,
    );
    const rs = await createResourceServer(
      db,
      { name: 'gw-b', audience: 'https://llm-b.example.com' },
      CLI_AUDIT,
    );
    const rsAuth = basicAuth(rs.resource_server.client_id, rs.client_secret);
    const token = await clientCredentialsToken(
      tollgate.issuer,
      agent.agent.client_id,
      agent.client_secret ?? '',
      'llm',
    );
    const introspect = async () => {
      const response = await fetch(`${tollgate.issuer}/token/introspection`, {
        method: 'POST',
        headers: { authorization: rsAuth },
        body: new URLSearchParams({ token }),
      });

      return (await response.json()) as Record<string, unknown>;
    };

    expect(await introspect()).toMatchObject({ budget_remaining: { session_llm_tokens: 1000 } });

    const reported = await fetch(`${tollgate.issuer}/usage`, {
      method: 'POST',
      headers: { authorization: rsAuth, 'content-type': 'application/json' },
      body: JSON.stringify({ token, tool: 'llm', input_tokens: 300, idempotency_key: 'b1' }),
    });

    expect(reported.status).toBe(201);
    expect(await introspect()).toMatchObject({ budget_remaining: { session_llm_tokens: 700 } });
  });
});
