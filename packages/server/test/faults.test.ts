import { createAdmin, CLI_AUDIT } from '@tollgate/core';

import { createTestDatabase, type TestDatabase } from '../../db/test/support/database.js';
import { openBackendKiller, withApplicationName } from './support/backend-killer.js';
import {
  childEnv,
  createAdminWithCli,
  ensureBuilt,
  spawnServer,
  type ChildServer,
} from './support/child-server.js';
import { basic, hung, postForm, REQUEST_TIMEOUT_MS, send } from './support/deadline-fetch.js';
import { startInstance } from './support/instance.js';
import { issuedCountFor, issuedEventCounts } from './support/issued-events.js';
import { postOverFreshConnection, runConcurrently, type WireOutcome } from './support/load.js';
import {
  registerAgent,
  registerResourceServer,
  type RegisteredAgent,
  type RegisteredResourceServer,
} from './support/registry.js';
import { startTcpProxy, type TcpProxy } from './support/tcp-proxy.js';
import { clientCredentialsToken, freePort, type TestTollgate } from './support/tollgate.js';

const AUDIENCE = 'https://tools.example.com/';

/** Faults of a real database server and of a real process; the embedded engine has neither. */
const describePostgres = process.env.DATABASE_URL === undefined ? describe.skip : describe;

const tokenRequest = (instance: TestTollgate, agent: RegisteredAgent) =>
  postForm(`${instance.issuer}/token`, agent, {
    grant_type: 'client_credentials',
    scope: 'search',
  });

const tokenForm = 'grant_type=client_credentials&scope=search';

function urlOf(test: TestDatabase): string {
  if (test.url === undefined) throw new Error('a Postgres test database has a URL');

  return test.url;
}

async function adminOf(test: TestDatabase) {
  const created = await createAdmin(test.database.db, 'faults-admin', CLI_AUDIT);

  return { clientId: created.client_id, clientSecret: created.client_secret };
}

