import { appendLedgerEvents, type Kysely, type LedgerEventInput, type Schema } from '@tollgate/db';

/** Every kind of ledger event, dotted as `<subject>.<what happened>`. */
export const LedgerKind = {
  agentCreated: 'agent.created',
  agentUpdated: 'agent.updated',
  agentDisabled: 'agent.disabled',
  agentEnabled: 'agent.enabled',
  secretAdded: 'secret.added',
  secretRevoked: 'secret.revoked',
  resourceServerCreated: 'resource_server.created',
  resourceServerDisabled: 'resource_server.disabled',
  adminCreated: 'admin.created',
  tokenIssued: 'token.issued',
  tokenRevoked: 'token.revoked',
  clientAuthenticationFailed: 'client.authentication_failed',
  signingKeyAdded: 'signing_key.added',
  sessionOpened: 'session.opened',
  sessionRenewed: 'session.renewed',
  sessionClosed: 'session.closed',
  tokenExchanged: 'token.exchanged',
  exchangeRefused: 'exchange.refused',
  trustedIssuerCreated: 'trusted_issuer.created',
  trustedIssuerUpdated: 'trusted_issuer.updated',
  usageReported: 'usage.reported',
  budgetReached: 'budget.reached',
  budgetReset: 'budget.reset',
  ownerBudgetSet: 'owner_budget.set',
} as const;

export type LedgerKindName = (typeof LedgerKind)[keyof typeof LedgerKind];

/** Who asked for a change and through which request: stamped on every ledger event. */
export interface AuditContext {
  /** The client_id of the admin (or agent) acting, or `cli` for operator commands. */
  actor: string | null;
  requestId: string | null;
  ip: string | null;
}

export const CLI_AUDIT: AuditContext = { actor: 'cli', requestId: null, ip: null };

export function auditFields(audit: AuditContext): Partial<LedgerEventInput> {
  return { actor: audit.actor, requestId: audit.requestId, ip: audit.ip };
}

export async function recordEvent(
  db: Kysely<Schema>,
  audit: AuditContext,
  event: LedgerEventInput,
): Promise<void> {
  await appendLedgerEvents(db, [{ ...auditFields(audit), ...event }]);
}
