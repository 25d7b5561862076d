import type { ClientWithSecrets } from '@tollgate/db';
import Provider from 'oidc-provider';

/** What Tollgate's provider glue remembers about the request in flight. */
export interface OidcRequestState {
  requestId?: string;
  ip?: string;
  /** Client rows loaded during this request, by client_id, so no step loads one twice. */
  clients?: Map<string, ClientWithSecrets>;
  /** Why client authentication failed, in ledger vocabulary (never the presented secret). */
  authFailure?: string;
  /** Extra fields for the ledger event of the token this request issues (e.g. by exchange). */
  tokenEventData?: Record<string, unknown>;
}

/** The state of the request oidc-provider is serving now, or undefined outside a request. */
export function currentRequestState(): OidcRequestState | undefined {
  return Provider.ctx?.state as OidcRequestState | undefined;
}

export function rememberClient(row: ClientWithSecrets): void {
  const state = currentRequestState();

  if (state !== undefined) {
    state.clients ??= new Map();
    state.clients.set(row.client_id, row);
  }
}

export function rememberedClient(clientId: string): ClientWithSecrets | undefined {
  return currentRequestState()?.clients?.get(clientId);
}

export function noteAuthFailure(reason: string): void {
  const state = currentRequestState();

  if (state !== undefined) {
    state.authFailure ??= reason;
  }
}