describePostgres('database unreachable', () => {
  let test: TestDatabase;
  let proxy: TcpProxy;
  let tollgate: TestTollgate;
  let agent: RegisteredAgent;
  let resourceServer: RegisteredResourceServer;
  let token: string;
  let adminBearer: string;

  /** Every kind of endpoint, summarised so that one failure shows the whole picture. */
  async function survey() {
    const replies = {
      token: await tokenRequest(tollgate, agent),
      introspection: await postForm(`${tollgate.issuer}/token/introspection`, resourceServer, {
        token,
      }),
      revocation: await postForm(`${tollgate.issuer}/token/revocation`, agent, { token: 'x' }),
      usage: await send(`${tollgate.issuer}/usage`, {
        method: 'POST',
        headers: { ...basic(resourceServer), 'content-type': 'application/json' },
        body: JSON.stringify({ token, tool: 'search', idempotency_key: 'k', calls: 1 }),
      }),
      sessionClose: await send(`${tollgate.issuer}/sessions/close`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}` },
      }),
      management: await send(`${tollgate.adminUrl}/v1/agents`, {
        headers: { authorization: `Bearer ${adminBearer}` },
      }),
      readyz: await send(`${tollgate.issuer}/readyz`),
      healthz: await send(`${tollgate.issuer}/healthz`),
    };

    return Object.fromEntries(
      Object.entries(replies).map(([name, reply]) => [
        name,
        {
          status: reply.status,
          retryAfter: reply.retryAfter !== null,
          type: reply.contentType.split(';')[0],
          error: reply.body.error ?? reply.body.code,
        },
      ]),
    );
  }

  async function expectServing(): Promise<void> {
    const fresh = await tokenRequest(tollgate, agent);
    const introspected = await postForm(`${tollgate.issuer}/token/introspection`, resourceServer, {
      token,
    });
    const ready = await send(`${tollgate.issuer}/readyz`);
    const management = await send(`${tollgate.adminUrl}/v1/agents/${agent.id}`, {
      headers: { authorization: `Bearer ${adminBearer}` },
    });

    expect({
      token: fresh.status,
      active: introspected.body.active,
      readyz: ready.status,
      management: management.status,
    }).toEqual({ token: 200, active: true, readyz: 200, management: 200 });
  }

  /** Connections the silence left half-open fail on first use; readiness waits them out. */
  async function waitUntilReady(): Promise<void> {
    const deadline = Date.now() + REQUEST_TIMEOUT_MS;

    while (Date.now() < deadline) {
      const ready = await send(`${tollgate.issuer}/readyz`).catch(hung);

      if (ready.status === 200) return;

      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  beforeAll(async () => {
    test = await createTestDatabase('postgres');
    const postgres = new URL(urlOf(test));
    const relayed = new URL(postgres);
    proxy = await startTcpProxy({ host: postgres.hostname, port: Number(postgres.port || 5432) });
    relayed.hostname = '127.0.0.1';
    relayed.port = String(proxy.port);

    tollgate = await startInstance({ test, admin: await adminOf(test), databaseUrl: relayed.href });
    resourceServer = await registerResourceServer(tollgate, AUDIENCE);
    agent = await registerAgent(tollgate, { tools: ['search'], audiences: [AUDIENCE] });
    token = await clientCredentialsToken(tollgate.issuer, agent.clientId, agent.secret, 'search');
    adminBearer = await tollgate.adminToken();
  });

  afterAll(async () => {
    await proxy.restore();
    await tollgate.stop();
    await proxy.close();
    await test.drop();
  });

  it('answers 503 with Retry-After on every endpoint while the database is cut', async () => {
    await proxy.cut();
    const oauth = { status: 503, retryAfter: true, type: 'application/json' };
    const problem = { status: 503, retryAfter: true, type: 'application/problem+json' };

    expect(await survey()).toEqual({
      token: { ...oauth, error: 'temporarily_unavailable' },
      introspection: { ...oauth, error: 'temporarily_unavailable' },
      revocation: { ...oauth, error: 'temporarily_unavailable' },
      usage: { ...problem, error: 'service_unavailable' },
      sessionClose: { ...problem, error: 'service_unavailable' },
      management: { ...problem, error: 'service_unavailable' },
      readyz: { ...oauth, error: undefined },
      healthz: { status: 200, retryAfter: false, type: 'application/json', error: undefined },
    });
  });

  it('recovers without a restart once the database is back', async () => {
    await proxy.restore();

    await expectServing();
  });

  it('answers 503 within 5 s, rather than never, when the database falls silent', async () => {
    proxy.stall();

    try {
      const reply = await tokenRequest(tollgate, agent).catch(hung);

      expect({ status: reply.status, error: reply.body.error }).toEqual({
        status: 503,
        error: 'temporarily_unavailable',
      });
    } finally {
      await proxy.restore();
    }

    await waitUntilReady();
    await expectServing();
  });
});

describePostgres('database connections killed under load', () => {
  const application = `tollgate_faults_${process.pid}`;
  let test: TestDatabase;
  let tollgate: TestTollgate;
  let agent: RegisteredAgent;

  beforeAll(async () => {
    test = await createTestDatabase('postgres');
    tollgate = await startInstance({
      test,
      admin: await adminOf(test),
      databaseUrl: withApplicationName(urlOf(test), application),
    });
    agent = await registerAgent(tollgate, { tools: ['search'], audiences: [AUDIENCE] });
  });

  afterAll(async () => {
    await tollgate.stop();
    await test.drop();
  });

  it('issues no token without its ledger event and answers only 200 or 503', async () => {
    const killer = await openBackendKiller(urlOf(test), application);
    const total = 200;
    let finished = 0;
    const load = runConcurrently(total, 10, async () => {
      const reply = await tokenRequest(tollgate, agent).catch(hung);
      finished += 1;

      return reply;
    });
    const killed = await killer
      .killAt(
        [35, 70, 105, 140],
        () => finished,
        () => finished >= total,
      )
      .finally(() => killer.close());
    const replies = await load;
    const tokens = replies
      .filter((reply) => reply.status === 200)
      .map((reply) => String(reply.body.access_token));

    expect(killed).toBeGreaterThan(0);
    expect(tokens.length).toBeGreaterThan(0);
    expect(replies.filter((reply) => reply.status !== 200 && reply.status !== 503)).toEqual([]);
    expect(replies.filter((reply) => reply.status === 503 && reply.retryAfter === null)).toEqual(
      [],
    );
    expect(await issuedEventCounts(test, tokens)).toEqual(tokens.map(() => 1));
    expect((await tokenRequest(tollgate, agent)).status).toBe(200);
  });
});

describePostgres('the built server in its own process', () => {
  let test: TestDatabase;
  const children: ChildServer[] = [];

  beforeAll(async () => {
    await ensureBuilt();
    test = await createTestDatabase('postgres');
  }, 120_000);

  afterAll(async () => {
    for (const child of children.filter((entry) => entry.child.exitCode === null)) {
      child.child.kill('SIGKILL');
      await child.exited;
    }

    await test.drop();
  });

  /** Spawns `node packages/server/dist/main.js` with an agent registered through its API. */
  async function startChild(application: string) {
    const [port, adminPort] = [await freePort(), await freePort()];
    const publicUrl = `http://127.0.0.1:${port}`;
    const env = childEnv({
      DATABASE_URL: withApplicationName(urlOf(test), application),
      TOLLGATE_ISSUER: publicUrl,
      TOLLGATE_HOST: '127.0.0.1',
      TOLLGATE_PORT: String(port),
      TOLLGATE_ADMIN_PORT: String(adminPort),
      TOLLGATE_MIGRATE: 'false',
      TOLLGATE_BOOTSTRAP_ADMIN: 'false',
      TOLLGATE_LOG_LEVEL: 'warn',
      TOLLGATE_SHUTDOWN_GRACE_SECONDS: '5',
    });
    const server = await spawnServer(env, { publicUrl, adminUrl: `http://127.0.0.1:${adminPort}` });
    children.push(server);
    const admin = await createAdminWithCli(env);
    const bearer = await clientCredentialsToken(
      publicUrl,
      admin.clientId,
      admin.clientSecret,
      'admin',
    );
    const created = await send(`${server.adminUrl}/v1/agents`, {
      method: 'POST',
      headers: { authorization: `Bearer ${bearer}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        name: 'burst',
        owner: 'e2e',
        tools: ['search'],
        audiences: [AUDIENCE],
      }),
    });
    const agent = {
      clientId: String(created.body.client_id),
      secret: String(created.body.client_secret),
    };

    return { server, agent, headers: basic(agent) };
  }

  /** Waits for the process to end; a process still running after `ms` is reported as such. */
  async function exitWithin(server: ChildServer, ms: number): Promise<number | string> {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<string>((resolve) => {
      timer = setTimeout(() => resolve('still running'), ms);
    });

    try {
      return await Promise.race([server.exited, late]);
    } finally {
      clearTimeout(timer);
    }
  }

  const answersOf = (outcomes: WireOutcome[]) =>
    outcomes.flatMap((outcome) => (outcome.kind === 'answered' ? [outcome] : []));

  const tokensOf = (outcomes: WireOutcome[]) =>
    answersOf(outcomes)
      .filter((answer) => answer.status === 200)
      .map((answer) => String((JSON.parse(answer.text) as { access_token?: string }).access_token));

  it('stays up, answering 200 or 503, while its database connections are killed', async () => {
    const application = `tollgate_child_${process.pid}`;
    const { server, headers } = await startChild(application);
    const killer = await openBackendKiller(urlOf(test), application);
    let finished = 0;
    const load = runConcurrently(200, 10, async () => {
      const outcome = await postOverFreshConnection(
        `${server.publicUrl}/token`,
        headers,
        tokenForm,
      );
      finished += 1;

      return outcome;
    });
    const killed = await killer
      .killAt(
        [35, 70, 105, 140],
        () => finished,
        () => finished >= 200,
      )
      .finally(() => killer.close());
    const outcomes = await load;
    const answers = answersOf(outcomes);
    const tokens = tokensOf(outcomes);
    const running = server.child.exitCode === null;
    server.child.kill('SIGTERM');

    expect(killed).toBeGreaterThan(0);
    expect({ running, output: running ? '' : server.output().slice(-2000) }).toEqual({
      running: true,
      output: '',
    });
    expect(outcomes.filter((outcome) => outcome.kind !== 'answered')).toEqual([]);
    expect(answers.filter((answer) => answer.status !== 200 && answer.status !== 503)).toEqual([]);
    expect(
      answers.filter((answer) => answer.status === 503 && !('retry-after' in answer.headers)),
    ).toEqual([]);
    expect(await issuedEventCounts(test, tokens)).toEqual(tokens.map(() => 1));
    expect(await exitWithin(server, 15_000)).toBe(0);
  }, 90_000);

  it('on SIGTERM mid-burst finishes what it accepted, truncates nothing and exits 0', async () => {
    const { server, agent, headers } = await startChild(`tollgate_term_${process.pid}`);
    let answered = 0;
    let signalled = false;

    const outcomes = await runConcurrently(300, 12, async () => {
      const outcome = await postOverFreshConnection(
        `${server.publicUrl}/token`,
        headers,
        tokenForm,
      );

      if (outcome.kind === 'answered' && (answered += 1) === 40) {
        signalled = server.child.kill('SIGTERM');
      }

      return outcome;
    });
    const exitCode = await exitWithin(server, 15_000);
    const tokens = tokensOf(outcomes);

    expect(signalled).toBe(true);
    expect(outcomes.filter((outcome) => outcome.kind === 'truncated')).toEqual([]);
    expect(answersOf(outcomes).filter((answer) => answer.status !== 200)).toEqual([]);
    expect(outcomes.filter((outcome) => outcome.kind === 'refused').length).toBeGreaterThan(0);
    expect({ exitCode, output: exitCode === 0 ? '' : server.output().slice(-2000) }).toEqual({
      exitCode: 0,
      output: '',
    });
    expect(await issuedEventCounts(test, tokens)).toEqual(tokens.map(() => 1));
    // Nothing was issued whose answer never left: every issued token reached its client.
    expect(await issuedCountFor(test, agent.clientId)).toBe(tokens.length);
  }, 90_000);
});
