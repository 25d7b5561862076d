import type { ClientWithSecrets, LiveToken, NewSession } from '@tollgate/db';
import Provider from 'oidc-provider';

/** What Tollgate's provider glue remembers about the request in flight. */
export interface OidcRequestState {
  requestId?: string;
  ip?: string;
  /** Client rows loaded during this request, by client_id, so no step loads one twice. */
  clients?: Map<string, ClientWithSecrets>;
  /** The id of the client secret that authenticated this request, if one did. */
  authenticatedSecretId?: string;
  /** Why client authentication failed, in ledger vocabulary (never the presented secret). */
  authFailure?: string;
  /** When authentication was refused for too many failures: how long until it may retry. */
  retryAfterSeconds?: number;
  /** Token lookups of this request, by presented value (one query however often asked). */
  tokenLookups?: Map<string, Promise<LiveToken | undefined>>;
  /** A request value could not be stored or compared (e.g. a NUL byte). */
  invalidValue?: boolean;
  /** The database could not be reached while serving this request. */
  unavailable?: boolean;
  /** How the token this request issues is to be stored and recorded; set before it is saved. */
  issuance?: IssuancePlan;
}

/** The session side of issuing one token, decided by the grant and carried out by the adapter. */
export interface IssuancePlan {
  sessionId: string;
  openSession?: NewSession;
  renewal: boolean;
  /** The person (or upstream agent) the token acts for; null when the agent acts for itself. */
  subject: string | null;
  /** Claims for the token beyond oidc-provider's own (act, sid, ...). */
  claims: Record<string, unknown>;
  eventKind: string;
  eventData: Record<string, unknown>;
}

export function planIssuance(plan: IssuancePlan): void {
  const state = currentRequestState();

  if (state !== undefined) {
    state.issuance = plan;
  }
}

export function plannedIssuance(): IssuancePlan | undefined {
  return currentRequestState()?.issuance;
}

/** The state of the request oidc-provider is serving now, or undefined outside a request. */
export function currentRequestState(): OidcRequestState | undefined {
  return Provider.ctx?.state;
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

export function noteRetryAfter(seconds: number): void {
  const state = currentRequestState();

  if (state !== undefined) {
    state.retryAfterSeconds = seconds;
  }
}

/** Runs a token lookup once per request and value; outside a request it always runs. */
export function lookupOncePerRequest(
  value: string,
  lookup: () => Promise<LiveToken | undefined>,
): Promise<LiveToken | undefined> {
  const state = currentRequestState();

  if (state === undefined) {
    return lookup();
  }

  state.tokenLookups ??= new Map();
  const known = state.tokenLookups.get(value);

  if (known !== undefined) {
    return known;
  }

  const pending = lookup();
  state.tokenLookups.set(value, pending);

  return pending;
}
