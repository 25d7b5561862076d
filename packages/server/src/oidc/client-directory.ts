import {
  findClientForAuthentication,
  type ClientToConfirm,
  type ClientWithSecrets,
  type Kysely,
  type Schema,
} from '@tollgate/db';
import Provider, { errors } from 'oidc-provider';

import type { ClientCache } from './client-cache.js';
import { currentRequestState, rememberClient, rememberedClient } from './request-state.js';

/**
 * Endpoints whose every answer that relies on the client is confirmed in the database: the
 * token endpoint stores each token only if the client's version is still current; introspection
 * and revocation check the caller's version with the token lookup, which comes before anything
 * is answered or revoked (an unknown token is answered alike for anyone). Elsewhere the client is
 * read on each request.
 */
const CONFIRMING_ROUTES = new Set(['token', 'introspection', 'revocation']);

/** Row fields that do not change what a client may do, and so may differ after a re-read. */
const INCIDENTAL_FIELDS = new Set(['version', 'updated_at', 'live_secrets', 'name', 'description']);

/**
 * Where the provider glue gets client rows: once per request, from memory where the endpoint
 * confirms what memory said, and otherwise from the database.
 */
export class ClientDirectory {
  constructor(
    private readonly db: Kysely<Schema>,
    private readonly cache: ClientCache | undefined,
  ) {}

  /** The client for the request in flight (the same row however often it is asked for). */
  async find(clientId: string): Promise<ClientWithSecrets | undefined> {
    const known = rememberedClient(clientId);

    if (known !== undefined) {
      return known;
    }

    const row = await this.#load(clientId);

    if (row !== undefined) {
      rememberClient(row);
    }

    return row;
  }

  /**
   * What the database must confirm about a client before the request may act on it: that it is
   * still active at the version its row was read at. Asked always, not only for rows served
   * from memory: a row shared with a concurrent request, or read just before a change, is no
   * fresher, and the check rides along in a statement the request runs anyway.
   */
  confirmationFor(row: ClientWithSecrets): ClientToConfirm {
    return { clientPk: row.id, version: row.version };
  }

  /**
   * The database said the client changed since `stale` was read. Reads it again; the request
   * may go on only if nothing it relied on changed (still active, the same policy, keys and
   * budget, the secret it authenticated with still live). Otherwise it is refused as a failed
   * client authentication, and the client's retry is judged on the new row.
   */
  async reconfirm(stale: ClientWithSecrets): Promise<ClientWithSecrets> {
    this.cache?.forget(stale.client_id);
    const state = currentRequestState();

    const fresh = await (this.cache?.read(stale.client_id) ??
      findClientForAuthentication(this.db, stale.client_id));

    if (fresh === undefined || fresh.status !== 'active' || !sameAuthority(stale, fresh)) {
      throw new errors.InvalidClientAuth('the client changed while this request was served');
    }

    const secretId = state?.authenticatedSecretId;

    if (secretId !== undefined && !fresh.live_secrets.some((secret) => secret.id === secretId)) {
      throw new errors.InvalidClientAuth('the client secret is no longer valid');
    }

    rememberClient(fresh);

    return fresh;
  }

  async #load(clientId: string): Promise<ClientWithSecrets | undefined> {
    const route = Provider.ctx?.oidc?.route;

    if (this.cache !== undefined && route !== undefined && CONFIRMING_ROUTES.has(route)) {
      return (await this.cache.get(clientId))?.row;
    }

    return findClientForAuthentication(this.db, clientId);
  }
}

function sameAuthority(stale: ClientWithSecrets, fresh: ClientWithSecrets): boolean {
  return authorityOf(stale) === authorityOf(fresh);
}

/** The row without its incidental fields, in a form that compares by value. */
function authorityOf(row: ClientWithSecrets): string {
  const entries = Object.entries(row).filter(([field]) => !INCIDENTAL_FIELDS.has(field));

  return JSON.stringify(entries);
}
