import { createTestDatabase, type TestDatabase } from '../../db/test/support/database.js';
import {
  addAgentSecret,
  ClientSecretVerifier,
  createAgent,
  listAgents,
  setAgentStatus,
  updateAgent,
  type AuditContext,
} from '../src/index.js';
import { findClientForAuthentication, listLedgerEvents } from '@tollgate/db';

const audit: AuditContext = { actor: 'adm_test', requestId: 'req-1', ip: '127.0.0.1' };

describe('agents', () => {
  let test: TestDatabase;

  beforeAll(async () => {
    test = await createTestDatabase();
  });

  afterAll(async () => {
    await test.drop();
  });

  it('creates an agent whose secret verifies and is stored only as an argon2id hash', async () => {
    const { db } = test.database;
    const created = await createAgent(
      db,
      {
        name: 'triage',
        owner: 'support',
        tools: ['search'],
        audiences: ['https://Tools.example.com'],
      },
      audit,
    );
    const secret = created.client_secret ?? '';
    const stored = await findClientForAuthentication(db, created.agent.client_id);
    const verifier = new ClientSecretVerifier();

    expect(secret).toMatch(/^tgsk_[0-9a-f]{16}_[A-Za-z0-9_-]{43}$/);
    expect(created.agent.audiences).toEqual(['https://tools.example.com/']);
    expect(stored?.live_secrets).toHaveLength(1);
    expect(stored?.live_secrets[0]?.hash).toMatch(/^\$argon2id\$/);
    expect(JSON.stringify(stored)).not.toContain(secret);
    await expect(verifier.check(secret, stored?.live_secrets ?? [])).resolves.toEqual({
      ok: true,
      secretId: created.secret_id,
    });
    await expect(
      verifier.check(`${secret.slice(0, -1)}x`, stored?.live_secrets ?? []),
    ).resolves.toMatchObject({ ok: false });
  });

  it('rotates with overlap, updates, disables, and records each step in the ledger', async () => {
    const { db } = test.database;
    const { agent } = await createAgent(
      db,
      {
        name: 'coder',
        owner: 'platform',
        tools: ['git.push'],
        audiences: ['https://git.example.com'],
      },
      audit,
    );

    await addAgentSecret(db, agent.id, { oldSecretsExpireInSeconds: 0 }, audit);
    await updateAgent(db, agent.id, { tools: ['git.push', 'git.pull'] }, audit);
    await setAgentStatus(db, agent.id, 'disabled', audit);

    const live = await findClientForAuthentication(db, agent.client_id);
    const events = await listLedgerEvents(db, { agentId: agent.id, limit: 10 });
    const page = await listAgents(db, { status: 'disabled' });

    expect(live?.live_secrets).toHaveLength(1);
    expect(live?.status).toBe('disabled');
    expect(events.map((event) => event.kind).reverse()).toEqual([
      'agent.created',
      'secret.added',
      'secret.added',
      'agent.updated',
      'agent.disabled',
    ]);
    expect(events.every((event) => event.actor === 'adm_test')).toBe(true);
    expect(page.items.map((item) => item.id)).toEqual([agent.id]);
  });

  it('refuses audiences that are not https, http or urn, or that carry credentials', async () => {
    const { db } = test.database;
    const register = (audience: string) =>
      createAgent(db, { name: 'x', owner: 'o', tools: ['search'], audiences: [audience] }, audit);

    for (const audience of ['javascript:alert(1)', 'https://user:pass@t.example', 'file:///etc']) {
      await expect(register(audience)).rejects.toMatchObject({ code: 'invalid_input' });
    }

    await expect(register('urn:example:tools')).resolves.toMatchObject({
      agent: { audiences: ['urn:example:tools'] },
    });
  });
});
