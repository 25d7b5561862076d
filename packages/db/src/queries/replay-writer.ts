import type { Database } from '../database.js';
import { Batcher, type BatcherOptions } from '../batcher.js';

export type ReplayWriterOptions = BatcherOptions;

/**
 * The token issue writer's bounds, which it runs beside on every private_key_jwt request.
 * Measured with scripts/bench (cc_jwt): two batches in flight did no better than one, at 10
 * or 50 connections, so the two writers together hold at most two pooled connections.
 */
export const DEFAULT_REPLAY_WRITER_OPTIONS: ReplayWriterOptions = { maxInFlight: 1, maxBatch: 32 };

/*
 * Inserts a batch of records, each only if no row exists under its (model, id), in one
 * statement whatever its size: every column is bound as one array and unnested, so the text
 * never changes and can be prepared once per connection.
 *
 * - DISTINCT ON keeps, of the records that share a key in this batch, the first queued (the
 *   lowest ord): ON CONFLICT alone would leave unsaid which of them is inserted.
 * - Rows are inserted in key order. Two batches in flight (on this instance or another) that
 *   share keys then take their index entries in the same order, one waiting for the other to
 *   commit rather than each waiting for the other (a deadlock).
 * - The conflict decides, not a lookup: a key inserted by a statement still running elsewhere
 *   makes this one wait for its commit, and then skip the key.
 */
const INSERT_ONCE_SQL = `
WITH input AS (
  SELECT model, id, payload, expires_at, ord
  FROM unnest($1::text[], $2::text[], $3::text[], $4::timestamptz[])
    WITH ORDINALITY AS i(model, id, payload, expires_at, ord)
)
INSERT INTO oidc_models (model, id, payload, expires_at)
SELECT DISTINCT ON (model, id) model, id, payload::jsonb, expires_at
FROM input
ORDER BY model, id, ord
ON CONFLICT (model, id) DO NOTHING
RETURNING model, id`;

const INSERT_ONCE_NAME = 'tollgate_insert_replay_records';

interface InsertedRow {
  model: string;
  id: string;
}

/** One record to insert once, as oidc-provider's ReplayDetection model saves it. */
interface ReplayRecord {
  model: string;
  id: string;
  payload: Record<string, unknown>;
  expiresAt: Date | null;
}

function insertOnceValues(records: readonly ReplayRecord[]): unknown[][] {
  return [
    records.map((record) => record.model),
    records.map((record) => record.id),
    records.map((record) => JSON.stringify(record.payload)),
    records.map((record) => record.expiresAt?.toISOString() ?? null),
  ];
}

/**
 * Which of the records are new, in their order. A key the statement inserted is new for the
 * first record that carries it only: later ones in the same batch are replays of it.
 */
function newRecords(records: readonly ReplayRecord[], rows: InsertedRow[]): boolean[] {
  const unclaimed = new Set(rows.map((row) => recordKey(row)));

  return records.map((record) => unclaimed.delete(recordKey(record)));
}

/** Unambiguous whatever the characters of model and id. */
function recordKey(record: { model: string; id: string }): string {
  return JSON.stringify([record.model, record.id]);
}

/** Group commit of replay records (see Batcher): one statement for concurrent records. */
export class ReplayWriter {
  readonly #batches: Batcher<ReplayRecord, boolean>;

  constructor(
    private readonly database: Database,
    options: ReplayWriterOptions = DEFAULT_REPLAY_WRITER_OPTIONS,
  ) {
    this.#batches = new Batcher((records) => this.#insert(records), options);
  }

  /**
   * Stores the record unless one exists under its model and id; settles once that has
   * committed (true: first use, false: a replay), or failed.
   */
  insertOnce(
    model: string,
    id: string,
    payload: Record<string, unknown>,
    expiresAt: Date | null,
  ): Promise<boolean> {
    return this.#batches.submit({ model, id, payload, expiresAt });
  }

  async #insert(records: readonly ReplayRecord[]): Promise<boolean[]> {
    const values = insertOnceValues(records);
    const rows = await this.database.prepared<InsertedRow>(
      INSERT_ONCE_NAME,
      INSERT_ONCE_SQL,
      values,
    );

    return newRecords(records, rows);
  }
}
