import type { ClientWithSecrets } from '@tollgate/db';

export interface ClientCacheOptions {
  /** How long a row may be served before it is read again, whatever the notifications say. */
  maxAgeMs: number;
  /** Upper bound on remembered clients; beyond it the oldest are forgotten. */
  maxEntries: number;
}

export interface CachedClient {
  row: ClientWithSecrets;
  /** True unless this very call read the row (memory, or a read another request started). */
  fromCache: boolean;
}

interface Entry {
  row: ClientWithSecrets;
  readAt: number;
}

/**
 * Client rows as the token endpoint needs them, kept in memory between requests.
 *
 * Memory is only a shortcut, never the authority: every row carries the version it was read at,
 * and the statement that acts on a remembered row (storing a token, answering an introspection)
 * checks in the database that this version is still current. Change notifications from the
 * database drop rows early so that such a check rarely fails; while notifications cannot be
 * received, nothing is served from memory at all.
 */
export class ClientCache {
  readonly #entries = new Map<string, Entry>();
  readonly #loads = new Map<string, Promise<ClientWithSecrets | undefined>>();
  /** Moves on every forget, so that a read that began before a change is not remembered. */
  #generation = 0;
  #watching = false;

  constructor(
    private readonly load: (clientId: string) => Promise<ClientWithSecrets | undefined>,
    private readonly options: ClientCacheOptions,
    private readonly now: () => number = Date.now,
  ) {}

  /** The client, from memory when that is allowed and fresh enough, otherwise read now. */
  async get(clientId: string): Promise<CachedClient | undefined> {
    const entry = this.#entries.get(clientId);

    if (entry !== undefined && this.#watching) {
      if (this.now() - entry.readAt < this.options.maxAgeMs) {
        return { row: withoutExpiredSecrets(entry.row, this.now()), fromCache: true };
      }

      this.#entries.delete(clientId);
    }

    const shared = this.#loads.get(clientId);
    const row = await (shared ?? this.read(clientId));

    return row === undefined ? undefined : { row, fromCache: shared !== undefined };
  }

  /** Reads the client from the database (concurrent reads of one client share a query). */
  async read(clientId: string): Promise<ClientWithSecrets | undefined> {
    const pending = this.#loads.get(clientId);

    if (pending !== undefined) {
      return pending;
    }

    const generation = this.#generation;
    const load = this.load(clientId);
    this.#loads.set(clientId, load);

    const row = await load.finally(() => {
      if (this.#loads.get(clientId) === load) {
        this.#loads.delete(clientId);
      }
    });

    if (row !== undefined && generation === this.#generation && this.#watching) {
      this.#remember(clientId, row);
    }

    return row;
  }

  /** Drops one client (it changed); reads already under way are not remembered either. */
  forget(clientId: string): void {
    this.#generation += 1;
    this.#entries.delete(clientId);
    this.#loads.delete(clientId);
  }

  /**
   * Whether changes are being received. Turning it off (the notification channel broke) or on
   * again (it is back, but changes may have been missed meanwhile) starts from an empty memory.
   */
  setWatching(watching: boolean): void {
    this.#watching = watching;
    this.#generation += 1;
    this.#entries.clear();
    this.#loads.clear();
  }

  get size(): number {
    return this.#entries.size;
  }

  #remember(clientId: string, row: ClientWithSecrets): void {
    this.#entries.delete(clientId);
    this.#entries.set(clientId, { row, readAt: this.now() });

    if (this.#entries.size > this.options.maxEntries) {
      const oldest = this.#entries.keys().next();

      if (oldest.done !== true) {
        this.#entries.delete(oldest.value);
      }
    }
  }
}

/** A secret that expired since the row was read no longer authenticates. */
function withoutExpiredSecrets(row: ClientWithSecrets, now: number): ClientWithSecrets {
  const live = row.live_secrets.filter(
    (secret) => secret.expires_at === null || Date.parse(secret.expires_at) > now,
  );

  return live.length === row.live_secrets.length ? row : { ...row, live_secrets: live };
}
