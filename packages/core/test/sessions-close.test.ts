import { randomUUID } from 'node:crypto';

import { createTestDatabase, type TestDatabase } from '../../db/test/support/database.js';
import { createAgent, setAgentStatus, type AuditContext } from '../src/index.js';

const audit: AuditContext = { actor: 'adm_test', requestId: 'req-close', ip: '127.0.0.1' };

describe('closing the sessions of a disabled agent', () => {
  let test: TestDatabase;

  beforeAll(async () => {
    test = await createTestDatabase();
  });

  afterAll(async () => {
    await test.drop();
  });

  async function newAgent(name: string) {
    const created = await createAgent(
      test.database.db,
      { name, owner: 'closers', tools: ['search'], audiences: ['https://tools.example.com'] },
      audit,
    );

    return created.agent;
  }

  async function openSessions(clientPk: string, count: number, parentSessionId?: string) {
    const ids = Array.from({ length: count }, () => randomUUID());
    const deadline = new Date(Date.now() + 3_600_000);

    await test.database.db
      .insertInto('sessions')
      .values(
        ids.map((id) => ({
          id,
          client_pk: clientPk,
          tools: ['search'],
          deadline,
          parent_session_id: parentSessionId ?? null,
        })),
      )
      .execute();

    return ids;
  }

  it('closes every session and those opened from them, with one event each', async () => {
    const { db } = test.database;
    const agent = await newAgent('busy agent');
    const helper = await newAgent('downstream agent');
    // More sessions than one ledger insert carries, so the events go in several statements.
    const own = await openSessions(agent.id, 1_205);
    const [child] = await openSessions(helper.id, 1, own[0]);
    const [unrelated] = await openSessions(helper.id, 1);

    await setAgentStatus(db, agent.id, 'disabled', audit);

    const sessions = await db
      .selectFrom('sessions')
      .select(['id', 'close_reason'])
      .where('id', 'in', [...own, child!, unrelated!])
      .execute();
    const reasons = new Map(sessions.map((row) => [row.id, row.close_reason]));
    const events = await db
      .selectFrom('ledger_events')
      .select(['session_id', 'data'])
      .where('kind', '=', 'session.closed')
      .where('session_id', 'in', [...own, child!, unrelated!])
      .execute();
    const disabled = await db
      .selectFrom('ledger_events')
      .select('data')
      .where('kind', '=', 'agent.disabled')
      .where('agent_id', '=', agent.id)
      .executeTakeFirstOrThrow();

    expect(own.every((id) => reasons.get(id) === 'agent_disabled')).toBe(true);
    expect(reasons.get(child!)).toBe('parent_closed');
    expect(reasons.get(unrelated!)).toBeNull();
    expect(events).toHaveLength(1_206);
    expect(new Set(events.map((event) => event.session_id)).size).toBe(1_206);
    expect(events.find((event) => event.session_id === child)?.data).toEqual({
      reason: 'parent_closed',
    });
    expect(disabled.data).toMatchObject({ sessions_closed: 1_206 });
  });
});
