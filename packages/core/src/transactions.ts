import type { Kysely, Schema } from '@tollgate/db';

/** Runs work in a transaction, joining the caller's when it already is one. */
export function inTransaction<T>(db: Kysely<Schema>, work: (trx: Kysely<Schema>) => Promise<T>) {
  return db.isTransaction ? work(db) : db.transaction().execute(work);
}
