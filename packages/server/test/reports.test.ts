import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';

import { CLI_AUDIT, createTrustedIssuer } from '@tollgate/core';
import { updateClient, type LedgerEventRow } from '@tollgate/db';

import { exchangeOk, TokenTypeUri } from './support/exchange.js';
import {
  IDP_AUDIENCE,
  startIdentityProvider,
  type TestIdentityProvider,
} from './support/identity-provider.js';
import { adminCall, startTestTollgate, type TestTollgate } from './support/tollgate.js';
import {
  ageToken,
  eventsOf,
  reportOk,
  sessionOfToken,
  spendAgent,
  spendServer,
  tokenOf,
  usageOf,
  type SpendClient,
} from './support/usage.js';

const LLM = 'https://llm.example.com/';
const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;
const MINUTES_PER_DAY = 1440;
/** A name a spreadsheet would run as a formula, with a comma and quotes to escape as well. */
const FORMULA_NAME = '=SUM(A1,A2) "quoted"';

type Line = Record<string, string | number | null>;

interface UsageData {
  tool: string;
  model: string | null;
  input_tokens: number;
  output_tokens: number;
  calls: number;
  cost: string | null;
  currency: string | null;
  occurred_at: string;
}

interface Totals {
  reports: number;
  calls: number;
  input_tokens: number;
  output_tokens: number;
  llm_tokens: number;
  /** In millionths; null when no report of the group had a cost. */
  cost: number | null;
}

/** Costs in millionths, so that sums are exact. */
const micros = (cost: string): number => Math.round(Number(cost) * 1e6);

/** The report columns each dimension contributes, read from a `usage.reported` event. */
const KEYS_OF: Record<string, (event: LedgerEventRow, data: UsageData) => Line> = {
  agent: (event) => ({ agent_id: event.agent_id }),
  person: (event) => ({ person: event.subject }),
  tool: (_, data) => ({ tool: data.tool }),
  day: (_, data) => ({ day: data.occurred_at.slice(0, 10) }),
  model: (_, data) => ({ model: data.model }),
};

/** What a spend report must say, summed from the ledger's `usage.reported` events. */
function expectedSpend(events: LedgerEventRow[], dimensions: string[]): Line[] {
  const groups = new Map<string, Line & Totals>();

  for (const event of events) {
    const data = event.data as unknown as UsageData;
    const keys: Line = Object.assign(
      {},
      ...dimensions.map((dimension) => KEYS_OF[dimension]?.(event, data)),
      { currency: data.currency },
    );
    const id = JSON.stringify(keys);
    const group = groups.get(id) ?? {
      ...keys,
      reports: 0,
      calls: 0,
      input_tokens: 0,
      output_tokens: 0,
      llm_tokens: 0,
      cost: null,
    };

    group.reports += 1;
    group.calls += data.calls;
    group.input_tokens += data.input_tokens;
    group.output_tokens += data.output_tokens;
    group.llm_tokens += data.input_tokens + data.output_tokens;
    group.cost = data.cost === null ? group.cost : (group.cost ?? 0) + micros(data.cost);
    groups.set(id, group);
  }

  return sortLines([...groups.values()]);
}

/** Report rows in the shape expectedSpend builds: its keys, totals, costs in millionths. */
function comparable(rows: Line[], dimensions: string[]): Line[] {
  const keys = dimensions.flatMap((dimension) =>
    dimension === 'agent' ? ['agent_id'] : [dimension],
  );

  return sortLines(
    rows.map((row) => ({
      ...Object.fromEntries(keys.map((key) => [key, row[key] ?? null])),
      currency: row.currency ?? null,
      reports: row.reports ?? null,
      calls: row.calls ?? null,
      input_tokens: row.input_tokens ?? null,
      output_tokens: row.output_tokens ?? null,
      llm_tokens: row.llm_tokens ?? null,
      cost: typeof row.cost === 'string' ? micros(row.cost) : null,
    })),
  );
}

