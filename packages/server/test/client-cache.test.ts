import type { ClientWithSecrets } from '@tollgate/db';

import { ClientCache } from '../src/oidc/client-cache.js';

/** A client row with just the fields the cache looks at; the rest does not matter here. */
function clientRow(clientId: string, version: string, secrets = [secret('s1', null)]) {
  return { client_id: clientId, version, live_secrets: secrets } as unknown as ClientWithSecrets;
}

function secret(id: string, expiresAt: string | null) {
  return { id, hash: `hash-of-${id}`, expires_at: expiresAt };
}

/** A cache over a fake table whose reads are counted and can be held back. */
function cacheOver(options: { maxAgeMs?: number; maxEntries?: number } = {}) {
  const table = new Map<string, ClientWithSecrets>();
  const clock = { now: 1_000_000 };
  let reads = 0;
  let gate: Promise<void> | undefined;

  const cache = new ClientCache(
    async (clientId) => {
      reads += 1;
      const row = table.get(clientId);
      await gate;

      return row;
    },
    { maxAgeMs: options.maxAgeMs ?? 60_000, maxEntries: options.maxEntries ?? 100 },
    () => clock.now,
  );

  return {
    cache,
    table,
    clock,
    reads: () => reads,
    holdReads: () => {
      let release = () => undefined as void;
      gate = new Promise<void>((resolve) => (release = resolve));

      return () => {
        gate = undefined;
        release();
      };
    },
  };
}

describe('ClientCache', () => {
  it('serves a client from memory once it is watching changes, and says so', async () => {
    const { cache, table, reads } = cacheOver();
    table.set('agt_a', clientRow('agt_a', '1'));
    cache.setWatching(true);

    const first = await cache.get('agt_a');
    const second = await cache.get('agt_a');

    expect(first?.fromCache).toBe(false);
    expect(second?.fromCache).toBe(true);
    expect(second?.row.version).toBe('1');
    expect(reads()).toBe(1);
  });

  it('reads every time while changes are not being received', async () => {
    const { cache, table, reads } = cacheOver();
    table.set('agt_a', clientRow('agt_a', '1'));

    await cache.get('agt_a');
    const again = await cache.get('agt_a');

    expect(again?.fromCache).toBe(false);
    expect(reads()).toBe(2);
  });

  it('forgets all when the change feed breaks, and starts empty when it resumes', async () => {
    const { cache, table, reads } = cacheOver();
    table.set('agt_a', clientRow('agt_a', '1'));
    cache.setWatching(true);
    await cache.get('agt_a');

    cache.setWatching(false);
    cache.setWatching(true);
    const after = await cache.get('agt_a');

    expect(after?.fromCache).toBe(false);
    expect(reads()).toBe(2);
  });

  it('drops a changed client, so the next request reads its new row', async () => {
    const { cache, table } = cacheOver();
    table.set('agt_a', clientRow('agt_a', '1'));
    cache.setWatching(true);
    await cache.get('agt_a');

    table.set('agt_a', clientRow('agt_a', '2'));
    cache.forget('agt_a');
    const after = await cache.get('agt_a');

    expect(after).toMatchObject({ fromCache: false, row: { version: '2' } });
  });

  it('does not remember a read that a change overtook', async () => {
    const { cache, table, holdReads } = cacheOver();
    table.set('agt_a', clientRow('agt_a', '1'));
    cache.setWatching(true);

    const release = holdReads();
    const pending = cache.get('agt_a');
    cache.forget('agt_a');
    release();
    await pending;

    table.set('agt_a', clientRow('agt_a', '2'));
    const next = await cache.get('agt_a');

    expect(next).toMatchObject({ fromCache: false, row: { version: '2' } });
  });

  it('shares one read among concurrent requests, as a row they must confirm', async () => {
    const { cache, table, reads, holdReads } = cacheOver();
    table.set('agt_a', clientRow('agt_a', '1'));
    cache.setWatching(true);

    const release = holdReads();
    const all = Promise.all([cache.get('agt_a'), cache.get('agt_a'), cache.get('agt_a')]);
    release();
    const rows = await all;

    expect(rows.map((found) => found?.row.version)).toEqual(['1', '1', '1']);
    // Only the request that started the read may treat its row as its own.
    expect(rows.map((found) => found?.fromCache)).toEqual([false, true, true]);
    expect(reads()).toBe(1);
  });

  it('reads a client again once its row is older than the maximum age', async () => {
    const { cache, table, clock, reads } = cacheOver({ maxAgeMs: 1000 });
    table.set('agt_a', clientRow('agt_a', '1'));
    cache.setWatching(true);
    await cache.get('agt_a');

    clock.now += 999;
    expect((await cache.get('agt_a'))?.fromCache).toBe(true);

    clock.now += 1;
    expect((await cache.get('agt_a'))?.fromCache).toBe(false);
    expect(reads()).toBe(2);
  });

  it('stops offering a secret from memory once it has expired', async () => {
    const { cache, table, clock } = cacheOver();
    const expiry = new Date(clock.now + 500).toISOString();
    table.set('agt_a', clientRow('agt_a', '1', [secret('old', expiry), secret('new', null)]));
    cache.setWatching(true);
    await cache.get('agt_a');

    clock.now += 499;
    const before = await cache.get('agt_a');
    clock.now += 1;
    const after = await cache.get('agt_a');

    expect(before?.row.live_secrets.map((s) => s.id)).toEqual(['old', 'new']);
    expect(after?.row.live_secrets.map((s) => s.id)).toEqual(['new']);
  });

  it('keeps at most maxEntries clients, forgetting the oldest first', async () => {
    const { cache, table } = cacheOver({ maxEntries: 2 });
    ['agt_a', 'agt_b', 'agt_c'].forEach((id) => table.set(id, clientRow(id, '1')));
    cache.setWatching(true);

    await cache.get('agt_a');
    await cache.get('agt_b');
    await cache.get('agt_c');

    expect(cache.size).toBe(2);
    expect((await cache.get('agt_a'))?.fromCache).toBe(false);
    expect((await cache.get('agt_c'))?.fromCache).toBe(true);
  });

  it('does not remember clients that do not exist', async () => {
    const { cache, reads } = cacheOver();
    cache.setWatching(true);

    expect(await cache.get('agt_missing')).toBeUndefined();
    expect(await cache.get('agt_missing')).toBeUndefined();
    expect(reads()).toBe(2);
  });
});
