import { sql, type Kysely } from 'kysely';

import { translateDatabaseError } from '../errors.js';
import type {
  Budget,
  ClientKind,
  ClientRow,
  ClientStatus,
  ClientUpdate,
  NewClient,
  Schema,
} from '../schema.js';

/** A secret that can still authenticate: not revoked and not expired. */
export interface LiveSecret {
  id: string;
  hash: string;
  expires_at: string | null;
}

/** A client as the token endpoint needs it: its live secrets and its owner's budget. */
export type ClientWithSecrets = ClientRow & {
  live_secrets: LiveSecret[];
  owner_budget: Budget | null;
};

export async function insertClient(db: Kysely<Schema>, client: NewClient): Promise<ClientRow> {
  try {
    return await db.insertInto('clients').values(client).returningAll().executeTakeFirstOrThrow();
  } catch (error) {
    throw translateDatabaseError(error);
  }
}

/**
 * Loads a client by its OAuth client_id together with its live secrets, in one round trip,
 * because the token endpoint needs both on every request.
 */
export async function findClientForAuthentication(
  db: Kysely<Schema>,
  clientId: string,
): Promise<ClientWithSecrets | undefined> {
  const row = await db
    .selectFrom('clients as c')
    .selectAll('c')
    .select([
      sql<LiveSecret[]>`coalesce((
        SELECT json_agg(json_build_object('id', s.id, 'hash', s.hash, 'expires_at', s.expires_at))
        FROM client_secrets s
        WHERE s.client_pk = c.id AND s.revoked_at IS NULL
          AND (s.expires_at IS NULL OR s.expires_at > now())
      ), '[]'::json)`.as('live_secrets'),
      sql<Budget | null>`(SELECT b.budget FROM owner_budgets b WHERE b.owner = c.owner)`.as(
        'owner_budget',
      ),
    ])
    .where('c.client_id', '=', clientId)
    .executeTakeFirst();

  return row;
}

export async function findClientById(
  db: Kysely<Schema>,
  id: string,
  kind: ClientKind,
): Promise<ClientRow | undefined> {
  return db
    .selectFrom('clients')
    .selectAll()
    .where('id', '=', id)
    .where('kind', '=', kind)
    .executeTakeFirst();
}

export interface ClientListFilter {
  kind: ClientKind;
  owner?: string | undefined;
  status?: ClientStatus | undefined;
  /** Keyset position: list rows strictly after this (created_at, id). */
  after?: { createdAt: Date; id: string } | undefined;
  limit: number;
}

/** Lists clients oldest first with keyset pagination, so pages stay stable under inserts. */
export async function listClients(
  db: Kysely<Schema>,
  filter: ClientListFilter,
): Promise<ClientRow[]> {
  let query = db.selectFrom('clients').selectAll().where('kind', '=', filter.kind);

  if (filter.owner !== undefined) {
    query = query.where('owner', '=', filter.owner);
  }

  if (filter.status !== undefined) {
    query = query.where('status', '=', filter.status);
  }

  // Cursors carry milliseconds (JavaScript dates); Postgres keeps microseconds. Ordering and
  // comparing at millisecond precision keeps the two in step, with the id breaking ties.
  const createdMs = sql<Date>`date_trunc('milliseconds', created_at)`;

  if (filter.after !== undefined) {
    const { createdAt, id } = filter.after;
    query = query.where(sql<boolean>`(${createdMs}, id) > (${createdAt}, ${id})`);
  }

  return query.orderBy(createdMs).orderBy('id').limit(filter.limit).execute();
}

export async function updateClient(
  db: Kysely<Schema>,
  id: string,
  kind: ClientKind,
  changes: ClientUpdate,
): Promise<ClientRow | undefined> {
  return db
    .updateTable('clients')
    .set({ ...changes, updated_at: sql<Date>`now()` })
    .where('id', '=', id)
    .where('kind', '=', kind)
    .returningAll()
    .executeTakeFirst();
}

export async function countClients(db: Kysely<Schema>, kind: ClientKind): Promise<number> {
  const row = await db
    .selectFrom('clients')
    .select(sql<string>`count(*)`.as('n'))
    .where('kind', '=', kind)
    .executeTakeFirstOrThrow();

  return Number(row.n);
}

/** The agents one owner is accountable for. */
export async function findAgentIdsByOwner(db: Kysely<Schema>, owner: string): Promise<string[]> {
  const rows = await db
    .selectFrom('clients')
    .select('id')
    .where('kind', '=', 'agent')
    .where('owner', '=', owner)
    .execute();

  return rows.map((row) => row.id);
}

/**
 * Disables or enables a client. Enabling draws a line in the database's own time: tokens stored
 * before it (some may have raced the disable) never count again.
 */
export async function setClientStatus(
  db: Kysely<Schema>,
  id: string,
  kind: ClientKind,
  status: ClientStatus,
): Promise<ClientRow | undefined> {
  return db
    .updateTable('clients')
    .set({
      status,
      updated_at: sql<Date>`now()`,
      ...(status === 'active' ? { tokens_valid_after: sql<Date>`now()` } : {}),
    })
    .where('id', '=', id)
    .where('kind', '=', kind)
    .returningAll()
    .executeTakeFirst();
}
