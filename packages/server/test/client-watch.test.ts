import type { ClientWithSecrets, Database } from '@tollgate/db';

import { createLogger } from '../src/logger.js';
import { ClientCache } from '../src/oidc/client-cache.js';
import { CLIENT_CHANGED_CHANNEL, watchClientChanges } from '../src/oidc/client-watch.js';

const row = { client_id: 'agt_a', version: '1', live_secrets: [] } as unknown as ClientWithSecrets;

/** A database whose change feed the test drives: it can refuse, deliver and break. */
function fakeFeed(refusals: number) {
  const feed = {
    attempts: 0,
    channels: [] as string[],
    notify: (_payload: string) => undefined as void,
    lose: () => undefined as void,
    ended: 0,
  };
  const listen: Database['listen'] = async (channel, onNotify, onLost) => {
    feed.attempts += 1;

    if (feed.attempts <= refusals) {
      throw new Error('connection refused');
    }

    feed.channels.push(channel);
    feed.notify = onNotify;
    feed.lose = onLost;

    return async () => {
      feed.ended += 1;
    };
  };

  return { feed, database: { listen } as unknown as Database };
}

async function until(condition: () => boolean): Promise<void> {
  for (let waited = 0; waited < 5000 && !condition(); waited += 25) {
    await new Promise((resolve) => setTimeout(resolve, 25));
  }

  expect(condition()).toBe(true);
}

const silentLogger = createLogger({ level: 'silent' });

describe('watchClientChanges', () => {
  it('turns the cache on once subscribed, and drops each announced client', async () => {
    const { feed, database } = fakeFeed(0);
    const cache = new ClientCache(async () => row, { maxAgeMs: 60_000, maxEntries: 10 });
    const stop = watchClientChanges(database, cache, silentLogger);

    await until(() => feed.channels.length === 1);
    await cache.get('agt_a');
    expect((await cache.get('agt_a'))?.fromCache).toBe(true);

    feed.notify('agt_a');

    expect(feed.channels).toEqual([CLIENT_CHANGED_CHANNEL]);
    expect((await cache.get('agt_a'))?.fromCache).toBe(false);
    await stop();
    expect(feed.ended).toBe(1);
  });

  it('serves nothing from memory while the feed is broken, and subscribes again', async () => {
    const { feed, database } = fakeFeed(0);
    const cache = new ClientCache(async () => row, { maxAgeMs: 60_000, maxEntries: 10 });
    const stop = watchClientChanges(database, cache, silentLogger);
    await until(() => feed.attempts === 1);
    await cache.get('agt_a');

    feed.lose();
    const whileLost = await cache.get('agt_a');
    await until(() => feed.attempts === 2);
    await cache.get('agt_a');
    const afterResume = await cache.get('agt_a');

    expect(whileLost?.fromCache).toBe(false);
    expect(afterResume?.fromCache).toBe(true);
    await stop();
  });

  it('keeps trying when the first subscriptions fail, reading every time meanwhile', async () => {
    const { feed, database } = fakeFeed(2);
    const cache = new ClientCache(async () => row, { maxAgeMs: 60_000, maxEntries: 10 });
    const stop = watchClientChanges(database, cache, silentLogger);

    await until(() => feed.attempts >= 1);
    await cache.get('agt_a');
    expect((await cache.get('agt_a'))?.fromCache).toBe(false);

    await until(() => feed.channels.length === 1);
    await cache.get('agt_a');
    expect((await cache.get('agt_a'))?.fromCache).toBe(true);
    await stop();
  });
});
