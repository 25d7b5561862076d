import { randomBytes, randomUUID } from 'node:crypto';

import { sql } from 'kysely';
import pg from 'pg';

import {
  DatabaseUnavailableError,
  InvalidValueError,
  insertClient,
  insertIssuedToken,
  insertSession,
  TokenIssueWriter,
  UniqueViolationError,
  type ClientRow,
  type Database,
  type IssueOutcome,
  type TokenIssue,
} from '@tollgate/db';

import { availableBackends, createTestDatabase, type TestDatabase } from './support/database.js';
import { instrument } from './support/statements.js';

const HOUR_MS = 3_600_000;

async function newAgent(db: Database['db']): Promise<ClientRow> {
  return insertClient(db, {
    id: randomUUID(),
    client_id: `agt_${randomBytes(8).toString('hex')}`,
    kind: 'agent',
    name: 'issuing agent',
    owner: 'issuers',
    token_ttl_seconds: 300,
    auth_method: 'client_secret_basic',
    jwks: JSON.stringify(null),
  });
}

/** An issue that opens a session (two ledger events), gated on the client's version. */
function openingIssue(client: ClientRow, overrides: { subject?: string } = {}): TokenIssue {
  const tokenId = `tok_${randomUUID()}`;
  const sessionId = randomUUID();
  const common = { agentId: client.id, clientId: client.client_id, tokenId, sessionId };

  return {
    token: {
      tokenId,
      clientPk: client.id,
      sessionId,
      model: 'ClientCredentials',
      audience: 'https://tools.example',
      scope: 'search fetch',
      payload: { kind: 'ClientCredentials', scope: 'search fetch' },
      issuedAt: new Date(),
      expiresAt: new Date(Date.now() + HOUR_MS),
    },
    openSession: {
      id: sessionId,
      client_pk: client.id,
      subject: overrides.subject ?? 'user-1',
      subject_issuer: 'https://idp.example',
      tools: ['search', 'fetch', 'a "quoted", {braced} tool'],
      audience: 'https://tools.example',
      actor_chain: JSON.stringify({ sub: client.client_id }),
      deadline: new Date(Date.now() + HOUR_MS),
      idle_timeout_seconds: 600,
    },
    events: [
      { ...common, kind: 'session.opened', data: { order: 1 } },
      { ...common, kind: 'token.issued', data: { order: 2 } },
    ],
    clientVersion: client.version,
  };
}

