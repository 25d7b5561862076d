import { countClients, insertClient, type Kysely, type Schema } from '@tollgate/db';

import { newClientId, newRowId } from './ids.js';
import { LedgerKind, recordEvent, type AuditContext } from './ledger.js';
import { issueSecret } from './secrets.js';

/** The scope an admin token must carry, and the audience it is issued for. */
export const ADMIN_SCOPE = 'admin';
export const ADMIN_AUDIENCE = 'urn:tollgate:admin';

/** Admin tokens are short-lived: 15 minutes. */
export const ADMIN_TOKEN_TTL_SECONDS = 900;

export interface CreatedAdmin {
  id: string;
  client_id: string;
  client_secret: string;
}

/** Creates an admin client: it may get `scope=admin` tokens for the management API. */
export async function createAdmin(
  db: Kysely<Schema>,
  name: string,
  audit: AuditContext,
): Promise<CreatedAdmin> {
  return db.transaction().execute(async (trx) => {
    const row = await insertClient(trx, {
      id: newRowId(),
      client_id: newClientId('admin'),
      kind: 'admin',
      name,
      tools: [ADMIN_SCOPE],
      audiences: [ADMIN_AUDIENCE],
      token_ttl_seconds: ADMIN_TOKEN_TTL_SECONDS,
      auth_method: 'client_secret_basic',
      jwks: JSON.stringify(null),
    });

    await recordEvent(trx, audit, {
      kind: LedgerKind.adminCreated,
      clientId: row.client_id,
      data: { name, admin_id: row.id },
    });

    const issued = await issueSecret(trx, row, {}, audit);

    return { id: row.id, client_id: row.client_id, client_secret: issued.client_secret };
  });
}

export const countAdmins = (db: Kysely<Schema>): Promise<number> => countClients(db, 'admin');
