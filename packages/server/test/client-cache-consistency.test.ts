import { createTestDatabase, type TestDatabase } from '../../db/test/support/database.js';
import {
  expectOAuthError,
  introspect,
  isActive,
  requestToken,
  revoke,
  type Credentials,
} from './support/oauth.js';
import {
  adminExpect,
  addSecret,
  disableAgent,
  registerAgent,
  registerResourceServer,
  revokeSecret,
  type RegisteredAgent,
  type RegisteredResourceServer,
} from './support/registry.js';
import { startTestTollgate, type TestTollgate } from './support/tollgate.js';

const AUDIENCE = 'https://tools.example.com/';

/**
 * Memory may hold a client row that the database has since changed; notifications normally drop
 * it within milliseconds. Here they never arrive (the instance listens on a feed that stays
 * silent), so every stale row stays in memory and only the version check in the statements that
 * act on it stands between a change and the next request. Each change must hold at once anyway.
 */
describe('client rows served from memory, with change notifications lost', () => {
  let test: TestDatabase;
  let tollgate: TestTollgate;
  let resourceServer: RegisteredResourceServer;

  const newAgent = () =>
    registerAgent(tollgate, { tools: ['search', 'mail'], audiences: [AUDIENCE] });

  const tokenRequest = (agent: Credentials, scope = 'search') =>
    requestToken(tollgate, agent, { scope, resource: AUDIENCE });

  /** Gets a token, then proves the agent's row would now be served from memory. */
  async function warm(agent: RegisteredAgent): Promise<string> {
    const reply = await tokenRequest(agent);
    expect(reply.status).toBe(200);

    const cached = await tollgate.server.clientCache?.get(agent.clientId);
    expect(cached?.fromCache).toBe(true);

    return String(reply.body.access_token);
  }

  beforeAll(async () => {
    test = await createTestDatabase();
    const silentFeed: TestDatabase['database']['listen'] = async () => async () => undefined;
    test = { ...test, database: { ...test.database, listen: silentFeed } };
    tollgate = await startTestTollgate({ database: test });
    resourceServer = await registerResourceServer(tollgate, AUDIENCE);
  });

  afterAll(async () => {
    await tollgate.stop();
  });

  it('refuses a disabled agent at once, and stores nothing for it', async () => {
    const agent = await newAgent();
    await warm(agent);
    await disableAgent(tollgate, agent.id);

    const after = await tokenRequest(agent);
    const issued = await tollgate.test.database.db
      .selectFrom('access_tokens')
      .select('token_id')
      .where('client_pk', '=', agent.id)
      .execute();

    expectOAuthError(after, 401, 'invalid_client');
    expect(issued).toHaveLength(1);
  });

  it('refuses a revoked secret at once, and accepts its replacement', async () => {
    const agent = await newAgent();
    await warm(agent);
    const replacement = await addSecret(tollgate, agent.id);
    await revokeSecret(tollgate, agent.id, agent.secretId);

    const withOld = await tokenRequest(agent);
    const withNew = await tokenRequest({ ...agent, secret: replacement.secret });

    expectOAuthError(withOld, 401, 'invalid_client');
    expect(withNew.status).toBe(200);
  });

  it('refuses a tool taken away at once, then explains why', async () => {
    const agent = await newAgent();
    await warm(agent);
    await adminExpect(tollgate, 200, 'PATCH', `/v1/agents/${agent.id}`, { tools: ['search'] });

    const raced = await tokenRequest(agent, 'mail');
    const retried = await tokenRequest(agent, 'mail');
    const allowed = await tokenRequest(agent, 'search');

    expectOAuthError(raced, 401, 'invalid_client');
    expectOAuthError(retried, 400, 'invalid_scope');
    expect(allowed.status).toBe(200);
  });

  it('keeps serving an agent whose change does not affect what it may do', async () => {
    const agent = await newAgent();
    await warm(agent);
    await adminExpect(tollgate, 200, 'PATCH', `/v1/agents/${agent.id}`, { name: 'renamed' });

    const after = await tokenRequest(agent);

    expect(after.status).toBe(200);
  });

  it('refuses revocation by a secret revoked after the row was remembered', async () => {
    const agent = await newAgent();
    const token = await warm(agent);
    const replacement = await addSecret(tollgate, agent.id);
    await revokeSecret(tollgate, agent.id, agent.secretId);

    const withOld = await revoke(tollgate, agent, token);
    const stillActive = await isActive(tollgate, resourceServer, token);
    const withNew = await revoke(tollgate, { ...agent, secret: replacement.secret }, token);

    expectOAuthError(withOld, 401, 'invalid_client');
    expect(stillActive).toBe(true);
    expect(withNew.status).toBe(200);
    expect(await isActive(tollgate, resourceServer, token)).toBe(false);
  });

  it('refuses introspection to a resource server disabled since it was remembered', async () => {
    const agent = await newAgent();
    const token = await warm(agent);
    const caller = await registerResourceServer(tollgate, 'https://other-tools.example.com/');
    expect((await introspect(tollgate, caller, token)).status).toBe(200);
    expect((await tollgate.server.clientCache?.get(caller.clientId))?.fromCache).toBe(true);

    await adminExpect(tollgate, 200, 'POST', `/v1/resource-servers/${caller.id}/disable`);
    const after = await introspect(tollgate, caller, token);

    expectOAuthError(after, 401, 'invalid_client');
    expect(await isActive(tollgate, resourceServer, token)).toBe(true);
  });
});
