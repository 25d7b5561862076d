import { createTestDatabase, type TestDatabase } from '../../db/test/support/database.js';
import { expectOAuthError, introspect, requestToken, type OAuthReply } from './support/oauth.js';
import { adminExpect, registerAgent, registerResourceServer } from './support/registry.js';
import { startTestTollgate, type TestTollgate } from './support/tollgate.js';

const AUDIENCE = 'https://tools.example.com/';

/** Kysely's plugin interface, as the test database's handle accepts it. */
type KyselyPlugin = Parameters<TestDatabase['database']['db']['withPlugin']>[0];
type ResultArgs = Parameters<KyselyPlugin['transformResult']>[0];

/**
 * Holds the result of the next client read of one client_id until released: the read has run
 * (its snapshot is taken) but its answer is still on its way, as on a slow network.
 */
class SlowClientRead implements KyselyPlugin {
  #target: string | undefined;
  #waiting: (() => void)[] = [];
  #reached: (() => void) | undefined;
  reached: Promise<void> = Promise.resolve();

  hold(clientId: string): void {
    this.#target = clientId;
    this.reached = new Promise((resolve) => (this.#reached = resolve));
  }

  release(): void {
    this.#target = undefined;
    this.#waiting.splice(0).forEach((resolve) => resolve());
  }

  transformQuery: KyselyPlugin['transformQuery'] = (args) => args.node;

  async transformResult(args: ResultArgs): Promise<ResultArgs['result']> {
    const row = args.result.rows[0];

    if (
      this.#target !== undefined &&
      row !== undefined &&
      'live_secrets' in row &&
      row.client_id === this.#target
    ) {
      this.#reached?.();
      await new Promise<void>((resolve) => this.#waiting.push(resolve));
    }

    return args.result;
  }
}

/**
 * A request that arrives while another request's read of the same client is still in flight
 * shares that read. When a change committed in between (and its notification is late or lost),
 * the shared row predates the change although the request does not: it must then be confirmed
 * like a row from memory, or the change does not hold "at once" for that request.
 */
describe.each([
  ['with the client cache', {}],
  ['without it (control)', { TOLLGATE_CLIENT_CACHE_SECONDS: '0' }],
])('a client read shared with a request that began after a change, %s', (_label, env) => {
  let test: TestDatabase;
  let tollgate: TestTollgate;
  const slow = new SlowClientRead();

  beforeAll(async () => {
    test = await createTestDatabase();
    const silentFeed: TestDatabase['database']['listen'] = async () => async () => undefined;
    test = {
      ...test,
      database: { ...test.database, db: test.database.db.withPlugin(slow), listen: silentFeed },
    };
    tollgate = await startTestTollgate({ database: test, env });
  });

  afterAll(async () => {
    slow.release();
    await tollgate.stop();
  });

  async function agentToken(audience: string): Promise<string> {
    const agent = await registerAgent(tollgate, { tools: ['search'], audiences: [audience] });
    const reply = await requestToken(tollgate, agent, { scope: 'search', resource: audience });
    expect(reply.status).toBe(200);

    return String(reply.body.access_token);
  }

  /** Starts `before`, lets `change` commit while its client read is held, then sends `after`. */
  async function raceOneRead(
    clientId: string,
    before: () => Promise<OAuthReply>,
    change: () => Promise<unknown>,
    after: () => Promise<OAuthReply>,
  ): Promise<OAuthReply> {
    await tollgate.adminToken();
    slow.hold(clientId);
    const first = before();
    await slow.reached;

    await change();
    const second = after();
    await new Promise((resolve) => setTimeout(resolve, 200));
    slow.release();
    await first;

    return second;
  }

  it('refuses introspection to a resource server disabled before the request', async () => {
    const token = await agentToken('https://disabled.example.com/');
    const caller = await registerResourceServer(tollgate, 'https://disabled.example.com/');

    const after = await raceOneRead(
      caller.clientId,
      () => introspect(tollgate, caller, token),
      () => adminExpect(tollgate, 200, 'POST', `/v1/resource-servers/${caller.id}/disable`),
      () => introspect(tollgate, caller, token),
    );

    expect(after.body.active).toBeUndefined();
    expectOAuthError(after, 401, 'invalid_client');
  });

  it('refuses introspection with a secret revoked before the request', async () => {
    const token = await agentToken('https://revoked.example.com/');
    const caller = await registerResourceServer(tollgate, 'https://revoked.example.com/');

    const after = await raceOneRead(
      caller.clientId,
      () => introspect(tollgate, caller, token),
      // The management API has no route for resource server secrets: revoke it in the database.
      () =>
        test.database.db
          .updateTable('client_secrets')
          .set({ revoked_at: new Date() })
          .where('id', '=', caller.secretId)
          .execute(),
      () => introspect(tollgate, caller, token),
    );

    expect(after.body.active).toBeUndefined();
    expectOAuthError(after, 401, 'invalid_client');
  });

  it('refuses a token to an agent disabled before the request was sent (holds today)', async () => {
    const agent = await registerAgent(tollgate, { tools: ['search'], audiences: [AUDIENCE] });
    const ask = () => requestToken(tollgate, agent, { scope: 'search', resource: AUDIENCE });

    const after = await raceOneRead(
      agent.clientId,
      ask,
      () => adminExpect(tollgate, 200, 'POST', `/v1/agents/${agent.id}/disable`),
      ask,
    );

    expectOAuthError(after, 401, 'invalid_client');
  });
});
