import { tokenIdOf } from '@tollgate/core';

import type { TestDatabase } from '../../../db/test/support/database.js';

/** How many `token.issued` events the ledger holds for each token value, in order. */
export async function issuedEventCounts(test: TestDatabase, tokens: string[]): Promise<number[]> {
  if (tokens.length === 0) return [];

  const rows = await test.database.db
    .selectFrom('ledger_events')
    .select('token_id')
    .where('kind', '=', 'token.issued')
    .where('token_id', 'in', tokens.map(tokenIdOf))
    .execute();

  return tokens.map((token) => rows.filter((row) => row.token_id === tokenIdOf(token)).length);
}

/** Every `token.issued` event of a client, whether or not its answer reached the client. */
export async function issuedCountFor(test: TestDatabase, clientId: string): Promise<number> {
  const rows = await test.database.db
    .selectFrom('ledger_events')
    .select('token_id')
    .where('kind', '=', 'token.issued')
    .where('client_id', '=', clientId)
    .execute();

  return rows.length;
}