const sortLines = (lines: Line[]): Line[] =>
  [...lines].sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)));

/** A minimal RFC 4180 reader: quoted cells, doubled quotes, CRLF line ends. */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let cell = '';
  let quoted = false;

  for (let index = 0; index < text.length; index += 1) {
    const char = text[index];

    if (quoted && char === '"' && text[index + 1] === '"') {
      cell += '"';
      index += 1;
    } else if (char === '"') {
      quoted = !quoted;
    } else if (!quoted && char === ',') {
      row.push(cell);
      cell = '';
    } else if (!quoted && char === '\r' && text[index + 1] === '\n') {
      rows.push([...row, cell]);
      row = [];
      cell = '';
      index += 1;
    } else {
      cell += char;
    }
  }

  return rows;
}

describe('spend and governance reports', () => {
  let tollgate: TestTollgate;
  let idp: TestIdentityProvider;
  let gateway: SpendClient;
  let writer: SpendClient;
  let ownToken: string;
  const period = { from: '', to: '' };

  /** A GET on the management API with a chosen Accept header; the raw answer. */
  const adminGet = async (path: string, accept = 'application/json') => {
    const response = await fetch(`${tollgate.adminUrl}${path}`, {
      headers: { authorization: `Bearer ${await tollgate.adminToken()}`, accept },
    });

    return { status: response.status, headers: response.headers, text: await response.text() };
  };

  const spend = async (groupBy: string) => {
    const query = new URLSearchParams({ group_by: groupBy, ...period });
    const reply = await adminCall(tollgate, 'GET', `/v1/reports/spend?${query}`);

    expect(reply.status).toBe(200);

    return reply.json as { group_by: string[]; rows: Line[] };
  };

  /** Usage events inside the report period, as the ledger recorded them. */
  const usageEvents = async () =>
    (await eventsOf(tollgate, ['usage.reported'])).filter((event) => {
      const at = String((event.data as unknown as UsageData).occurred_at);

      return at >= period.from && at < period.to;
    });

  const actFor = async (agent: SpendClient, person: string) =>
    (
      await exchangeOk(tollgate, agent, {
        subject_token: await idp.userToken({ sub: person }),
        subject_token_type: TokenTypeUri.jwt,
        scope: 'llm',
        resource: LLM,
      })
    ).access_token;

  const use = (token: string, fields: Record<string, unknown>) =>
    reportOk(tollgate, gateway, usageOf(token, fields));

  beforeAll(async () => {
    tollgate = await startTestTollgate();
    idp = await startIdentityProvider();
    await createTrustedIssuer(
      tollgate.test.database.db,
      { issuer: idp.issuer, jwks_uri: idp.jwksUri, audiences: [IDP_AUDIENCE] },
      CLI_AUDIT,
    );
    gateway = await spendServer(tollgate, LLM);
    writer = await spendAgent(tollgate, {
      name: 'writer',
      owner: 'team-a',
      tools: ['llm', 'search'],
      audiences: [LLM],
      delegation: { trusted_issuers: [idp.issuer] },
    });
    const formula = await spendAgent(tollgate, {
      name: FORMULA_NAME,
      owner: 'team-b',
      tools: ['llm'],
      audiences: [LLM],
    });

    ownToken = await tokenOf(tollgate, writer, 'llm search');
    await use(ownToken, { input_tokens: 100, output_tokens: 20, cost: '0.5', currency: 'USD' });
    await use(ownToken, { tool: 'search', input_tokens: 5, calls: 3 });
    await use(ownToken, {
      model: 'small',
      input_tokens: 30,
      output_tokens: 10,
      cost: '0.25',
      currency: 'EUR',
    });

    const forAlice = await actFor(writer, 'alice@example.com');
    const forBob = await actFor(writer, 'bob@example.com');
    await use(forAlice, { input_tokens: 200, output_tokens: 50, cost: '1.25', currency: 'USD' });
    await use(forBob, { input_tokens: 40, cost: '0.1', currency: 'USD' });

    const formulaToken = await tokenOf(tollgate, formula, 'llm');
    await use(formulaToken, {
      input_tokens: 70,
      output_tokens: 7,
      cost: '0.333333',
      currency: 'USD',
    });

    // Earlier days: a token issued three days ago, used on each day since.
    const oldToken = await tokenOf(tollgate, writer, 'llm');
    await ageToken(tollgate, oldToken, { issued: 3 * MINUTES_PER_DAY + 10, ended: 0 });
    for (const daysAgo of [3, 2, 1]) {
      const occurred = new Date(Date.now() - daysAgo * DAY_MS + 5 * 60_000).toISOString();
      await use(oldToken, {
        input_tokens: 10 * daysAgo,
        cost: '0.01',
        currency: 'USD',
        occurred_at: occurred,
      });
    }

    period.from = new Date(Date.now() - 7 * DAY_MS).toISOString();
    period.to = new Date(Date.now() + 60_000).toISOString();
  });

  afterAll(async () => {
    await tollgate.stop();
    await idp.close();
  });

  describe('spend report', () => {
    it.each([['agent'], ['person'], ['tool'], ['day'], ['agent,tool,day'], ['person,model']])(
      'totals by %s equal the sum of the usage.reported events',
      async (groupBy) => {
        const dimensions = groupBy.split(',');
        const report = await spend(groupBy);

        expect(report.group_by).toEqual(dimensions);
        expect(comparable(report.rows, dimensions)).toEqual(
          expectedSpend(await usageEvents(), dimensions),
        );
      },
    );

    it('names agents, people and days in its rows', async () => {
      const byAgent = await spend('agent');
      const byPerson = await spend('person');
      const byDay = await spend('day');

      expect(byAgent.rows).toContainEqual(
        expect.objectContaining({ agent_id: writer.id, agent_name: 'writer', currency: 'EUR' }),
      );
      expect(byPerson.rows.map((row) => row.person)).toEqual(
        expect.arrayContaining(['alice@example.com', 'bob@example.com', null]),
      );
      expect(new Set(byDay.rows.map((row) => row.day)).size).toBe(4);
    });

    it('answers CSV that matches the JSON, with formulas neutralised', async () => {
      const query = new URLSearchParams({ group_by: 'agent,tool', ...period });
      const json = await spend('agent,tool');
      const csv = await adminGet(`/v1/reports/spend?${query}`, 'text/csv');
      const byParameter = await adminGet(`/v1/reports/spend?${query}&format=csv`);
      const [header, ...lines] = parseCsv(csv.text);
      const columns = Object.keys(json.rows[0] ?? {});

      expect(csv.status).toBe(200);
      expect(csv.headers.get('content-type')).toBe('text/csv; charset=utf-8');
      expect(csv.headers.get('content-disposition')).toBe('attachment; filename="spend.csv"');
      expect(byParameter.text).toBe(csv.text);
      expect(header).toEqual(columns);
      expect(lines).toEqual(
        json.rows.map((row) =>
          columns.map((column) => {
            const value = row[column];

            return value === FORMULA_NAME ? `'${value}` : value === null ? '' : String(value);
          }),
        ),
      );
      expect(csv.text).toContain(`"'=SUM(A1,A2) ""quoted"""`);
      expect(csv.text.endsWith('\r\n')).toBe(true);
    });

    it('filters by agent and refuses bad parameters', async () => {
      const query = new URLSearchParams({ agent_id: writer.id, ...period });
      const mine = await adminCall(tollgate, 'GET', `/v1/reports/spend?${query}`);
      const unknownGroup = await adminCall(tollgate, 'GET', '/v1/reports/spend?group_by=colour');
      const reversed = await adminCall(
        tollgate,
        'GET',
        `/v1/reports/spend?from=${period.to}&to=${period.from}`,
      );
      const badDate = await adminCall(tollgate, 'GET', '/v1/reports/spend?from=yesterday');
      const extra = await adminCall(tollgate, 'GET', '/v1/reports/spend?sort=cost');

      expect((mine.json.rows as Line[]).map((row) => row.agent_id)).toEqual(
        Array(3).fill(writer.id),
      );
      expect(unknownGroup.json.errors).toEqual([{ path: 'group_by', message: expect.any(String) }]);
      expect(reversed.json.errors).toEqual([{ path: 'from', message: 'must be before to' }]);
      expect([badDate.status, extra.status]).toEqual([400, 400]);
    });

    it('accepts whole days as period bounds', async () => {
      const today = new Date().toISOString().slice(0, 10);
      const reply = await adminCall(
        tollgate,
        'GET',
        `/v1/reports/spend?group_by=day&from=${today}`,
      );

      expect(reply.status).toBe(200);
      expect(reply.json.from).toBe(`${today}T00:00:00.000Z`);
      expect(new Set((reply.json.rows as Line[]).map((row) => row.day))).toEqual(new Set([today]));
    });
  });

  describe('session statement', () => {
    it('shows what a session spent, in total and per tool', async () => {
      const sessionId = await sessionOfToken(tollgate, ownToken);
      const reply = await adminCall(tollgate, 'GET', `/v1/sessions/${sessionId}/statement`);
      const events = (await usageEvents()).filter((event) => event.session_id === sessionId);
      const body = reply.json as { session: { id: string }; totals: Line[]; by_tool: Line[] };

      expect(reply.status).toBe(200);
      expect(body.session.id).toBe(sessionId);
      expect(comparable(body.totals, [])).toEqual(expectedSpend(events, []));
      expect(comparable(body.by_tool, ['tool'])).toEqual(expectedSpend(events, ['tool']));
      expect(body.by_tool.map((row) => row.tool)).toEqual(['llm', 'llm', 'search']);
    });

    it('answers 404 for an unknown or malformed session id', async () => {
      const unknown = '00000000-0000-4000-8000-000000000000';

      expect((await adminCall(tollgate, 'GET', `/v1/sessions/${unknown}/statement`)).status).toBe(
        404,
      );
      expect((await adminCall(tollgate, 'GET', '/v1/sessions/nope/statement')).status).toBe(404);
    });
  });

  describe('governance report', () => {
    it('weighs coverage exactly and lists the offenders', async () => {
      const { db } = tollgate.test.database;
      const owned = await spendAgent(tollgate, { owner: 'gov', tools: ['llm'], audiences: [LLM] });
      const ownerless = await spendAgent(tollgate, { tools: ['llm'], audiences: [LLM] });
      await updateClient(db, ownerless.id, 'agent', { owner: null });
      const closedToken = await tokenOf(tollgate, owned, 'llm');
      const openToken = await tokenOf(tollgate, owned, 'llm');
      const ownerlessToken = await tokenOf(tollgate, ownerless, 'llm');
      const openSession = await sessionOfToken(tollgate, openToken);

      for (const token of [closedToken, ownerlessToken]) {
        await closeByAgent(token);
      }

      // Ten days back, away from the spend report's usage: tokens issued 11 days ago.
      const tenDaysAgo = Date.now() - 10 * DAY_MS;
      const usage = [
        [closedToken, 150],
        [openToken, 250],
        [ownerlessToken, 600],
      ] as const;
      for (const [token, tokens] of usage) {
        await ageToken(tollgate, token, { issued: 11 * MINUTES_PER_DAY, ended: 0 });
        await use(token, { input_tokens: tokens, occurred_at: new Date(tenDaysAgo).toISOString() });
      }

      // The open session's deadline passed, but nothing closed it.
      await tollgate.test.database.scriptTransaction((run) =>
        run(`UPDATE sessions SET deadline = now() - interval '1 minute' WHERE id = $1`, [
          openSession,
        ]),
      );

      const query = new URLSearchParams({
        from: new Date(tenDaysAgo - HOUR_MS).toISOString(),
        to: new Date(tenDaysAgo + HOUR_MS).toISOString(),
      });
      const reply = await adminCall(tollgate, 'GET', `/v1/reports/governance?${query}`);

      expect(reply.status).toBe(200);
      expect(reply.json).toMatchObject({
        coverage: 0.15,
        weighted_by: 'llm_tokens',
        criteria: { agent_identity: 0.4, tool_scoped: 1, session_closed: 0.75 },
        totals: { reports: 3, llm_tokens: 1000 },
      });
      expect(reply.json.offenders).toMatchObject({
        open_sessions_past_deadline: [
          expect.objectContaining({ id: openSession, agent_id: owned.id }),
        ],
        ownerless_agents: [{ agent_id: ownerless.id, agent_name: expect.any(String) }],
      });
    });

    it('counts an empty period as fully covered and checks its parameters', async () => {
      const empty = await adminCall(
        tollgate,
        'GET',
        '/v1/reports/governance?from=2001-01-01&to=2001-01-02&rotation_days=30',
      );
      const badRotation = await adminCall(
        tollgate,
        'GET',
        '/v1/reports/governance?rotation_days=0',
      );

      expect(empty.json).toMatchObject({
        coverage: 1,
        weighted_by: 'reports',
        totals: { reports: 0 },
      });
      expect(badRotation.json.errors).toEqual([
        { path: 'rotation_days', message: expect.any(String) },
      ]);
    });
  });

  describe('OpenAPI document', () => {
    it('describes the answers the report, budget and ledger routes give', async () => {
      const document = (await fetch(`${tollgate.adminUrl}/openapi.json`).then((r) => r.json())) as {
        paths: Record<string, Record<string, { responses: Record<string, { content: object }> }>>;
      };
      const ajv = new Ajv2020({ strict: false });
      addFormats.default(ajv);
      ajv.addSchema(document, 'openapi');
      const check = (name: string, value: unknown) =>
        ajv.validate({ $ref: `openapi#/components/schemas/${name}` }, value) || ajv.errorsText();
      const sessionId = await sessionOfToken(tollgate, ownToken);
      await adminCall(tollgate, 'PUT', '/v1/owners/team-a/budget', { daily_llm_tokens: 1e6 });

      const answers = {
        SpendReport: await adminCall(tollgate, 'GET', '/v1/reports/spend?group_by=agent,model,day'),
        GovernanceReport: await adminCall(tollgate, 'GET', '/v1/reports/governance'),
        SessionStatement: await adminCall(tollgate, 'GET', `/v1/sessions/${sessionId}/statement`),
        OwnerBudgetList: await adminCall(tollgate, 'GET', '/v1/owner-budgets'),
        LedgerSeal: await adminCall(tollgate, 'POST', '/v1/ledger/seal'),
        LedgerVerification: await adminCall(tollgate, 'GET', '/v1/ledger/verify'),
        Agent: await adminCall(tollgate, 'GET', `/v1/agents/${writer.id}`),
      };

      for (const [name, reply] of Object.entries(answers)) {
        expect([name, reply.status, check(name, reply.json)]).toEqual([name, 200, true]);
      }

      expect(
        Object.keys(document.paths['/v1/reports/spend']?.get?.responses['200']?.content ?? {}),
      ).toEqual(['application/json', 'text/csv']);
    });
  });

  /** The agent closes its own session (POST /sessions/close with a token of it). */
  async function closeByAgent(token: string): Promise<void> {
    const response = await fetch(`${tollgate.issuer}/sessions/close`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}` },
    });

    expect(response.status).toBe(200);
  }
});
