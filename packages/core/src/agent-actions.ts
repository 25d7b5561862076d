import {
  revokeTokensOfClient,
  setClientStatus,
  type ClientStatus,
  type Kysely,
  type Schema,
} from '@tollgate/db';

import { agentView, requireAgent, type AgentView } from './agents.js';
import { invalidInput, notFound } from './errors.js';
import { LedgerKind, recordEvent, type AuditContext } from './ledger.js';
import { issueSecret, type AddSecretOptions, type IssuedSecret } from './secrets.js';
import { closeSessionsOfAgent } from './sessions.js';

/**
 * Disables or re-enables an agent. Disabling revokes every token it holds, so re-enabling
 * later does not bring old tokens back; lookups also refuse tokens of disabled agents, which
 * covers a token issued while the disable was committing.
 */
export async function setAgentStatus(
  db: Kysely<Schema>,
  id: string,
  status: ClientStatus,
  audit: AuditContext,
): Promise<AgentView> {
  const current = await requireAgent(db, id);

  if (current.status === status) {
    return agentView(current);
  }

  return db.transaction().execute(async (trx) => {
    const row = await setClientStatus(trx, current.id, 'agent', status);

    if (row === undefined) {
      throw notFound('agent');
    }

    const revoked =
      status === 'disabled' ? await revokeTokensOfClient(trx, row.id, 'agent_disabled') : 0;
    const sessionsClosed =
      status === 'disabled' ? await closeSessionsOfAgent(trx, row.id, audit) : 0;

    await recordEvent(trx, audit, {
      kind: status === 'disabled' ? LedgerKind.agentDisabled : LedgerKind.agentEnabled,
      agentId: row.id,
      clientId: row.client_id,
      data:
        status === 'disabled' ? { tokens_revoked: revoked, sessions_closed: sessionsClosed } : {},
    });

    return agentView(row);
  });
}

/** Adds a secret to a secret-authenticated agent (rotation); returns the clear value once. */
export async function addAgentSecret(
  db: Kysely<Schema>,
  id: string,
  options: AddSecretOptions,
  audit: AuditContext,
): Promise<IssuedSecret> {
  const agent = await requireAgent(db, id);

  if (agent.auth_method === 'private_key_jwt') {
    throw invalidInput('this agent authenticates with private_key_jwt and holds no secrets');
  }

  return db.transaction().execute((trx) => issueSecret(trx, agent, options, audit));
}
