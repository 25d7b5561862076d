import type { Database, Unlisten } from '@tollgate/db';

import type { Logger } from '../logger.js';
import type { ClientCache } from './client-cache.js';

/** The channel on which migration 0006's triggers announce a changed client (its client_id). */
export const CLIENT_CHANGED_CHANNEL = 'tollgate_client_changed';

const RETRY_FIRST_MS = 500;
const RETRY_MAX_MS = 15_000;

/**
 * Keeps the client cache in step with the database: each announced change drops that client.
 * The cache serves nothing from memory until the subscription stands, and goes back to reading
 * every time as soon as it breaks; subscribing again is retried with a growing pause.
 */
export function watchClientChanges(
  database: Database,
  cache: ClientCache,
  logger: Logger,
): () => Promise<void> {
  let stopped = false;
  let unlisten: Unlisten | undefined;
  let retryTimer: NodeJS.Timeout | undefined;
  let retryDelay = RETRY_FIRST_MS;

  const retryLater = () => {
    if (stopped) return;

    retryTimer = setTimeout(() => void subscribe(), retryDelay);
    retryTimer.unref();
    retryDelay = Math.min(retryDelay * 2, RETRY_MAX_MS);
  };

  const onLost = () => {
    cache.setWatching(false);
    unlisten = undefined;
    logger.warn(
      { event: 'clients.watch_lost' },
      'client change notifications lost: clients are read on every request until they resume',
    );
    retryLater();
  };

  const subscribe = async () => {
    try {
      const subscription = await database.listen(
        CLIENT_CHANGED_CHANNEL,
        (clientId) => cache.forget(clientId),
        onLost,
      );

      if (stopped) {
        await subscription();
        return;
      }

      unlisten = subscription;
      retryDelay = RETRY_FIRST_MS;
      cache.setWatching(true);
      logger.info({ event: 'clients.watching' }, 'receiving client changes: client cache on');
    } catch {
      retryLater();
    }
  };

  void subscribe();

  return async () => {
    stopped = true;
    clearTimeout(retryTimer);
    cache.setWatching(false);
    await unlisten?.();
  };
}
