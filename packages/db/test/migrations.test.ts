import { sql } from 'kysely';

import { migrate } from '../src/index.js';
import { availableBackends, createTestDatabase, MIGRATIONS_DIR } from './support/database.js';

describe.each(availableBackends())('migrations on %s', (backend) => {
  it('migrates an empty database and is a no-op the second time', async () => {
    const test = await createTestDatabase(backend);

    try {
      const again = await migrate(test.database, MIGRATIONS_DIR);
      const tables = await sql<{ table_name: string }>`
        SELECT table_name FROM information_schema.tables
        WHERE table_schema = 'public' ORDER BY table_name`.execute(test.database.db);

      expect(again).toEqual([]);
      expect(tables.rows.map((row) => row.table_name)).toEqual(
        expect.arrayContaining(['clients', 'client_secrets', 'access_tokens', 'ledger_events']),
      );
    } finally {
      await test.drop();
    }
  });

  it('refuses UPDATE, DELETE and TRUNCATE on the ledger', async () => {
    const test = await createTestDatabase(backend);
    const { db } = test.database;

    try {
      await db.insertInto('ledger_events').values({ kind: 'test.event', data: '{}' }).execute();

      await expect(db.updateTable('ledger_events').set({ kind: 'x' }).execute()).rejects.toThrow(
        /append-only/,
      );
      await expect(db.deleteFrom('ledger_events').execute()).rejects.toThrow(/append-only/);
      await expect(sql`TRUNCATE ledger_events`.execute(db)).rejects.toThrow(/append-only/);

      const rows = await db.selectFrom('ledger_events').select('kind').execute();
      expect(rows).toEqual([{ kind: 'test.event' }]);
    } finally {
      await test.drop();
    }
  });
});
