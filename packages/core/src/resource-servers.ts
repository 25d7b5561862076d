import {
  findClientById,
  insertClient,
  listClients,
  revokeTokensOfClient,
  UniqueViolationError,
  updateClient,
  type ClientRow,
  type ClientStatus,
  type Kysely,
  type Schema,
} from '@tollgate/db';

import { conflict, invalidInput, notFound } from './errors.js';
import { newClientId, newRowId } from './ids.js';
import { LedgerKind, recordEvent, type AuditContext } from './ledger.js';
import {
  decodeTimeCursor,
  encodeCursor,
  isRowId,
  pageSize,
  toPage,
  type Page,
} from './pagination.js';
import { issueSecret } from './secrets.js';
import { normalizeAudience } from './validation.js';

/** A resource server (tool server, LLM gateway) as the management API shows it. */
export interface ResourceServerView {
  id: string;
  client_id: string;
  name: string;
  audience: string;
  status: ClientStatus;
  created_at: string;
  updated_at: string;
}

export function resourceServerView(row: ClientRow): ResourceServerView {
  return {
    id: row.id,
    client_id: row.client_id,
    name: row.name,
    audience: row.audience ?? '',
    status: row.status,
    created_at: row.created_at.toISOString(),
    updated_at: row.updated_at.toISOString(),
  };
}

export interface CreatedResourceServer {
  resource_server: ResourceServerView;
  client_secret: string;
  secret_id: string;
}

/** Registers a resource server for one audience; its credentials are returned once. */
export async function createResourceServer(
  db: Kysely<Schema>,
  input: { name: string; audience: string },
  audit: AuditContext,
): Promise<CreatedResourceServer> {
  const audience = normalizeAudience(input.audience);

  if (audience === undefined) {
    throw invalidInput('invalid audience', [
      { path: 'audience', message: 'must be an https, http or urn URI without fragment' },
    ]);
  }

  try {
    return await db.transaction().execute(async (trx) => {
      const row = await insertClient(trx, {
        id: newRowId(),
        client_id: newClientId('resource_server'),
        kind: 'resource_server',
        name: input.name,
        audience,
        token_ttl_seconds: 1,
        auth_method: 'client_secret_basic',
        jwks: JSON.stringify(null),
      });

      await recordEvent(trx, audit, {
        kind: LedgerKind.resourceServerCreated,
        clientId: row.client_id,
        data: { name: row.name, audience, resource_server_id: row.id },
      });

      const issued = await issueSecret(trx, row, {}, audit);

      return {
        resource_server: resourceServerView(row),
        client_secret: issued.client_secret,
        secret_id: issued.secret.id,
      };
    });
  } catch (error) {
    if (error instanceof UniqueViolationError) {
      throw conflict(`a resource server for ${audience} already exists`);
    }

    throw error;
  }
}

export async function requireResourceServer(db: Kysely<Schema>, id: string): Promise<ClientRow> {
  const row = isRowId(id) ? await findClientById(db, id, 'resource_server') : undefined;

  if (row === undefined) {
    throw notFound('resource server');
  }

  return row;
}

export async function listResourceServers(
  db: Kysely<Schema>,
  query: {
    status?: ClientStatus | undefined;
    cursor?: string | undefined;
    limit?: number | undefined;
  },
): Promise<Page<ResourceServerView>> {
  const limit = pageSize(query.limit);
  const position = query.cursor === undefined ? undefined : decodeTimeCursor(query.cursor, 'c');
  const rows = await listClients(db, {
    kind: 'resource_server',
    status: query.status,
    after: position === undefined ? undefined : { createdAt: position.at, id: position.id },
    limit: limit + 1,
  });

  return toPage(rows, limit, resourceServerView, (row) =>
    encodeCursor({ c: row.created_at.toISOString(), i: row.id }),
  );
}

/** Disables a resource server: it can no longer authenticate to introspect or report. */
export async function disableResourceServer(
  db: Kysely<Schema>,
  id: string,
  audit: AuditContext,
): Promise<ResourceServerView> {
  const current = await requireResourceServer(db, id);

  return db.transaction().execute(async (trx) => {
    const row = await updateClient(trx, current.id, 'resource_server', { status: 'disabled' });

    if (row === undefined) {
      throw notFound('resource server');
    }

    await revokeTokensOfClient(trx, row.id, 'resource_server_disabled');
    await recordEvent(trx, audit, {
      kind: LedgerKind.resourceServerDisabled,
      clientId: row.client_id,
      data: { resource_server_id: row.id, audience: row.audience },
    });

    return resourceServerView(row);
  });
}
