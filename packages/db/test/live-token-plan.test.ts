import { randomUUID } from 'node:crypto';

import pg from 'pg';
import { sql } from 'kysely';

import { FIND_LIVE_TOKENS, insertClient, type Kysely, type Schema } from '@tollgate/db';

import { createTestDatabase, type TestDatabase } from './support/database.js';

/** Plans are Postgres's; the embedded engine is the same planner but needs no such size. */
const describePostgres = process.env.DATABASE_URL === undefined ? describe.skip : describe;

/**
 * Introspection runs the batched lookup on every call. Written as a join, its generic plan
 * followed statistics that lagged the tables' growth and joined every token of every agent (tens
 * of milliseconds per call); each lookup must stay a probe of the token's primary key.
 */
async function newAgent(db: Kysely<Schema>, n: number): Promise<string> {
  const agent = await insertClient(db, {
    id: randomUUID(),
    client_id: `agt_plan_${n}`,
    kind: 'agent',
    name: `planned ${n}`,
    token_ttl_seconds: 300,
    auth_method: 'client_secret_basic',
    jwks: JSON.stringify(null),
  });

  return agent.id;
}

/** Gives each agent `perAgent` live tokens, each in a session of its own. */
async function addTokens(db: Kysely<Schema>, agents: string[], perAgent: number): Promise<void> {
  for (const agent of agents) {
    await sql`
      WITH opened AS (
        INSERT INTO sessions (id, client_pk, tools, deadline)
        SELECT gen_random_uuid(), ${agent}, '{search}', now() + interval '1 hour'
        FROM generate_series(1, ${perAgent})
        RETURNING id
      )
      INSERT INTO access_tokens (token_id, client_pk, session_id, model, payload, issued_at,
                                 expires_at)
      SELECT 'tok_' || id, ${agent}, id, 'ClientCredentials', '{}', now(),
             now() + interval '1 hour'
      FROM opened`.execute(db);
  }
}

describePostgres('the batched token lookup on large tables', () => {
  let test: TestDatabase;

  beforeAll(async () => {
    test = await createTestDatabase('postgres');
    const { db } = test.database;
    const agents = await Promise.all([1, 2, 3].map((n) => newAgent(db, n)));

    // Tables that grew fast before autovacuum analyzed them: what a busy new deployment looks
    // like until it catches up (the planner then goes by default selectivities).
    await sql`ALTER TABLE access_tokens SET (autovacuum_enabled = false)`.execute(db);
    await sql`ALTER TABLE sessions SET (autovacuum_enabled = false)`.execute(db);
    await addTokens(db, agents, 15_000);
  });

  afterAll(async () => {
    await test.drop();
  });

  it('probes the token, client and session indexes, never scanning their tables', async () => {
    const client = new pg.Client({ connectionString: test.url });
    await client.connect();

    try {
      // The generic plan is the one a prepared statement settles on after a few executions: it
      // cannot know the batch size, so it is where a bad join choice shows.
      await client.query('SET plan_cache_mode = force_generic_plan');
      await client.query(`PREPARE live_tokens(text[], uuid[], bigint[]) AS ${FIND_LIVE_TOKENS}`);
      const ten = (value: string) => `{${Array(10).fill(value).join(',')}}`;
      const explained = await client.query<{ 'QUERY PLAN': string }>(
        `EXPLAIN EXECUTE live_tokens('${ten('tok_x')}', '${ten('NULL')}', '${ten('NULL')}')`,
      );
      const plan = explained.rows.map((row) => row['QUERY PLAN']).join('\n');

      expect(plan).toContain('Index Scan using access_tokens_pkey');
      expect(plan).not.toMatch(/Scan on (access_tokens|sessions)\b(?! using \w+_pkey)/);
      expect(plan).not.toContain('access_tokens_client_idx');
    } finally {
      await client.end();
    }
  });
});
