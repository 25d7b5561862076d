import { sql, type Kysely } from 'kysely';

import type { Schema } from '../schema.js';

/** An event as the chain hashes it: every column, the time in a fixed UTC text form. */
export interface ChainableEvent {
  id: string;
  kind: string;
  at_utc: string;
  agent_id: string | null;
  client_id: string | null;
  token_id: string | null;
  session_id: string | null;
  subject: string | null;
  actor: string | null;
  request_id: string | null;
  ip: string | null;
  data: unknown;
}

export interface ChainLink {
  seq: string;
  event_id: string;
  prev_hash: string;
  hash: string;
}

const AT_UTC = sql<string>`to_char(e.at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`;

/** The event columns the chain hashes (besides the id), `at` in its fixed UTC text form. */
const eventColumns = () =>
  [
    'e.kind',
    AT_UTC.as('at_utc'),
    'e.agent_id',
    'e.client_id',
    'e.token_id',
    'e.session_id',
    'e.subject',
    'e.actor',
    'e.request_id',
    'e.ip',
    'e.data',
  ] as const;

/** Holds the sealer lock for the rest of the transaction, or says another instance has it. */
export async function tryLockSealer(db: Kysely<Schema>): Promise<boolean> {
  const result = await sql<{
    locked: boolean;
  }>`SELECT pg_try_advisory_xact_lock(7411820261) AS locked`.execute(db);

  return result.rows[0]?.locked === true;
}

export async function lastChainLink(db: Kysely<Schema>): Promise<ChainLink | undefined> {
  return db
    .selectFrom('ledger_chain')
    .select(['seq', 'event_id', 'prev_hash', 'hash'])
    .orderBy('seq', 'desc')
    .limit(1)
    .executeTakeFirst();
}

/**
 * How far below the newest sealed event the sealer still looks: an event can commit later than
 * events with higher ids (a long transaction), never this much later. It keeps each pass from
 * scanning the whole ledger.
 */
const SEAL_LOOKBACK_IDS = 100_000;

/** Events committed but not yet in the chain, oldest id first. */
export async function unsealedEvents(db: Kysely<Schema>, limit: number): Promise<ChainableEvent[]> {
  const rows = await db
    .selectFrom('ledger_events as e')
    .leftJoin('ledger_chain as c', 'c.event_id', 'e.id')
    .select(['e.id', ...eventColumns()])
    .where('c.event_id', 'is', null)
    .where(
      'e.id',
      '>',
      sql<string>`(SELECT coalesce(max(event_id), 0) - ${SEAL_LOOKBACK_IDS} FROM ledger_chain)`,
    )
    .orderBy('e.id')
    .limit(limit)
    .execute();

  return rows;
}

export async function insertChainLinks(db: Kysely<Schema>, links: ChainLink[]): Promise<void> {
  if (links.length > 0) {
    await db.insertInto('ledger_chain').values(links).execute();
  }
}

export async function countUnsealedEvents(db: Kysely<Schema>): Promise<number> {
  const row = await db
    .selectFrom('ledger_events as e')
    .leftJoin('ledger_chain as c', 'c.event_id', 'e.id')
    .select(sql<string>`count(*)`.as('n'))
    .where('c.event_id', 'is', null)
    .executeTakeFirstOrThrow();

  return Number(row.n);
}

/** A page of the chain with the events it links (an event is null when its row is gone). */
export async function chainPage(
  db: Kysely<Schema>,
  afterSeq: string,
  limit: number,
): Promise<(ChainLink & { event: ChainableEvent | null })[]> {
  const rows = await db
    .selectFrom('ledger_chain as c')
    .leftJoin('ledger_events as e', 'e.id', 'c.event_id')
    .select(['c.seq', 'c.event_id', 'c.prev_hash', 'c.hash', 'e.id as e_id', ...eventColumns()])
    .where(sql<boolean>`c.seq > ${afterSeq}::bigint`)
    .orderBy('c.seq')
    .limit(limit)
    .execute();

  return rows.map((row) => ({
    seq: row.seq,
    event_id: row.event_id,
    prev_hash: row.prev_hash,
    hash: row.hash,
    event:
      row.e_id === null
        ? null
        : {
            id: row.e_id,
            kind: row.kind ?? '',
            at_utc: row.at_utc,
            agent_id: row.agent_id,
            client_id: row.client_id,
            token_id: row.token_id,
            session_id: row.session_id,
            subject: row.subject,
            actor: row.actor,
            request_id: row.request_id,
            ip: row.ip,
            data: row.data,
          },
  }));
}

export async function firstChainSeq(db: Kysely<Schema>): Promise<string | undefined> {
  const row = await db
    .selectFrom('ledger_chain')
    .select('seq')
    .orderBy('seq')
    .limit(1)
    .executeTakeFirst();

  return row?.seq;
}

export async function latestCheckpoint(db: Kysely<Schema>) {
  return db
    .selectFrom('ledger_checkpoints')
    .selectAll()
    .orderBy('id', 'desc')
    .limit(1)
    .executeTakeFirst();
}

/**
 * Removes the chain prefix up to `seq` and its events, recording a checkpoint, in the caller's
 * transaction. The append-only triggers allow this one path (and only inside it).
 */
export async function archiveChainPrefix(
  db: Kysely<Schema>,
  checkpoint: { seq: string; hash: string; archivedEvents: number; archiveDigest: string },
): Promise<void> {
  await sql`SELECT set_config('tollgate.ledger_archive', 'on', true)`.execute(db);
  const eventIds = db
    .selectFrom('ledger_chain')
    .select('event_id')
    .where(sql<boolean>`seq <= ${checkpoint.seq}::bigint`);
  await db.deleteFrom('ledger_events').where('id', 'in', eventIds).execute();
  await db
    .deleteFrom('ledger_chain')
    .where(sql<boolean>`seq <= ${checkpoint.seq}::bigint`)
    .execute();
  await db
    .insertInto('ledger_checkpoints')
    .values({
      seq: checkpoint.seq,
      hash: checkpoint.hash,
      archived_events: String(checkpoint.archivedEvents),
      archive_digest: checkpoint.archiveDigest,
    })
    .execute();
  await sql`SELECT set_config('tollgate.ledger_archive', 'off', true)`.execute(db);
}
