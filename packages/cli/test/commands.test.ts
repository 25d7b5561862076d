import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import {
  CLI_AUDIT,
  createAgent,
  createResourceServer,
  ingestUsage,
  LedgerKind,
  tokenIdOf,
} from '@tollgate/core';
import { insertIssuedToken, type Database } from '@tollgate/db';
import { loadConfig, type Config } from '@tollgate/server';

import { createTestDatabase, type TestDatabase } from '../../db/test/support/database.js';
import { COMMANDS, UsageError } from '../src/commands.js';

const LLM = 'https://llm.example.com/';
const HOUR_MS = 3_600_000;

describe('operator commands', () => {
  let test: TestDatabase;
  let config: Config;
  let directory: string;

  /** Runs a command the way main does, collecting what it prints. */
  const run = async (
    words: string,
    options: Record<string, string | boolean> = {},
    positionals: string[] = [],
    database: Database = test.database,
  ) => {
    const command = COMMANDS.find((candidate) => candidate.path.join(' ') === words);

    if (command === undefined) {
      throw new Error(`no command ${words}`);
    }

    const lines: string[] = [];
    const code = await command.run({
      options,
      positionals,
      config,
      database,
      print: (line) => lines.push(line),
    });

    return { code: code ?? 0, output: lines.join('\n') };
  };

  /** Usage of one agent's token, reported through core as a gateway would. */
  const recordUsage = async () => {
    const { db } = test.database;
    const { agent } = await createAgent(
      db,
      { name: 'cli-agent', owner: 'ops', tools: ['llm'], audiences: [LLM] },
      CLI_AUDIT,
    );
    const { resource_server: server } = await createResourceServer(
      db,
      { name: 'cli-gateway', audience: LLM },
      CLI_AUDIT,
    );
    const tokenId = tokenIdOf('cli-token');
    await insertIssuedToken(db, {
      token: {
        tokenId,
        clientPk: agent.id,
        sessionId: null,
        model: 'AccessToken',
        audience: LLM,
        scope: 'llm',
        payload: {},
        issuedAt: new Date(Date.now() - HOUR_MS),
        expiresAt: new Date(Date.now() + HOUR_MS),
      },
      events: [{ kind: LedgerKind.tokenIssued, agentId: agent.id, tokenId }],
    });

    const reporter = { id: server.id, clientId: server.client_id, audience: LLM };
    const body = { token_id: tokenId, tool: 'llm', input_tokens: 120, output_tokens: 30 };
    await ingestUsage(db, reporter, { ...body, idempotency_key: 'a' }, CLI_AUDIT);
    await ingestUsage(
      db,
      reporter,
      { ...body, cost: '0.42', currency: 'USD', idempotency_key: 'b' },
      CLI_AUDIT,
    );
  };

  beforeAll(async () => {
    test = await createTestDatabase();
    config = loadConfig({ TOLLGATE_ISSUER: 'http://127.0.0.1:1', TOLLGATE_MIGRATE: 'false' });
    directory = await mkdtemp(join(tmpdir(), 'tollgate-cli-'));
    await recordUsage();
  });

  afterAll(async () => {
    await test.drop();
    await rm(directory, { recursive: true, force: true });
  });

  it('offers the report and ledger commands under their contractual names', () => {
    const names = COMMANDS.map((command) => command.path.join(' '));

    expect(names).toEqual(
      expect.arrayContaining([
        'report spend',
        'report governance',
        'ledger verify',
        'ledger seal',
        'ledger archive',
        'ledger verify-archive',
      ]),
    );
  });

  describe('report spend', () => {
    it('prints an aligned table by default', async () => {
      const { output } = await run('report spend', { 'group-by': 'agent,tool' });
      const [title, header, ...rows] = output.split('\n');

      expect(title).toMatch(/^spend from .* by agent, tool$/);
      expect(header).toMatch(/^agent_id +agent_name +tool +currency +reports +calls/);
      expect(rows).toHaveLength(2);
      expect(rows.every((row) => row.includes('cli-agent') && row.includes('150'))).toBe(true);
      // Numbers are right-aligned under their header.
      const llmEnd = (header ?? '').indexOf('llm_tokens') + 'llm_tokens'.length;
      expect(rows.map((row) => row.lastIndexOf(' 150') + ' 150'.length)).toEqual([llmEnd, llmEnd]);
    });

    it('prints CSV and JSON when asked, not both', async () => {
      const csv = await run('report spend', { csv: true });
      const json = await run('report spend', { json: true });
      const report = JSON.parse(json.output) as { rows: { llm_tokens: number }[] };

      expect(csv.output.split('\r\n')[0]).toBe(
        'agent_id,agent_name,currency,reports,calls,input_tokens,output_tokens,llm_tokens,cost',
      );
      expect(csv.output.split('\r\n')).toHaveLength(3);
      expect(report.rows.map((row) => row.llm_tokens)).toEqual([150, 150]);
      await expect(run('report spend', { csv: true, json: true })).rejects.toThrow(UsageError);
    });

    it('leaves a wrong period to core, which names the field', async () => {
      await expect(run('report spend', { from: 'soon' })).rejects.toMatchObject({
        code: 'invalid_input',
        errors: [{ path: 'from', message: expect.any(String) }],
      });
    });
  });

  it('report governance prints coverage as a percentage, then offenders', async () => {
    const { output } = await run('report governance');
    const json = JSON.parse((await run('report governance', { json: true })).output) as {
      coverage: number;
    };

    expect(output).toMatch(/^coverage: \d+\.\d{2}% \(weighted by llm_tokens\)$/m);
    expect(output).toContain(`coverage: ${(json.coverage * 100).toFixed(2)}%`);
    expect(output).toMatch(/agent identity +100\.00%/);
  });

  describe('ledger', () => {
    it('seals and verifies; a broken chain exits 1 naming the first broken link', async () => {
      const sealed = await run('ledger seal');
      const verified = await run('ledger verify');
      const asJson = await run('ledger verify', { json: true });
      const broken = await withTamperedChain((database) => run('ledger verify', {}, [], database));

      expect(sealed.output).toMatch(/^sealed [1-9]\d* events$/);
      expect(verified).toEqual({ code: 0, output: expect.stringMatching(/^ledger chain intact/) });
      expect(JSON.parse(asJson.output)).toMatchObject({ ok: true, unsealed: 0 });
      expect(broken.code).toBe(1);
      expect(broken.output).toMatch(/^ledger chain BROKEN at seq 2 \(event \d+\): event_altered/);
    });

    it('archives to a new file only, which verifies on its own', async () => {
      const file = join(directory, 'ledger.jsonl');
      const before = new Date(Date.now() + 60_000).toISOString();
      const archived = await run('ledger archive', { before, out: file });
      const lines = (await readFile(file, 'utf8')).trim().split('\n');
      const again = run('ledger archive', { before, out: file });
      const verified = await run('ledger verify-archive', {}, [file]);

      expect(archived.output).toMatch(new RegExp(`^archived ${lines.length} events`));
      await expect(again).rejects.toThrow(/already exists/);
      expect(verified).toEqual({ code: 0, output: `archive intact: ${lines.length} links` });
      expect((await run('ledger verify')).code).toBe(0);

      const damaged = join(directory, 'damaged.jsonl');
      await writeFile(damaged, lines.slice(1).reverse().join('\n'));
      expect((await run('ledger verify-archive', {}, [damaged])).code).toBe(1);
    });

    it('writes no file when there is nothing to archive', async () => {
      const file = join(directory, 'empty.jsonl');
      const result = await run('ledger archive', { before: '2001-01-01', out: file });

      expect(result.output).toBe('nothing to archive before 2001-01-01T00:00:00.000Z');
      await expect(stat(file)).rejects.toMatchObject({ code: 'ENOENT' });
      await expect(run('ledger archive', { before: 'someday', out: file })).rejects.toThrow(
        UsageError,
      );
    });
  });

  /** Runs work against a copy of the chain whose second event was changed. */
  async function withTamperedChain<T>(work: (database: Database) => Promise<T>): Promise<T> {
    const schema = `tamper_${randomBytes(4).toString('hex')}`;

    await test.database.scriptTransaction(async (sql) => {
      await sql(`CREATE SCHEMA ${schema}`);

      for (const table of ['ledger_chain', 'ledger_events', 'ledger_checkpoints']) {
        await sql(`CREATE TABLE ${schema}.${table} AS SELECT * FROM public.${table}`);
      }

      await sql(
        `UPDATE ${schema}.ledger_events SET data = '{"forged": true}'
         WHERE id = (SELECT event_id FROM ${schema}.ledger_chain WHERE seq = 2)`,
      );
    });

    return work({ ...test.database, db: test.database.db.withSchema(schema) });
  }
});
