import {
  expectOAuthError,
  introspect,
  postForm,
  requestToken,
  revoke,
  wrongSecret,
  type OAuthReply,
} from './support/oauth.js';
import {
  disableAgent,
  registerAgent,
  registerResourceServer,
  type RegisteredAgent,
  type RegisteredResourceServer,
} from './support/registry.js';
import { basicAuth, startTestTollgate, type TestTollgate } from './support/tollgate.js';

const TOOLS = 'https://tools.example.com/';
const MAIL = 'https://mail.example.com/';
const ADMIN = 'urn:tollgate:admin';

describe('token endpoint errors (RFC 6749 §5.2, RFC 8707)', () => {
  let tollgate: TestTollgate;
  let resourceServer: RegisteredResourceServer;
  /** One audience, two tools. */
  let agent: RegisteredAgent;
  /** Two audiences: must always name one. */
  let twoAudiences: RegisteredAgent;

  const raw = (form: string, credentials: RegisteredAgent = agent): Promise<OAuthReply> =>
    requestToken(tollgate, credentials, form);

  beforeAll(async () => {
    tollgate = await startTestTollgate();
    resourceServer = await registerResourceServer(tollgate, TOOLS);
    agent = await registerAgent(tollgate, {
      tools: ['search', 'tickets.read'],
      audiences: [TOOLS],
    });
    twoAudiences = await registerAgent(tollgate, { tools: ['search'], audiences: [TOOLS, MAIL] });
  });

  afterAll(async () => {
    await tollgate.stop();
  });

  it('answers a Bearer token that is not cacheable (RFC 6749 §5.1)', async () => {
    const reply = await requestToken(tollgate, agent, { scope: 'search tickets.read' });

    expect(reply.status).toBe(200);
    expect(reply.headers.get('cache-control')).toBe('no-store');
    expect(reply.body).toMatchObject({
      token_type: 'Bearer',
      expires_in: 600,
      scope: 'search tickets.read',
    });
    expect(reply.body.access_token).toEqual(expect.any(String));
    expect(reply.body).not.toHaveProperty('refresh_token');
  });

  describe('scope', () => {
    it.each([
      ['a tool the agent is not allowed', 'invalid_scope', { scope: 'deploy' }],
      ['an allowed tool next to one that is not', 'invalid_scope', { scope: 'search deploy' }],
      ['no scope at all', 'invalid_scope', {}],
      ['the admin scope', 'invalid_scope', { scope: 'admin' }],
      [
        'the admin scope for the admin audience',
        'invalid_target',
        { scope: 'admin', resource: ADMIN },
      ],
    ])('refuses %s with %s', async (_label, error, parameters) => {
      expectOAuthError(await requestToken(tollgate, agent, parameters), 400, error);
    });
  });

  describe('resource indicators', () => {
    it('refuses an audience the agent may not call with invalid_target', async () => {
      const reply = await requestToken(tollgate, agent, { scope: 'search', resource: MAIL });

      expectOAuthError(reply, 400, 'invalid_target');
    });

    it('refuses a request without resource from an agent with two audiences', async () => {
      const reply = await requestToken(tollgate, twoAudiences, { scope: 'search' });

      expectOAuthError(reply, 400, 'invalid_target');
    });

    it('refuses two resources in one request (one audience per token)', async () => {
      const form = new URLSearchParams({ grant_type: 'client_credentials', scope: 'search' });
      form.append('resource', TOOLS);
      form.append('resource', MAIL);

      expectOAuthError(await raw(form.toString(), twoAudiences), 400, 'invalid_target');
    });

    it('refuses a resource with a fragment (RFC 8707 §2)', async () => {
      const reply = await requestToken(tollgate, agent, {
        scope: 'search',
        resource: `${TOOLS}#section`,
      });

      expectOAuthError(reply, 400, 'invalid_target');
    });

    it('matches an upper-case scheme and host to the registered audience (RI-04)', async () => {
      const reply = await requestToken(tollgate, agent, {
        scope: 'search',
        resource: 'HTTPS://TOOLS.Example.COM',
      });
      const token = String(reply.body.access_token);
      const introspection = await introspect(tollgate, resourceServer, token);

      expect(reply.status).toBe(200);
      expect(introspection.body).toMatchObject({ active: true, aud: TOOLS });
    });
  });

  describe('client authentication', () => {
    it('answers a wrong secret with 401 invalid_client and a Basic challenge', async () => {
      const reply = await requestToken(
        tollgate,
        { ...agent, secret: wrongSecret(agent.secret) },
        { scope: 'search' },
      );

      expectOAuthError(reply, 401, 'invalid_client');
      expect(reply.body).not.toHaveProperty('access_token');
      // RFC 6749 §5.2: a client that used the Authorization header gets a matching challenge.
      expect(reply.headers.get('www-authenticate')).toMatch(/^Basic /);
    });

    it('answers an unknown client with 401 invalid_client', async () => {
      const reply = await requestToken(
        tollgate,
        { clientId: 'agt_000000000000000000000000', secret: agent.secret },
        { scope: 'search' },
      );

      expectOAuthError(reply, 401, 'invalid_client');
    });

    it('answers a disabled agent with 401 invalid_client', async () => {
      const disabled = await registerAgent(tollgate, { tools: ['search'], audiences: [TOOLS] });

      await disableAgent(tollgate, disabled.id);
      const reply = await requestToken(tollgate, disabled, { scope: 'search' });

      expectOAuthError(reply, 401, 'invalid_client');
    });

    it('answers a request without any client authentication with 401 invalid_client', async () => {
      const reply = await requestToken(tollgate, undefined, { scope: 'search' });

      // RFC 6749 §5.2: invalid_client covers "no client authentication included".
      expectOAuthError(reply, 401, 'invalid_client');
    });
  });

  describe('request syntax', () => {
    it.each([
      [
        'a duplicated grant_type',
        'grant_type=client_credentials&grant_type=client_credentials&scope=search',
      ],
      ['a duplicated scope', 'grant_type=client_credentials&scope=search&scope=search'],
      ['a missing grant_type', 'scope=search'],
    ])('refuses %s with invalid_request', async (_label, form) => {
      expectOAuthError(await raw(form), 400, 'invalid_request');
    });

    it('refuses client_credentials to a resource server with unauthorized_client', async () => {
      const reply = await requestToken(tollgate, resourceServer, { scope: 'search' });

      expectOAuthError(reply, 400, 'unauthorized_client');
    });

    it('refuses an unsupported grant type with unsupported_grant_type', async () => {
      expectOAuthError(
        await raw('grant_type=password&username=a&password=b&scope=search'),
        400,
        'unsupported_grant_type',
      );
    });
  });

  describe('the other endpoints', () => {
    it('marks revocation errors as not cacheable, like every other error', async () => {
      const other = await registerAgent(tollgate, { tools: ['search'], audiences: [TOOLS] });
      const issued = await requestToken(tollgate, agent, { scope: 'search' });
      const reply = await revoke(tollgate, other, String(issued.body.access_token));

      expectOAuthError(reply, 400, 'invalid_request');
    });

    it('answers a wrong secret at introspection with a Basic challenge too', async () => {
      const reply = await postForm(tollgate, 'token/introspection', 'token=x', {
        authorization: basicAuth(resourceServer.clientId, 'tgsk_wrong'),
      });

      expectOAuthError(reply, 401, 'invalid_client');
      expect(reply.headers.get('www-authenticate')).toMatch(/^Basic /);
    });
  });
});