describe.each(availableBackends())('token issue writer (%s)', (backend) => {
  let test: TestDatabase;
  let db: Database['db'];

  beforeAll(async () => {
    test = await createTestDatabase(backend);
    db = test.database.db;
  });

  afterAll(async () => {
    await test.drop();
  });

  const storedTokens = async (issues: TokenIssue[]) =>
    db
      .selectFrom('access_tokens')
      .select(['token_id', 'session_id', 'scope', 'payload'])
      .where(
        'token_id',
        'in',
        issues.map((issue) => issue.token.tokenId),
      )
      .execute();

  const eventsOf = async (issue: TokenIssue) =>
    db
      .selectFrom('ledger_events')
      .select(['id', 'kind', 'session_id', 'data'])
      .where('token_id', '=', issue.token.tokenId)
      .orderBy('id')
      .execute();

  const sessionOf = async (issue: TokenIssue) =>
    db
      .selectFrom('sessions')
      .select(['id', 'tools', 'actor_chain', 'subject', 'idle_timeout_seconds'])
      .where('id', '=', issue.openSession?.id ?? randomUUID())
      .executeTakeFirst();

  const versionOf = async (client: ClientRow) =>
    (
      await db
        .selectFrom('clients')
        .select('version')
        .where('id', '=', client.id)
        .executeTakeFirstOrThrow()
    ).version;

  it('stores concurrent issues in far fewer statements than issues', async () => {
    const client = await newAgent(db);
    const { database, spy } = instrument(test.database);
    const writer = new TokenIssueWriter(database, { maxInFlight: 2, maxBatch: 64 });
    const issues = Array.from({ length: 30 }, () => openingIssue(client));

    const outcomes = await Promise.all(issues.map((issue) => writer.write(issue)));

    expect(outcomes).toEqual(issues.map(() => 'stored'));
    expect(spy.calls).toBeLessThanOrEqual(4);
    expect(spy.batchSizes.reduce((sum, size) => sum + size, 0)).toBe(30);
    expect(await storedTokens(issues)).toHaveLength(30);

    for (const issue of issues) {
      const events = await eventsOf(issue);

      expect(events.map((event) => event.kind)).toEqual(['session.opened', 'token.issued']);
      expect(events.map((event) => event.session_id)).toEqual([
        issue.token.sessionId,
        issue.token.sessionId,
      ]);
      expect(await sessionOf(issue)).toEqual({
        id: issue.token.sessionId,
        tools: ['search', 'fetch', 'a "quoted", {braced} tool'],
        actor_chain: { sub: client.client_id },
        subject: 'user-1',
        idle_timeout_seconds: 600,
      });
    }
  });

  it('sends an issue at once when no batch is in flight', async () => {
    const client = await newAgent(db);
    const { database, spy } = instrument(test.database);
    const writer = new TokenIssueWriter(database, { maxInFlight: 1, maxBatch: 8 });

    await expect(writer.write(openingIssue(client))).resolves.toBe('stored');
    await expect(writer.write(openingIssue(client))).resolves.toBe('stored');

    expect(spy.batchSizes).toEqual([1, 1]);
  });

  it('keeps to maxBatch rows per statement', async () => {
    const client = await newAgent(db);
    const { database, spy } = instrument(test.database);
    const writer = new TokenIssueWriter(database, { maxInFlight: 1, maxBatch: 4 });
    const issues = Array.from({ length: 10 }, () => openingIssue(client));

    await Promise.all(issues.map((issue) => writer.write(issue)));

    expect(spy.batchSizes).toEqual([1, 4, 4, 1]);
    expect(await storedTokens(issues)).toHaveLength(10);
  });

  it('opens a session from another only while that token and session are live', async () => {
    const client = await newAgent(db);
    const writer = new TokenIssueWriter(test.database);
    const parent = openingIssue(client);
    expect(await writer.write(parent)).toBe('stored');
    const childOf = () => {
      const child = openingIssue(client);
      child.openSession = {
        ...child.openSession!,
        parent_session_id: parent.openSession!.id,
        parent_token_id: parent.token.tokenId,
      };

      return child;
    };
    const whileLive = childOf();
    const afterRevoke = childOf();

    const live = await writer.write(whileLive);
    await db
      .updateTable('access_tokens')
      .set({ revoked_at: new Date() })
      .where('token_id', '=', parent.token.tokenId)
      .execute();
    const revoked = await writer.write(afterRevoke);

    expect([live, revoked]).toEqual(['stored', 'parent_inactive']);
    expect(await storedTokens([afterRevoke])).toEqual([]);
    expect(await sessionOf(afterRevoke)).toBeUndefined();
  });

  it('stores nothing of an issue whose client changed or was disabled', async () => {
    const changed = await newAgent(db);
    const disabled = await newAgent(db);
    const steady = await newAgent(db);
    const staleIssue = openingIssue(changed);
    const disabledIssue = openingIssue(disabled);
    const mates = [openingIssue(steady), openingIssue(steady)];
    const ungated = { ...openingIssue(changed), clientVersion: undefined };

    await sql`UPDATE clients SET name = 'renamed' WHERE id = ${changed.id}`.execute(db);
    await sql`UPDATE clients SET status = 'disabled' WHERE id = ${disabled.id}`.execute(db);
    // The status update moved the version too: gate this issue on the current one, so that it
    // is refused for being disabled alone.
    disabledIssue.clientVersion = await versionOf(disabled);

    const { database, spy } = instrument(test.database);
    const writer = new TokenIssueWriter(database, { maxInFlight: 1, maxBatch: 64 });
    const all = [mates[0]!, staleIssue, disabledIssue, mates[1]!, ungated];
    const outcomes = await Promise.all(all.map((issue) => writer.write(issue)));

    expect(outcomes).toEqual<IssueOutcome[]>([
      'stored',
      'client_changed',
      'client_changed',
      'stored',
      'stored',
    ]);
    expect(spy.batchSizes).toEqual([1, 4]);

    for (const refused of [staleIssue, disabledIssue]) {
      expect(await storedTokens([refused])).toEqual([]);
      expect(await sessionOf(refused)).toBeUndefined();
      expect(await eventsOf(refused)).toEqual([]);
    }

    for (const stored of [...mates, ungated]) {
      expect(await storedTokens([stored])).toHaveLength(1);
      expect(await sessionOf(stored)).toBeDefined();
      expect(await eventsOf(stored)).toHaveLength(2);
    }
  });

  it('fails only the issue whose value Postgres refuses, and keeps working after', async () => {
    const client = await newAgent(db);
    const { database, spy } = instrument(test.database);
    const writer = new TokenIssueWriter(database, { maxInFlight: 1, maxBatch: 64 });
    const good = [openingIssue(client), openingIssue(client), openingIssue(client)];
    const bad = openingIssue(client, { subject: 'nul\u0000byte' });
    const duplicate = { ...openingIssue(client), token: { ...good[2]!.token } };

    const results = await Promise.allSettled(
      [good[0]!, bad, good[1]!, good[2]!, duplicate].map((issue) => writer.write(issue)),
    );

    expect(results.map((result) => result.status)).toEqual([
      'fulfilled',
      'rejected',
      'fulfilled',
      'fulfilled',
      'rejected',
    ]);
    expect((results[1] as PromiseRejectedResult).reason).toBeInstanceOf(InvalidValueError);
    expect((results[4] as PromiseRejectedResult).reason).toBeInstanceOf(UniqueViolationError);
    // The first went alone; the other four failed together and were halved until each
    // failing issue stood alone: [bad, good] fails and splits, [good, duplicate] likewise.
    expect(spy.batchSizes).toEqual([1, 4, 2, 1, 1, 2, 1, 1]);
    expect(await storedTokens(good)).toHaveLength(3);
    expect(await storedTokens([bad])).toEqual([]);
    expect(await sessionOf(bad)).toBeUndefined();
    expect(await sessionOf(duplicate)).toBeUndefined();

    const later = openingIssue(client);
    await expect(writer.write(later)).resolves.toBe('stored');
    expect(await eventsOf(later)).toHaveLength(2);
  });

  it('fails every issue of a batch whose connection failed, and keeps working after', async () => {
    const client = await newAgent(db);
    const { database, spy } = instrument(test.database);
    const writer = new TokenIssueWriter(database, { maxInFlight: 1, maxBatch: 64 });
    const alone = writer.write(openingIssue(client));
    // The next statement sent, the batch queued behind the first issue, fails as pg fails it.
    spy.failNext = new Error('Connection terminated unexpectedly');
    const batch = [openingIssue(client), openingIssue(client)];

    const results = await Promise.allSettled(batch.map((issue) => writer.write(issue)));

    await expect(alone).resolves.toBe('stored');
    expect(spy.batchSizes).toEqual([1, 2]);
    expect(results.map((result) => result.status)).toEqual(['rejected', 'rejected']);

    for (const result of results) {
      expect((result as PromiseRejectedResult).reason).toBeInstanceOf(DatabaseUnavailableError);
    }

    expect(await storedTokens(batch)).toEqual([]);
    await expect(writer.write(openingIssue(client))).resolves.toBe('stored');
  });

  // The embedded engine has one connection: nothing can change a client concurrently there.
  (backend === 'postgres' ? it : it.skip)(
    'refuses at once an issue whose client is being changed',
    async () => {
      const client = await newAgent(db);
      const other = await newAgent(db);
      const admin = new pg.Client({ connectionString: test.url });
      await admin.connect();

      try {
        await admin.query('BEGIN');
        await admin.query(`UPDATE clients SET name = 'changing' WHERE id = $1`, [client.id]);
        const writer = new TokenIssueWriter(test.database);
        const outcomes = Promise.all([
          writer.write(openingIssue(client)),
          writer.write(openingIssue(other)),
        ]);
        const timeout = new Promise((resolve) => setTimeout(() => resolve('waiting'), 1000));
        const early = await Promise.race([outcomes, timeout]);
        await admin.query('COMMIT');

        expect(early).toEqual(['client_changed', 'stored']);
      } finally {
        await admin.end();
      }
    },
  );

  it('applies the same gate to insertIssuedToken', async () => {
    const client = await newAgent(db);
    const first = openingIssue(client);

    await expect(insertIssuedToken(db, first)).resolves.toBe(true);
    await sql`UPDATE clients SET description = 'moved' WHERE id = ${client.id}`.execute(db);

    const stale = openingIssue(client);
    await expect(insertIssuedToken(db, stale)).resolves.toBe(false);
    await expect(insertIssuedToken(db, { ...stale, clientVersion: undefined })).resolves.toBe(true);
    expect(await eventsOf(stale)).toHaveLength(2);
  });

  it('renews an open session with the token it issues', async () => {
    const client = await newAgent(db);
    const session = await insertSession(db, {
      id: randomUUID(),
      client_pk: client.id,
      tools: ['search'],
      deadline: new Date(Date.now() + HOUR_MS),
      last_activity_at: new Date(Date.now() - HOUR_MS / 2),
    });
    const renewal = openingIssue(client);
    const { openSession: _unused, ...rest } = renewal;
    const issue: TokenIssue = {
      ...rest,
      token: { ...renewal.token, sessionId: session.id },
      renewSessionId: session.id,
    };

    await expect(new TokenIssueWriter(test.database).write(issue)).resolves.toBe('stored');

    const renewed = await db
      .selectFrom('sessions')
      .select('last_activity_at')
      .where('id', '=', session.id)
      .executeTakeFirstOrThrow();
    expect(renewed.last_activity_at.getTime()).toBeGreaterThan(Date.now() - 60_000);
  });
});
