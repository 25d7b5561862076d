import { randomBytes, randomUUID } from 'node:crypto';

import {
  findClientForAuthentication,
  insertClient,
  insertIssuedToken,
  insertSecret,
  LiveTokenReader,
  lookUpLiveToken,
  revokeSecret,
  setClientStatus,
  updateClient,
  upsertOwnerBudget,
  type ClientRow,
  type Database,
} from '@tollgate/db';

import { availableBackends, createTestDatabase, type TestDatabase } from './support/database.js';
import { instrument } from './support/statements.js';

const CHANNEL = 'tollgate_client_changed';

async function newAgent(db: Database['db'], owner: string): Promise<ClientRow> {
  return insertClient(db, {
    id: randomUUID(),
    client_id: `agt_${randomBytes(8).toString('hex')}`,
    kind: 'agent',
    name: 'versioned agent',
    owner,
    token_ttl_seconds: 300,
    auth_method: 'client_secret_basic',
    jwks: 'null',
  });
}

async function versionOf(db: Database['db'], clientId: string): Promise<bigint> {
  const row = await findClientForAuthentication(db, clientId);

  return BigInt(row?.version ?? -1);
}

/** Collects the payloads announced on the channel until `count` have arrived. */
async function announcements(database: Database) {
  const received: string[] = [];
  const unlisten = await database.listen(
    CHANNEL,
    (payload) => received.push(payload),
    () => undefined,
  );

  return {
    received,
    unlisten,
    waitFor: async (clientId: string) => {
      for (let attempt = 0; attempt < 100 && !received.includes(clientId); attempt += 1) {
        await new Promise((resolve) => setTimeout(resolve, 20));
      }

      return received.includes(clientId);
    },
  };
}

/** Stores a live token of the client directly; returns its id. */
async function storedToken(db: Database['db'], clientPk: string): Promise<string> {
  const tokenId = randomBytes(16).toString('hex');

  await insertIssuedToken(db, {
    token: {
      tokenId,
      clientPk,
      sessionId: null,
      model: 'ClientCredentials',
      audience: 'https://tools.example',
      scope: null,
      payload: {},
      issuedAt: new Date(),
      expiresAt: new Date(Date.now() + 60_000),
    },
    events: [{ kind: 'token.issued', tokenId }],
  });

  return tokenId;
}

describe.each(availableBackends())('client versions (%s)', (backend) => {
  let test: TestDatabase;

  beforeAll(async () => {
    test = await createTestDatabase(backend);
  });

  afterAll(async () => {
    await test.drop();
  });

  it('moves on every change to the client, its secrets and its owner budget', async () => {
    const { db } = test.database;
    const owner = `owner-${randomUUID()}`;
    const agent = await newAgent(db, owner);
    const start = await versionOf(db, agent.client_id);

    await updateClient(db, agent.id, 'agent', { tools: ['search'] });
    const afterUpdate = await versionOf(db, agent.client_id);

    await insertSecret(db, {
      id: 'a1b2c3d4e5f60718',
      clientPk: agent.id,
      hash: 'h',
      expiresAt: null,
    });
    const afterSecret = await versionOf(db, agent.client_id);

    await revokeSecret(db, agent.id, 'a1b2c3d4e5f60718');
    const afterRevoke = await versionOf(db, agent.client_id);

    await upsertOwnerBudget(db, owner, { daily_cost: 10 });
    const afterBudget = await versionOf(db, agent.client_id);

    expect(afterUpdate).toBeGreaterThan(start);
    expect(afterSecret).toBeGreaterThan(afterUpdate);
    expect(afterRevoke).toBeGreaterThan(afterSecret);
    expect(afterBudget).toBeGreaterThan(afterRevoke);
  });

  it('announces a changed client, and nothing for a rolled-back change', async () => {
    const { db } = test.database;
    const changed = await newAgent(db, 'announcer');
    const rolledBack = await newAgent(db, 'announcer');
    const feed = await announcements(test.database);

    await db
      .transaction()
      .execute(async (tx) => {
        await updateClient(tx, rolledBack.id, 'agent', { name: 'never' });
        throw new Error('roll back');
      })
      .catch(() => undefined);
    await setClientStatus(db, changed.id, 'agent', 'disabled');

    expect(await feed.waitFor(changed.client_id)).toBe(true);
    expect(feed.received).not.toContain(rolledBack.client_id);
    await feed.unlisten();
  });

  it('confirms a remembered client with the token lookup, found or not', async () => {
    const { db } = test.database;
    const caller = await newAgent(db, 'confirmer');
    const current = await findClientForAuthentication(db, caller.client_id);
    const confirm = { clientPk: caller.id, version: current?.version ?? '' };
    const tokenId = await storedToken(db, caller.id);

    const found = await lookUpLiveToken(test.database.db, tokenId, confirm);
    const unknown = await lookUpLiveToken(test.database.db, 'no-such-token', confirm);
    const unconfirmed = await lookUpLiveToken(test.database.db, tokenId);

    await updateClient(db, caller.id, 'agent', { tools: ['other'] });
    const stale = await lookUpLiveToken(test.database.db, 'no-such-token', confirm);

    expect(found).toMatchObject({ clientCurrent: true, token: { token_id: tokenId } });
    expect(unknown).toEqual({ clientCurrent: true, token: undefined });
    expect(unconfirmed.clientCurrent).toBe(false);
    expect(unconfirmed.token?.token_id).toBe(tokenId);
    expect(stale.clientCurrent).toBe(false);
  });

  it('answers concurrent lookups in shared round trips, each with its own answer', async () => {
    const { db } = test.database;
    const caller = await newAgent(db, 'batched');
    const current = await findClientForAuthentication(db, caller.client_id);
    const confirm = { clientPk: caller.id, version: current?.version ?? '' };
    const stale = { ...confirm, version: '0' };
    const tokenIds = await Promise.all([1, 2, 3].map(() => storedToken(db, caller.id)));
    const { database: counted, spy } = instrument(test.database);
    const reader = new LiveTokenReader(counted, { maxInFlight: 1, maxBatch: 64 });

    const lookups = Array.from({ length: 30 }, (_, index) => ({
      tokenId: index % 4 === 3 ? `unknown-${index}` : tokenIds[index % 3]!,
      confirm: index % 2 === 0 ? confirm : stale,
    }));
    const answers = await Promise.all(
      lookups.map((lookup) => reader.lookUp(lookup.tokenId, lookup.confirm)),
    );

    expect(spy.calls).toBeLessThanOrEqual(3);
    answers.forEach((answer, index) => {
      const known = index % 4 !== 3;
      expect(answer.token?.token_id).toBe(known ? lookups[index]!.tokenId : undefined);
      expect(answer.clientCurrent).toBe(index % 2 === 0);
    });
  });

  it('does not confirm a disabled client at its last version', async () => {
    const { db } = test.database;
    const caller = await newAgent(db, 'confirmer');
    await setClientStatus(db, caller.id, 'agent', 'disabled');
    const disabled = await findClientForAuthentication(db, caller.client_id);

    const lookup = await lookUpLiveToken(test.database.db, 'no-such-token', {
      clientPk: caller.id,
      version: disabled?.version ?? '',
    });

    expect(lookup.clientCurrent).toBe(false);
  });
});
