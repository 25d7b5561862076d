import { randomBytes, randomUUID } from 'node:crypto';

import {
  DatabaseUnavailableError,
  InvalidValueError,
  openDatabase,
  ReplayWriter,
  type Database,
} from '@tollgate/db';

import { availableBackends, createTestDatabase, type TestDatabase } from './support/database.js';
import { instrument } from './support/statements.js';

const MODEL = 'ReplayDetection';
const HOUR_MS = 3_600_000;

function newJti(): string {
  return `jti-${randomUUID()}`;
}

function insert(writer: ReplayWriter, id: string, payload: Record<string, unknown> = {}) {
  return writer.insertOnce(MODEL, id, { iss: 'agt_replay', ...payload }, expiry());
}

function expiry(): Date {
  return new Date(Date.now() + HOUR_MS);
}

describe.each(availableBackends())('replay writer (%s)', (backend) => {
  let test: TestDatabase;
  let db: Database['db'];

  beforeAll(async () => {
    test = await createTestDatabase(backend);
    db = test.database.db;
  });

  afterAll(async () => {
    await test.drop();
  });

  const storedRecords = async (ids: string[]) =>
    db
      .selectFrom('oidc_models')
      .select(['model', 'id', 'payload', 'expires_at'])
      .where('model', '=', MODEL)
      .where('id', 'in', ids)
      .orderBy('id')
      .execute();

  it('inserts concurrent records in far fewer statements than records', async () => {
    const { database, spy } = instrument(test.database);
    const writer = new ReplayWriter(database, { maxInFlight: 2, maxBatch: 64 });
    const ids = Array.from({ length: 30 }, () => newJti());

    const outcomes = await Promise.all(ids.map((id) => insert(writer, id, { jti: id })));

    expect(outcomes).toEqual(ids.map(() => true));
    expect(spy.calls).toBeLessThanOrEqual(4);
    expect(spy.batchSizes.reduce((sum, size) => sum + size, 0)).toBe(30);

    const stored = await storedRecords(ids);
    expect(stored).toHaveLength(30);

    for (const record of stored) {
      expect(record.payload).toEqual({ iss: 'agt_replay', jti: record.id });
      expect(record.expires_at?.getTime()).toBeGreaterThan(Date.now());
    }
  });

  it('sends a record at once when no batch is in flight, and keeps to maxBatch', async () => {
    const { database, spy } = instrument(test.database);
    const writer = new ReplayWriter(database, { maxInFlight: 1, maxBatch: 4 });

    await expect(insert(writer, newJti())).resolves.toBe(true);
    await Promise.all(Array.from({ length: 10 }, () => insert(writer, newJti())));

    expect(spy.batchSizes).toEqual([1, 1, 4, 4, 1]);
  });

  it('refuses an id already used, and stores a record without expiry', async () => {
    const writer = new ReplayWriter(test.database);
    const id = newJti();

    await expect(writer.insertOnce(MODEL, id, { first: true }, null)).resolves.toBe(true);
    await expect(writer.insertOnce(MODEL, id, { first: false }, expiry())).resolves.toBe(false);
    // The same id under another model is another record.
    await expect(writer.insertOnce('Other', id, {}, null)).resolves.toBe(true);

    expect(await storedRecords([id])).toEqual([
      { model: MODEL, id, payload: { first: true }, expires_at: null },
    ]);
  });

  it('accepts only the first of one id queued twice in one batch', async () => {
    const { database, spy } = instrument(test.database);
    const writer = new ReplayWriter(database, { maxInFlight: 1, maxBatch: 64 });
    const [alone, twice, other] = [newJti(), newJti(), newJti()];

    const outcomes = await Promise.all([
      insert(writer, alone),
      insert(writer, other, { order: 1 }),
      insert(writer, twice, { order: 1 }),
      insert(writer, twice, { order: 2 }),
      insert(writer, alone),
      insert(writer, twice, { order: 3 }),
    ]);

    expect(outcomes).toEqual([true, true, true, false, false, false]);
    // The first went alone, the other five together: the repeats were in the batch.
    expect(spy.batchSizes).toEqual([1, 5]);
    expect((await storedRecords([twice]))[0]?.payload).toEqual({ iss: 'agt_replay', order: 1 });
  });

  it('lets one of two writers on one database accept an id, whichever wins', async () => {
    const second = await secondConnection(test);
    const writers = [new ReplayWriter(test.database), new ReplayWriter(second.database)];

    try {
      for (let round = 0; round < 5; round += 1) {
        const ids = Array.from({ length: 8 }, () => newJti());
        // Each id is sent by both writers at once, in opposite orders, among other ids.
        const outcomes = await Promise.all([
          Promise.all(ids.map((id) => insert(writers[0]!, id))),
          Promise.all([...ids].reverse().map((id) => insert(writers[1]!, id))),
        ]);
        const [first, reversed] = outcomes;

        ids.forEach((_id, index) => {
          const accepted = [first[index], reversed[ids.length - 1 - index]];
          expect(accepted.filter((isNew) => isNew)).toHaveLength(1);
        });
        expect(await storedRecords(ids)).toHaveLength(ids.length);
      }

      const used = newJti();
      await expect(insert(writers[0]!, used)).resolves.toBe(true);
      await expect(insert(writers[1]!, used)).resolves.toBe(false);
    } finally {
      await second.close();
    }
  });

  it('fails only the record whose value Postgres refuses, and keeps working after', async () => {
    const { database, spy } = instrument(test.database);
    const writer = new ReplayWriter(database, { maxInFlight: 1, maxBatch: 64 });
    const [first, good, bad, repeated] = [newJti(), newJti(), newJti(), newJti()];
    // Too large for an index entry, even compressed.
    const overlong = randomBytes(6000).toString('base64url');

    const results = await Promise.allSettled([
      insert(writer, first),
      insert(writer, good),
      insert(writer, bad, { note: 'nul\u0000byte' }),
      insert(writer, repeated),
      insert(writer, repeated),
      insert(writer, first),
      insert(writer, overlong),
    ]);

    expect(results).toEqual([
      { status: 'fulfilled', value: true },
      { status: 'fulfilled', value: true },
      { status: 'rejected', reason: expect.any(InvalidValueError) },
      { status: 'fulfilled', value: true },
      { status: 'fulfilled', value: false },
      { status: 'fulfilled', value: false },
      { status: 'rejected', reason: expect.any(InvalidValueError) },
    ]);
    // The first went alone; the other six failed together and were halved until each failing
    // record stood alone: [good, bad, repeated] splits down to [bad], [repeated, first,
    // overlong] to [overlong], and the repeats come after the records they repeat.
    expect(spy.batchSizes).toEqual([1, 6, 3, 2, 1, 1, 1, 3, 2, 1]);
    expect(await storedRecords([bad, overlong])).toEqual([]);
    expect(await storedRecords([good, repeated])).toHaveLength(2);

    await expect(insert(writer, newJti())).resolves.toBe(true);
  });

  it('fails every record of a batch whose connection failed, and keeps working after', async () => {
    const { database, spy } = instrument(test.database);
    const writer = new ReplayWriter(database, { maxInFlight: 1, maxBatch: 64 });
    const alone = insert(writer, newJti());
    // The next statement sent, the batch queued behind the first record, fails as pg fails it.
    spy.failNext = new Error('Connection terminated unexpectedly');
    const ids = [newJti(), newJti()];

    const results = await Promise.allSettled(ids.map((id) => insert(writer, id)));

    await expect(alone).resolves.toBe(true);
    expect(spy.batchSizes).toEqual([1, 2]);
    expect(results).toEqual([
      { status: 'rejected', reason: expect.any(DatabaseUnavailableError) },
      { status: 'rejected', reason: expect.any(DatabaseUnavailableError) },
    ]);
    expect(await storedRecords(ids)).toEqual([]);

    await expect(Promise.all(ids.map((id) => insert(writer, id)))).resolves.toEqual([true, true]);
  });

  it('refuses options that are not positive integers', () => {
    expect(() => new ReplayWriter(test.database, { maxInFlight: 0, maxBatch: 8 })).toThrow(
      RangeError,
    );
    expect(() => new ReplayWriter(test.database, { maxInFlight: 1, maxBatch: 1.5 })).toThrow(
      RangeError,
    );
  });
});

/**
 * Another instance's view of the test database: its own pool on Postgres. The embedded engine
 * is one connection in this process, so there the second writer shares it.
 */
async function secondConnection(test: TestDatabase): Promise<{
  database: Database;
  close: () => Promise<void>;
}> {
  if (test.url === undefined) {
    return { database: test.database, close: async () => undefined };
  }

  const database = await openDatabase({ kind: 'postgres', url: test.url, poolSize: 2 });

  return { database, close: () => database.close() };
}
