import { randomBytes } from 'node:crypto';

import {
  archiveLedger,
  CLI_AUDIT,
  createAgent,
  GENESIS_HASH,
  sealLedger,
  verifyArchiveLines,
  verifyLedger,
  type ChainVerification,
} from '@tollgate/core';

import { startTestTollgate, type TestTollgate } from './support/tollgate.js';

/** The tables a verification reads, copied in this order into a schema of their own. */
const CHAIN_TABLES = ['ledger_chain', 'ledger_events', 'ledger_checkpoints'];

interface Link {
  seq: string;
  event_id: string;
  hash: string;
  kind: string;
  at: Date;
}

describe('ledger hash chain', () => {
  let tollgate: TestTollgate;
  let agents = 0;

  const db = () => tollgate.test.database.db;

  /** A few ledger events: an agent registered (with its secret). */
  const addEvents = async () => {
    await createAgent(
      db(),
      { name: `chain-agent-${++agents}`, owner: 'chain', tools: ['llm'], audiences: [] },
      CLI_AUDIT,
    );
  };

  /** The sealed chain with its events, in order. */
  const chain = (): Promise<Link[]> =>
    db()
      .selectFrom('ledger_chain as c')
      .innerJoin('ledger_events as e', 'e.id', 'c.event_id')
      .select(['c.seq', 'c.event_id', 'c.hash', 'e.kind', 'e.at'])
      .orderBy('c.seq')
      .execute();

  const linkAt = async (index: number): Promise<Link> => {
    const link = (await chain())[index];

    if (link === undefined) {
      throw new Error(`no link at index ${index}`);
    }

    return link;
  };

  /**
   * Verifies a tampered copy of the chain: the tables are copied (one consistent snapshot)
   * into a fresh schema, where the append-only triggers do not follow, and changed there.
   * `tamper.` in a statement names the copy.
   */
  const verifyTampered = async (...statements: string[]): Promise<ChainVerification> => {
    const schema = `tamper_${randomBytes(4).toString('hex')}`;

    await tollgate.test.database.scriptTransaction(async (run) => {
      await run('SET TRANSACTION ISOLATION LEVEL REPEATABLE READ');
      await run(`CREATE SCHEMA ${schema}`);

      for (const table of CHAIN_TABLES) {
        await run(`CREATE TABLE ${schema}.${table} AS SELECT * FROM public.${table}`);
      }

      for (const statement of statements) {
        await run(statement.replaceAll('tamper.', `${schema}.`));
      }
    });

    try {
      return await verifyLedger(db().withSchema(schema));
    } finally {
      await tollgate.test.database.scriptTransaction((run) => run(`DROP SCHEMA ${schema} CASCADE`));
    }
  };

  const refusedChange = (statement: string) =>
    tollgate.test.database.scriptTransaction((run) => run(statement));

  beforeAll(async () => {
    // The test seals by itself: the server's own sealer would race it.
    tollgate = await startTestTollgate({ env: { TOLLGATE_LEDGER_SEAL_INTERVAL_MS: '600000' } });

    for (let index = 0; index < 6; index += 1) {
      await addEvents();
    }

    await sealLedger(db());
  });

  afterAll(async () => {
    await tollgate.stop();
  });

  describe('sealing and verification', () => {
    it('links every committed event from the genesis, and verifies', async () => {
      const links = await chain();
      const result = await verifyLedger(db());

      expect(links.length).toBeGreaterThanOrEqual(12);
      expect(links.map((link) => link.seq)).toEqual(links.map((_, index) => String(index + 1)));
      expect(result).toMatchObject({ ok: true, started_from: { seq: '0', hash: GENESIS_HASH } });
      expect(result.checked).toBeGreaterThanOrEqual(links.length);
      expect(result.first_broken).toBeUndefined();
    });

    it('verifies an untouched copy (so later copies test tampering alone)', async () => {
      expect(await verifyTampered()).toMatchObject({ ok: true });
    });

    it('detects an altered event', async () => {
      const link = await linkAt(4);
      const result = await verifyTampered(
        `UPDATE tamper.ledger_events SET data = data || '{"amount": 1}' ` +
          `WHERE id = ${link.event_id}`,
      );

      expect(result).toMatchObject({
        ok: false,
        checked: 4,
        first_broken: { seq: link.seq, event_id: link.event_id, problem: 'event_altered' },
      });
    });

    it('detects a removed event, and a removed link', async () => {
      const link = await linkAt(3);
      const next = await linkAt(4);
      const noEvent = await verifyTampered(
        `DELETE FROM tamper.ledger_events WHERE id = ${link.event_id}`,
      );
      const noLink = await verifyTampered(
        `DELETE FROM tamper.ledger_chain WHERE seq = ${link.seq}`,
      );

      expect(noEvent.first_broken).toEqual({
        seq: link.seq,
        event_id: link.event_id,
        problem: 'event_missing',
      });
      expect(noLink.first_broken).toEqual({
        seq: next.seq,
        event_id: next.event_id,
        problem: 'sequence_gap',
      });
    });

    it('detects two events swapped, by content and by chain position', async () => {
      const links = await chain();
      const index = links.findIndex((link, i) => link.kind !== links[i + 1]?.kind);
      const [first, second] = [links[index], links[index + 1]];

      if (first === undefined || second === undefined) {
        throw new Error('no two neighbouring events of different kinds');
      }

      const swappedContent = await verifyTampered(
        `UPDATE tamper.ledger_events e SET kind = o.kind, data = o.data
         FROM tamper.ledger_events o
         WHERE (e.id, o.id) IN ((${first.event_id}, ${second.event_id}),
                                (${second.event_id}, ${first.event_id}))`,
      );
      const swappedSeq = await verifyTampered(
        `UPDATE tamper.ledger_chain
         SET seq = CASE seq WHEN ${first.seq} THEN ${second.seq} ELSE ${first.seq} END
         WHERE seq IN (${first.seq}, ${second.seq})`,
      );

      expect(swappedContent.first_broken).toEqual({
        seq: first.seq,
        event_id: first.event_id,
        problem: 'event_altered',
      });
      expect(swappedSeq.first_broken).toEqual({
        seq: first.seq,
        event_id: second.event_id,
        problem: 'link_broken',
      });
    });

    it('leaves the real ledger intact throughout', async () => {
      expect(await verifyLedger(db())).toMatchObject({ ok: true });
    });
  });

  describe('append-only tables', () => {
    it.each([
      ['DELETE FROM ledger_events WHERE id = (SELECT min(id) FROM ledger_events)'],
      ["UPDATE ledger_events SET data = '{}' WHERE id = (SELECT min(id) FROM ledger_events)"],
      ['TRUNCATE ledger_events'],
      ['DELETE FROM ledger_chain WHERE seq = 1'],
      ["UPDATE ledger_chain SET hash = 'x' WHERE seq = 1"],
      ['TRUNCATE ledger_chain'],
    ])('refuses %s', async (statement) => {
      await expect(refusedChange(statement)).rejects.toThrow(/append-only/);
    });

    it('refuses changes even where the archive path may delete', async () => {
      await expect(
        tollgate.test.database.scriptTransaction(async (run) => {
          await run(`SELECT set_config('tollgate.ledger_archive', 'on', true)`);
          await run(`UPDATE ledger_chain SET hash = 'x' WHERE seq = 1`);
        }),
      ).rejects.toThrow(/append-only: UPDATE refused/);
      expect(await verifyLedger(db())).toMatchObject({ ok: true });
    });
  });

  describe('archive', () => {
    it('archives the prefix with its proof; the rest verifies from the checkpoint', async () => {
      const links = await chain();
      const cut = (await linkAt(8)).at;
      const expected = links.slice(
        0,
        links.findIndex((link) => link.at >= cut),
      );
      const lines: string[] = [];
      const last = expected.at(-1);

      const result = await archiveLedger(db(), cut, async (line) => {
        lines.push(line);
      });
      const remaining = await verifyLedger(db());
      const left = await db()
        .selectFrom('ledger_events')
        .select('id')
        .where(
          'id',
          'in',
          expected.map((link) => link.event_id),
        )
        .execute();

      expect(expected.length).toBeGreaterThan(0);
      expect(result).toEqual({
        archived: expected.length,
        from_seq: '1',
        to_seq: last?.seq,
        end_hash: last?.hash,
        digest: expect.stringMatching(/^[0-9a-f]{64}$/),
      });
      expect(lines).toHaveLength(expected.length);
      expect(verifyArchiveLines(lines)).toEqual({ ok: true, checked: expected.length });
      expect(left).toEqual([]);
      expect(remaining).toMatchObject({
        ok: true,
        started_from: { seq: last?.seq, hash: last?.hash },
      });
      expect(remaining.checked).toBeGreaterThanOrEqual(links.length - expected.length);
    });

    it('tells a damaged archive from an intact one', async () => {
      const lines: string[] = [];
      await addEvents();
      await archiveLedger(db(), new Date(Date.now() + 60_000), async (line) => {
        lines.push(line);
      });
      const altered = lines.map((line, index) =>
        index === 1 ? line.replace('"kind":"', '"kind":"x') : line,
      );
      const second = JSON.parse(lines[1] ?? '{}') as { seq: string };
      const third = JSON.parse(lines[2] ?? '{}') as { seq: string };

      expect(lines.length).toBeGreaterThanOrEqual(3);
      expect(verifyArchiveLines(lines).ok).toBe(true);
      expect(verifyArchiveLines(altered)).toMatchObject({ ok: false, broken_at: second.seq });
      expect(verifyArchiveLines(lines.filter((_, index) => index !== 1))).toMatchObject({
        ok: false,
        broken_at: third.seq,
      });
      expect(verifyArchiveLines([lines[0] ?? '', '{"seq": '])).toEqual({
        ok: false,
        checked: 1,
        broken_at: 'line 2',
      });
    });

    it('seals new events after the checkpoint, the chain archived away', async () => {
      const checkpoint = await db()
        .selectFrom('ledger_checkpoints')
        .selectAll()
        .orderBy('id', 'desc')
        .executeTakeFirstOrThrow();
      const emptied = await verifyLedger(db());

      await addEvents();
      const sealed = await sealLedger(db());
      const [first] = await db()
        .selectFrom('ledger_chain')
        .selectAll()
        .orderBy('seq')
        .limit(1)
        .execute();
      const result = await verifyLedger(db());

      expect(emptied).toMatchObject({ ok: true, started_from: { seq: checkpoint.seq } });
      expect(sealed).toBeGreaterThanOrEqual(1);
      expect(first).toMatchObject({
        seq: String(BigInt(checkpoint.seq) + 1n),
        prev_hash: checkpoint.hash,
      });
      expect(result).toMatchObject({ ok: true, started_from: { seq: checkpoint.seq } });
      expect(result.checked).toBeGreaterThanOrEqual(sealed);
    });
  });
});
