import { tokenIdOf } from '@tollgate/core';

import { requestToken, revoke, wrongSecret, type Credentials } from './support/oauth.js';
import {
  addSecret,
  adminExpect,
  disableAgent,
  enableAgent,
  registerAgent,
  type RegisteredAgent,
} from './support/registry.js';
import { startTestTollgate, type TestTollgate } from './support/tollgate.js';

const AUDIENCE = 'https://tools.example.com/';

/** The event kinds of the core milestone: agents, their secrets and their tokens. */
const CORE_KINDS = [
  'agent.created',
  'agent.updated',
  'agent.disabled',
  'agent.enabled',
  'secret.added',
  'secret.revoked',
  'token.issued',
  'token.revoked',
];

interface LedgerEvent {
  id: string;
  kind: string;
  agent_id: string | null;
  client_id: string | null;
  token_id: string | null;
  actor: string | null;
  data: Record<string, unknown>;
}

interface LedgerPage {
  items: LedgerEvent[];
  next_cursor: string | null;
}

describe('ledger', () => {
  let tollgate: TestTollgate;

  async function ledgerPage(query: Record<string, string>): Promise<LedgerPage> {
    const json = await adminExpect(
      tollgate,
      200,
      'GET',
      `/v1/ledger?${new URLSearchParams(query).toString()}`,
    );

    return json as unknown as LedgerPage;
  }

  async function token(credentials: Credentials): Promise<string> {
    const reply = await requestToken(tollgate, credentials, { scope: 'search' });

    expect(reply.status).toBe(200);

    return String(reply.body.access_token);
  }

  /** The newest authentication failure recorded for a claimed client_id. */
  async function lastFailureOf(clientId: string): Promise<LedgerEvent | undefined> {
    const page = await ledgerPage({ kind: 'client.authentication_failed', limit: '200' });

    return page.items.find((event) => event.client_id === clientId);
  }

  beforeAll(async () => {
    tollgate = await startTestTollgate();
  });

  afterAll(async () => {
    await tollgate.stop();
  });

  describe("an agent's life, scripted", () => {
    let agent: RegisteredAgent;
    let first: string;
    let second: string;
    let rotated: string;

    beforeAll(async () => {
      agent = await registerAgent(tollgate, { tools: ['search'], audiences: [AUDIENCE] });
      first = await token(agent);
      expect((await revoke(tollgate, agent, first)).status).toBe(200);
      second = await token(agent);
      rotated = (await addSecret(tollgate, agent.id, { old_secrets_expire_in_seconds: 60 })).secret;
      await adminExpect(tollgate, 200, 'PATCH', `/v1/agents/${agent.id}`, {
        tools: ['search', 'tickets.read'],
      });
      await disableAgent(tollgate, agent.id);
      await enableAgent(tollgate, agent.id);
    });

    it('lists exactly these events, newest first, each tied to the agent', async () => {
      // Session events (which the sessions work adds) are left to that feature's own tests.
      const { items } = await ledgerPage({ agent_id: agent.id, kind: CORE_KINDS.join(',') });

      expect(items.map((event) => [event.kind, event.token_id])).toEqual([
        ['agent.enabled', null],
        ['agent.disabled', null],
        ['agent.updated', null],
        ['secret.added', null],
        ['token.issued', tokenIdOf(second)],
        ['token.revoked', tokenIdOf(first)],
        ['token.issued', tokenIdOf(first)],
        ['secret.added', null],
        ['agent.created', null],
      ]);
      expect(new Set(items.map((event) => `${event.agent_id} ${event.client_id}`))).toEqual(
        new Set([`${agent.id} ${agent.clientId}`]),
      );
    });

    it('says who acted: the admin for changes, the agent for its tokens', async () => {
      const { items } = await ledgerPage({ agent_id: agent.id });
      const actorOf = (kind: string) =>
        new Set(items.filter((event) => event.kind === kind).map((event) => event.actor));

      expect(actorOf('agent.disabled')).toEqual(new Set([tollgate.admin.clientId]));
      expect(actorOf('token.issued')).toEqual(new Set([agent.clientId]));
      expect(actorOf('token.revoked')).toEqual(new Set([agent.clientId]));
    });

    it('holds no secret and no token value anywhere', async () => {
      const text = JSON.stringify(await ledgerPage({ agent_id: agent.id }));

      for (const value of [agent.secret, rotated, first, second, tollgate.admin.clientSecret]) {
        expect(text).not.toContain(value);
      }
    });

    it('walks every event exactly once with the cursor', async () => {
      const all = await ledgerPage({ agent_id: agent.id, limit: '200' });
      const walked: string[] = [];
      let cursor: string | null = null;
      let pages = 0;

      do {
        const page: LedgerPage = await ledgerPage({
          agent_id: agent.id,
          limit: '2',
          ...(cursor === null ? {} : { cursor }),
        });

        walked.push(...page.items.map((event) => event.id));
        cursor = page.next_cursor;
        pages += 1;
      } while (cursor !== null && pages < 20);

      expect(all.items.length).toBeGreaterThanOrEqual(9);
      expect(pages).toBe(Math.ceil(all.items.length / 2));
      expect(walked).toEqual(all.items.map((event) => event.id));
      expect(new Set(walked).size).toBe(all.items.length);
    });
  });

  describe('failed client authentication', () => {
    /** How each failure reason is provoked, starting from a freshly registered agent. */
    const provoke: Record<string, (agent: RegisteredAgent) => Promise<Credentials>> = {
      secret_mismatch: async (agent) => ({ ...agent, secret: wrongSecret(agent.secret) }),
      unknown_client: async (agent) => ({ ...agent, clientId: 'agt_ffffffffffffffffffffffff' }),
      client_disabled: async (agent) => {
        await disableAgent(tollgate, agent.id);

        return agent;
      },
    };

    it.each(Object.keys(provoke))('records client.authentication_failed (%s)', async (reason) => {
      const agent = await registerAgent(tollgate, { tools: ['search'], audiences: [AUDIENCE] });
      const claimed = await provoke[reason]!(agent);

      expect((await requestToken(tollgate, claimed, { scope: 'search' })).status).toBe(401);
      const event = await lastFailureOf(claimed.clientId);

      expect(event).toMatchObject({
        client_id: claimed.clientId,
        data: { endpoint: 'token', reason },
      });
      expect(JSON.stringify(event)).not.toContain(claimed.secret);
    });
  });
});
