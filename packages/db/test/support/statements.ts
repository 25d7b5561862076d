import type { Database } from '@tollgate/db';

/**
 * Wraps a database so that a test sees the prepared statements a batcher sends: how many, how
 * large each batch was (the length of the first array bound), and can make the next one fail.
 */
export function instrument(database: Database) {
  const prepared = database.prepared.bind(database);
  const spy = { calls: 0, batchSizes: [] as number[], failNext: undefined as Error | undefined };

  const counted: Database = {
    ...database,
    prepared: async <Row>(name: string, text: string, values: readonly unknown[]) => {
      spy.calls += 1;
      spy.batchSizes.push((values[0] as unknown[]).length);
      const failure = spy.failNext;
      spy.failNext = undefined;

      if (failure !== undefined) {
        throw failure;
      }

      return prepared<Row>(name, text, values);
    },
  };

  return { database: counted, spy };
}
