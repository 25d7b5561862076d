import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';

import { CLI_AUDIT, createTrustedIssuer, updateTrustedIssuerById } from '@tollgate/core';
import { listLedgerEvents } from '@tollgate/db';
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey } from 'jose';

import {
  actorChain,
  EXCHANGE_GRANT,
  exchange,
  exchangeOk,
  expectInactive,
  form,
  expectRefusal,
  introspectionOf,
  ledgerOf,
  newAgent,
  newResourceServer,
  ownToken,
  TokenTypeUri,
  type AgentSetup,
  type FormParameters,
  type TestAgent,
} from './support/exchange.js';
import {
  IDP_AUDIENCE,
  startIdentityProvider,
  type TestIdentityProvider,
} from './support/identity-provider.js';
import { expectOAuthError, postForm, revoke, type Credentials } from './support/oauth.js';
import { startTestTollgate, type TestTollgate } from './support/tollgate.js';

const TOOLS = 'https://tools.example.com/';
const MAIL = 'https://mail.example.com/';
/** A second trusted issuer that names people by email; it shares the test IdP's key. */
const EMAIL_ISSUER = 'https://id.corp.example';
/** A registered issuer that an operator has since disabled. */
const RETIRED_ISSUER = 'https://retired.example';
const ALICE = 'alice@example.com';
const JWT_BEARER = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';

/** A JWT with `alg: none`: no signature at all. */
const unsignedJwt = (claims: Record<string, unknown>): string => {
  const part = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

  return `${part({ alg: 'none', typ: 'JWT' })}.${part(claims)}.`;
};

describe('RFC 8693 token exchange', () => {
  let tollgate: TestTollgate;
  let idp: TestIdentityProvider;
  let tools: Credentials;
  let mail: Credentials;

  /** An agent that may act for the IdP's users and for other agents' subjects. */
  const delegatingAgent = (extra: Partial<AgentSetup> = {}): Promise<TestAgent> =>
    newAgent(tollgate, {
      tools: ['search', 'mail.send', 'deploy'],
      audiences: [TOOLS],
      delegation: { trusted_issuers: [idp.issuer, tollgate.issuer, EMAIL_ISSUER, RETIRED_ISSUER] },
      ...extra,
    });

  /** The usual delegation request: a user's JWT for the tools audience. */
  const userExchange = async (agent: Credentials, parameters: FormParameters = {}) =>
    exchange(tollgate, agent, {
      subject_token: await idp.userToken(),
      subject_token_type: TokenTypeUri.jwt,
      scope: 'search',
      resource: TOOLS,
      ...parameters,
    });

  const userTokenFor = async (agent: Credentials, claims: Record<string, unknown> = {}) =>
    exchangeOk(tollgate, agent, {
      subject_token: await idp.userToken(claims),
      subject_token_type: TokenTypeUri.jwt,
      scope: 'search mail.send',
      resource: TOOLS,
    });

  const selfIssuedAct = (agent: Credentials, nested?: unknown) => ({
    sub: agent.clientId,
    iss: tollgate.issuer,
    ...(nested === undefined ? {} : { act: nested }),
  });

  beforeAll(async () => {
    tollgate = await startTestTollgate();
    idp = await startIdentityProvider();

    const { db } = tollgate.test.database;
    await createTrustedIssuer(
      db,
      { issuer: idp.issuer, jwks_uri: idp.jwksUri, audiences: [IDP_AUDIENCE] },
      CLI_AUDIT,
    );
    await createTrustedIssuer(
      db,
      {
        issuer: EMAIL_ISSUER,
        jwks: { keys: [idp.publicJwk] },
        audiences: [IDP_AUDIENCE],
        user_claim: 'email',
      },
      CLI_AUDIT,
    );
    const retired = await createTrustedIssuer(
      db,
      {
        issuer: RETIRED_ISSUER,
        jwks: { keys: [idp.publicJwk] },
        audiences: [IDP_AUDIENCE],
      },
      CLI_AUDIT,
    );
    await updateTrustedIssuerById(db, retired.id, { status: 'disabled' }, CLI_AUDIT);
    tools = await newResourceServer(tollgate, TOOLS);
    mail = await newResourceServer(tollgate, MAIL);
  });

  afterAll(async () => {
    await tollgate?.stop();
    await idp?.close();
  });

  describe('request (RFC 8693 §2.1)', () => {
    it('TE-01 accepts the grant and lists it in grant_types_supported', async () => {
      const response = await fetch(`${tollgate.issuer}/.well-known/oauth-authorization-server`);
      const metadata = (await response.json()) as { grant_types_supported?: string[] };

      expect(metadata.grant_types_supported).toContain(EXCHANGE_GRANT);
      expect((await userExchange(await delegatingAgent())).status).toBe(200);
    });

    it.each([
      ['subject_token', { subject_token: undefined }],
      ['subject_token_type', { subject_token_type: undefined }],
      ['an empty subject_token', { subject_token: '' }],
    ])('TE-02 refuses a request without %s with invalid_request', async (_label, parameters) => {
      const agent = await delegatingAgent();

      await expectRefusal(
        tollgate,
        await userExchange(agent, parameters),
        agent,
        'invalid_request',
        'missing_parameter',
      );
    });

    it('TE-03 refuses actor_token without actor_token_type with invalid_request', async () => {
      const agent = await delegatingAgent();
      const actorToken = await ownToken(tollgate, agent, 'search', TOOLS);

      await expectRefusal(
        tollgate,
        await userExchange(agent, { actor_token: actorToken }),
        agent,
        'invalid_request',
        'actor_parameters_unpaired',
      );
    });

    it('TE-03 refuses actor_token_type without actor_token with invalid_request', async () => {
      const agent = await delegatingAgent();

      await expectRefusal(
        tollgate,
        await userExchange(agent, { actor_token_type: TokenTypeUri.accessToken }),
        agent,
        'invalid_request',
        'actor_parameters_unpaired',
      );
    });

    it.each([
      ['saml1', TokenTypeUri.saml1],
      ['saml2', TokenTypeUri.saml2],
      ['refresh_token', TokenTypeUri.refreshToken],
      ['id-jag', 'urn:ietf:params:oauth:token-type:id-jag'],
      ['an unknown URI', 'urn:example:token-type:mystery'],
    ])(
      'TE-04 refuses subject_token_type %s with invalid_request, not unsupported_token_type',
      async (_label, type) => {
        const agent = await delegatingAgent();

        await expectRefusal(
          tollgate,
          await userExchange(agent, { subject_token_type: type }),
          agent,
          'invalid_request',
          'unsupported_subject_token_type',
        );
      },
    );

    it.each([
      ['refresh_token', TokenTypeUri.refreshToken],
      ['id_token', TokenTypeUri.idToken],
      ['jwt', TokenTypeUri.jwt],
      ['saml2', TokenTypeUri.saml2],
    ])(
      'TE-04 refuses requested_token_type %s with invalid_request, not unsupported_token_type',
      async (_label, type) => {
        const agent = await delegatingAgent();

        await expectRefusal(
          tollgate,
          await userExchange(agent, { requested_token_type: type }),
          agent,
          'invalid_request',
          'unsupported_requested_token_type',
        );
      },
    );

    it('TE-04 refuses actor_token_type saml2 with invalid_request', async () => {
      const agent = await delegatingAgent();

      await expectRefusal(
        tollgate,
        await userExchange(agent, {
          actor_token: 'PHNhbWw+',
          actor_token_type: TokenTypeUri.saml2,
        }),
        agent,
        'invalid_request',
        'unsupported_actor_token_type',
      );
    });

    it('TE-04 accepts id_token subjects and an explicit access_token requested_token_type', async () => {
      const agent = await delegatingAgent();
      const reply = await userExchange(agent, {
        subject_token_type: TokenTypeUri.idToken,
        requested_token_type: TokenTypeUri.accessToken,
      });

      expect(reply.status).toBe(200);
      expect(reply.body.issued_token_type).toBe(TokenTypeUri.accessToken);
    });
  });

  describe('subject and actor tokens (RFC 8693 §2.2.2: invalid_request)', () => {
    const invalidSubjects: [string, (agent: TestAgent) => Promise<FormParameters>, string][] = [
      [
        'an expired JWT',
        async () => ({
          subject_token: await idp.userToken({ exp: Math.floor(Date.now() / 1000) - 60 }),
        }),
        'subject_token_invalid',
      ],
      [
        'a JWT with a bad signature',
        async () => {
          const { privateKey } = await generateKeyPair('ES256');

          return { subject_token: await idp.userToken({}, { key: privateKey }) };
        },
        'subject_token_invalid',
      ],
      [
        'a JWT whose aud the issuer does not accept',
        async () => ({ subject_token: await idp.userToken({ aud: 'https://elsewhere.example' }) }),
        'subject_token_invalid',
      ],
      [
        'a JWT from an unknown issuer',
        async () => ({ subject_token: await idp.userToken({ iss: 'https://stranger.example' }) }),
        'subject_issuer_untrusted',
      ],
      [
        'a JWT from a disabled trusted issuer',
        async () => ({ subject_token: await idp.userToken({ iss: RETIRED_ISSUER }) }),
        'subject_issuer_untrusted',
      ],
      [
        'a JWT without the user claim',
        async () => ({ subject_token: await idp.userToken({ iss: EMAIL_ISSUER }) }),
        'subject_claim_missing',
      ],
      [
        'a JWT that is not yet valid',
        async () => ({
          subject_token: await idp.userToken({ nbf: Math.floor(Date.now() / 1000) + 600 }),
        }),
        'subject_token_invalid',
      ],
      [
        'an unsigned JWT (alg none)',
        async () => {
          const now = Math.floor(Date.now() / 1000);

          return {
            subject_token: unsignedJwt({
              iss: idp.issuer,
              aud: IDP_AUDIENCE,
              sub: ALICE,
              exp: now + 300,
            }),
          };
        },
        'subject_token_invalid',
      ],
      [
        'a value that is not a JWT',
        async () => ({ subject_token: 'not-a-jwt' }),
        'subject_token_malformed',
      ],
      [
        'an unknown access token',
        async () => ({
          subject_token: 'bm8tc3VjaC10b2tlbi1ldmVyLWlzc3VlZC1oZXJl',
          subject_token_type: TokenTypeUri.accessToken,
        }),
        'subject_token_inactive',
      ],
      [
        'a revoked access token',
        async (agent) => {
          const token = await ownToken(tollgate, agent, 'search', TOOLS);
          expect((await revoke(tollgate, agent, token)).status).toBe(200);

          return { subject_token: token, subject_token_type: TokenTypeUri.accessToken };
        },
        'subject_token_inactive',
      ],
      [
        'a JWT sent as an access_token',
        async () => ({
          subject_token: await idp.userToken(),
          subject_token_type: TokenTypeUri.accessToken,
        }),
        'subject_token_inactive',
      ],
    ];

    it.each(invalidSubjects)(
      'TE-05 refuses %s with invalid_request (never invalid_grant)',
      async (_label, build, reason) => {
        const agent = await delegatingAgent();

        await expectRefusal(
          tollgate,
          await userExchange(agent, await build(agent)),
          agent,
          'invalid_request',
          reason,
        );
      },
    );

    it('TE-05 refuses a subject outside allowed_subjects with invalid_request', async () => {
      const agent = await delegatingAgent({
        delegation: { trusted_issuers: [idp.issuer], allowed_subjects: ['bob@example.com'] },
      });

      await expectRefusal(
        tollgate,
        await userExchange(agent),
        agent,
        'invalid_request',
        'subject_not_allowed',
      );
      expect(
        (
          await userExchange(agent, {
            subject_token: await idp.userToken({ sub: 'bob@example.com' }),
          })
        ).status,
      ).toBe(200);
    });

    it('TE-05 refuses a trusted issuer the agent policy does not name with invalid_request', async () => {
      const agent = await delegatingAgent({ delegation: { trusted_issuers: [EMAIL_ISSUER] } });

      await expectRefusal(
        tollgate,
        await userExchange(agent),
        agent,
        'invalid_request',
        'issuer_not_allowed_for_agent',
      );
    });

    it('TE-05 reads the person from the issuer user_claim', async () => {
      const agent = await delegatingAgent();
      const issued = await exchangeOk(tollgate, agent, {
        subject_token: await idp.userToken({ iss: EMAIL_ISSUER, email: 'bob@corp.example' }),
        subject_token_type: TokenTypeUri.jwt,
        scope: 'search',
        resource: TOOLS,
      });

      expect(await introspectionOf(tollgate, tools, issued.access_token)).toMatchObject({
        active: true,
        sub: 'bob@corp.example',
        subject_issuer: EMAIL_ISSUER,
      });
    });

    it('TE-05 refuses an actor_token of another agent with invalid_request', async () => {
      const agent = await delegatingAgent();
      const other = await delegatingAgent();
      const othersToken = await ownToken(tollgate, other, 'search', TOOLS);

      await expectRefusal(
        tollgate,
        await userExchange(agent, {
          actor_token: othersToken,
          actor_token_type: TokenTypeUri.accessToken,
        }),
        agent,
        'invalid_request',
        'actor_mismatch',
      );
    });

    it('TE-05 refuses a JWT actor_token signed by someone else with invalid_request', async () => {
      const agent = await delegatingAgent();
      const foreign = await idp.userToken({
        sub: agent.clientId,
        iss: agent.clientId,
        aud: tollgate.issuer,
      });

      await expectRefusal(
        tollgate,
        await userExchange(agent, { actor_token: foreign, actor_token_type: TokenTypeUri.jwt }),
        agent,
        'invalid_request',
        'actor_mismatch',
      );
    });

    it('TE-05 accepts an actor_token JWT signed with the agent registered key', async () => {
      const pair = await generateKeyPair('ES256', { extractable: true });
      const publicJwk = { ...(await exportJWK(pair.publicKey)), kid: 'actor-key', alg: 'ES256' };
      const agent = await delegatingAgent({ jwks: { keys: [publicJwk] } });
      const signed = (audience: string, key: CryptoKey = pair.privateKey) =>
        new SignJWT({})
          .setProtectedHeader({ alg: 'ES256', kid: 'actor-key' })
          .setIssuer(agent.clientId)
          .setSubject(agent.clientId)
          .setAudience(audience)
          .setJti(randomUUID())
          .setIssuedAt()
          .setExpirationTime('60s')
          .sign(key);
      const withActor = async (actorToken: string) =>
        postForm(
          tollgate,
          'token',
          form({
            grant_type: EXCHANGE_GRANT,
            client_id: agent.clientId,
            client_assertion_type: JWT_BEARER,
            client_assertion: await signed(`${tollgate.issuer}/token`),
            subject_token: await idp.userToken(),
            subject_token_type: TokenTypeUri.jwt,
            actor_token: actorToken,
            actor_token_type: TokenTypeUri.jwt,
            scope: 'search',
            resource: TOOLS,
          }),
        );

      const accepted = await withActor(await signed(tollgate.issuer));
      expect(accepted.status).toBe(200);
      expect(
        (await introspectionOf(tollgate, tools, String(accepted.body.access_token))).act,
      ).toStrictEqual(selfIssuedAct(agent));

      const { privateKey: otherKey } = await generateKeyPair('ES256');
      await expectRefusal(
        tollgate,
        await withActor(await signed(tollgate.issuer, otherKey)),
        agent,
        'invalid_request',
        'actor_mismatch',
      );
      await expectRefusal(
        tollgate,
        await withActor(await signed('https://elsewhere.example')),
        agent,
        'invalid_request',
        'actor_mismatch',
      );
    });

    it('TE-05 accepts the agent own live token as actor_token', async () => {
      const agent = await delegatingAgent();
      const actorToken = await ownToken(tollgate, agent, 'search', TOOLS);
      const issued = await exchangeOk(tollgate, agent, {
        subject_token: await idp.userToken(),
        subject_token_type: TokenTypeUri.jwt,
        actor_token: actorToken,
        actor_token_type: TokenTypeUri.accessToken,
        scope: 'search',
        resource: TOOLS,
      });

      expect((await introspectionOf(tollgate, tools, issued.access_token)).act).toStrictEqual(
        selfIssuedAct(agent),
      );
    });
  });

  describe('who may exchange (RFC 6749 §5.2 unauthorized_client)', () => {
    it('refuses an agent whose delegation policy trusts no issuer with unauthorized_client', async () => {
      const agent = await delegatingAgent({ delegation: {} });

      await expectRefusal(
        tollgate,
        await userExchange(agent),
        agent,
        'unauthorized_client',
        'delegation_not_allowed',
      );
    });

    it('refuses such an agent another agent token with unauthorized_client', async () => {
      const agent = await delegatingAgent({ delegation: {} });
      const upstream = await delegatingAgent();
      const upstreamToken = await userTokenFor(upstream);

      await expectRefusal(
        tollgate,
        await exchange(tollgate, agent, {
          subject_token: upstreamToken.access_token,
          subject_token_type: TokenTypeUri.accessToken,
          scope: 'search',
        }),
        agent,
        'unauthorized_client',
        'delegation_not_allowed',
      );
    });

    it('refuses delegation of another agent token unless the policy trusts Tollgate itself', async () => {
      const agent = await delegatingAgent({ delegation: { trusted_issuers: [idp.issuer] } });
      const upstream = await delegatingAgent();
      const upstreamToken = await userTokenFor(upstream);

      await expectRefusal(
        tollgate,
        await exchange(tollgate, agent, {
          subject_token: upstreamToken.access_token,
          subject_token_type: TokenTypeUri.accessToken,
          scope: 'search',
        }),
        agent,
        'invalid_request',
        'issuer_not_allowed_for_agent',
      );
    });

    it('refuses a resource server with unauthorized_client', async () => {
      const reply = await exchange(tollgate, tools, {
        subject_token: await idp.userToken(),
        subject_token_type: TokenTypeUri.jwt,
        scope: 'search',
        resource: TOOLS,
      });

      expectOAuthError(reply, 400, 'unauthorized_client');
    });

    it('records the refused exchange of a resource server and an admin in the ledger', async () => {
      const admin = { clientId: tollgate.admin.clientId, secret: tollgate.admin.clientSecret };

      for (const client of [tools, admin]) {
        const reply = await exchange(tollgate, client, {
          subject_token: await idp.userToken(),
          subject_token_type: TokenTypeUri.jwt,
          scope: 'search',
        });
        expectOAuthError(reply, 400, 'unauthorized_client');
      }

      const refused = await listLedgerEvents(tollgate.test.database.db, {
        kinds: ['exchange.refused'],
        limit: 1000,
      });
      const byClient = (clientId: string) =>
        refused
          .filter((event) => event.client_id === clientId)
          .map((event) => ({
            error: event.data.error,
            hasReason: typeof event.data.reason === 'string',
          }));

      expect({ rs: byClient(tools.clientId), admin: byClient(admin.clientId) }).toEqual({
        rs: [{ error: 'unauthorized_client', hasReason: true }],
        admin: [{ error: 'unauthorized_client', hasReason: true }],
      });
    });

    it('refuses an admin client with unauthorized_client', async () => {
      const admin = { clientId: tollgate.admin.clientId, secret: tollgate.admin.clientSecret };
      const reply = await exchange(tollgate, admin, {
        subject_token: await idp.userToken(),
        subject_token_type: TokenTypeUri.jwt,
        scope: 'admin',
      });

      expectOAuthError(reply, 400, 'unauthorized_client');
    });
  });

  describe('target and scope', () => {
    it('TE-06 refuses two different resources with invalid_target', async () => {
      const agent = await delegatingAgent({ audiences: [TOOLS, MAIL] });

      await expectRefusal(
        tollgate,
        await userExchange(agent, { resource: [TOOLS, MAIL] }),
        agent,
        'invalid_target',
        'several_targets',
      );
    });

    it('TE-06 refuses a resource and an audience naming different targets with invalid_target', async () => {
      const agent = await delegatingAgent({ audiences: [TOOLS, MAIL] });

      await expectRefusal(
        tollgate,
        await userExchange(agent, { resource: TOOLS, audience: MAIL }),
        agent,
        'invalid_target',
        'several_targets',
      );
    });

    it('TE-06 refuses a target the agent may not call with invalid_target', async () => {
      const agent = await delegatingAgent();

      await expectRefusal(
        tollgate,
        await userExchange(agent, { resource: MAIL }),
        agent,
        'invalid_target',
        'target_not_allowed',
      );
    });

    it('TE-06 refuses a resource with a fragment with invalid_target', async () => {
      const agent = await delegatingAgent();

      await expectRefusal(
        tollgate,
        await userExchange(agent, { resource: `${TOOLS}#part` }),
        agent,
        'invalid_target',
      );
    });

    it('TE-06 refuses a missing target when the agent has several audiences', async () => {
      const agent = await delegatingAgent({ audiences: [TOOLS, MAIL] });

      await expectRefusal(
        tollgate,
        await userExchange(agent, { resource: undefined }),
        agent,
        'invalid_target',
        'target_missing',
      );
    });

    it('TE-06 accepts the same target named by resource and audience, and audience alone', async () => {
      const agent = await delegatingAgent({ audiences: [TOOLS, MAIL] });
      const both = await exchangeOk(tollgate, agent, {
        subject_token: await idp.userToken(),
        subject_token_type: TokenTypeUri.jwt,
        scope: 'search',
        resource: TOOLS,
        audience: 'HTTPS://TOOLS.example.com',
      });
      const audienceOnly = await exchangeOk(tollgate, agent, {
        subject_token: await idp.userToken(),
        subject_token_type: TokenTypeUri.jwt,
        scope: 'search',
        audience: TOOLS,
      });

      for (const issued of [both, audienceOnly]) {
        const body = await introspectionOf(tollgate, tools, issued.access_token);

        expect([body.aud].flat()).toEqual([TOOLS]);
      }
    });

    it('TE-07 refuses a tool beyond what may be delegated with invalid_scope', async () => {
      const agent = await delegatingAgent({ tools: ['search'] });

      await expectRefusal(
        tollgate,
        await userExchange(agent, { scope: 'search deploy' }),
        agent,
        'invalid_scope',
        'tools_not_delegable',
      );
    });

    it('TE-07 answers invalid_scope (RFC 6749 §3.3) when a user token comes without scope', async () => {
      const agent = await delegatingAgent();

      await expectRefusal(
        tollgate,
        await userExchange(agent, { scope: undefined }),
        agent,
        'invalid_scope',
        'scope_missing',
      );
    });

    it('TE-07 grants the subject token tools when scope is omitted on a Tollgate token', async () => {
      const agent = await delegatingAgent();
      const first = await userTokenFor(agent);
      const renewed = await exchangeOk(tollgate, agent, {
        subject_token: first.access_token,
        subject_token_type: TokenTypeUri.accessToken,
      });

      expect(renewed.scope).toBe('search mail.send');
    });
  });

  describe('response (RFC 8693 §2.2.1)', () => {
    it('TE-08 answers access_token, issued_token_type, token_type Bearer and no-store', async () => {
      const reply = await userExchange(await delegatingAgent());

      expect(reply.status).toBe(200);
      expect(reply.headers.get('cache-control')).toBe('no-store');
      expect(reply.body).toEqual({
        access_token: expect.any(String),
        issued_token_type: TokenTypeUri.accessToken,
        token_type: 'Bearer',
        expires_in: expect.any(Number),
        scope: 'search',
      });
    });

    it('TE-09 answers scope and expires_in, and no refresh_token for a delegated token', async () => {
      const issued = await userTokenFor(await delegatingAgent());

      expect(issued.scope).toBe('search mail.send');
      expect(issued.expires_in).toBeGreaterThan(0);
      expect(issued).not.toHaveProperty('refresh_token');
    });
  });

  describe('claims (RFC 8693 §4)', () => {
    it('TE-10 keeps sub from the subject token and names the agent in act', async () => {
      const agent = await delegatingAgent();
      const issued = await userTokenFor(agent);
      const body = await introspectionOf(tollgate, tools, issued.access_token);

      expect(body.sub).toBe(ALICE);
      expect(body.act).toStrictEqual(selfIssuedAct(agent));
    });

    it('TE-11 nests the act of a user token behind the current actor', async () => {
      const agent = await delegatingAgent();
      const upstream = { sub: 'planner', iss: 'https://upstream.example' };
      const issued = await userTokenFor(agent, { act: upstream });
      const body = await introspectionOf(tollgate, tools, issued.access_token);

      expect(body.act).toStrictEqual(selfIssuedAct(agent, upstream));
    });

    it('TE-11 nests agents: the agent exchanging another agent token is outermost', async () => {
      const first = await delegatingAgent();
      const second = await delegatingAgent();
      const firstToken = await userTokenFor(first);
      const secondToken = await exchangeOk(tollgate, second, {
        subject_token: firstToken.access_token,
        subject_token_type: TokenTypeUri.accessToken,
        scope: 'search',
      });
      const body = await introspectionOf(tollgate, tools, secondToken.access_token);

      expect(body).toMatchObject({
        sub: ALICE,
        client_id: second.clientId,
        subject_issuer: idp.issuer,
      });
      expect(body.act).toStrictEqual(selfIssuedAct(second, selfIssuedAct(first)));
    });

    it('TE-12 drops exp, nbf and iat from every level of act', async () => {
      const agent = await delegatingAgent();
      const times = { exp: 4_102_444_800, nbf: 1, iat: 1 };
      const issued = await userTokenFor(agent, {
        act: {
          sub: 'planner',
          iss: 'https://upstream.example',
          ...times,
          act: { sub: 'origin', ...times },
        },
      });
      const body = await introspectionOf(tollgate, tools, issued.access_token);

      expect(body.act).toStrictEqual(
        selfIssuedAct(agent, {
          sub: 'planner',
          iss: 'https://upstream.example',
          act: { sub: 'origin' },
        }),
      );
    });

    it('TE-13 accepts may_act naming the agent', async () => {
      const agent = await delegatingAgent();
      const reply = await userExchange(agent, {
        subject_token: await idp.userToken({
          may_act: { sub: agent.clientId, iss: tollgate.issuer },
        }),
      });

      expect(reply.status).toBe(200);
    });

    it.each([
      ['another sub', (agent: TestAgent) => ({ sub: `${agent.clientId}-other` })],
      [
        'another iss',
        (agent: TestAgent) => ({ sub: agent.clientId, iss: 'https://other-as.example' }),
      ],
      ['a non-object', () => 'everyone'],
    ])('TE-13 refuses may_act naming %s with invalid_request', async (_label, mayAct) => {
      const agent = await delegatingAgent();

      await expectRefusal(
        tollgate,
        await userExchange(agent, {
          subject_token: await idp.userToken({ may_act: mayAct(agent) }),
        }),
        agent,
        'invalid_request',
        'may_act_mismatch',
      );
    });

    it('TE-14 records the agent as actor even without actor_token (no impersonation)', async () => {
      const agent = await delegatingAgent();
      const jti = 'te-14-subject';
      const issued = await userTokenFor(agent, { jti });
      const body = await introspectionOf(tollgate, tools, issued.access_token);
      const [event] = await ledgerOf(tollgate, agent.id, ['token.exchanged']);

      expect(body.act).toStrictEqual(selfIssuedAct(agent));
      expect(event?.data).toMatchObject({
        exchange: 'delegation',
        subject_token_issuer: idp.issuer,
        subject_token_id: jti,
        act: selfIssuedAct(agent),
      });
    });

    it('TE-15 keeps the act chain when a delegated token is exchanged without actor_token', async () => {
      const agent = await delegatingAgent();
      const next = await delegatingAgent();
      const upstream = { sub: 'planner', iss: 'https://upstream.example' };
      const issued = await userTokenFor(agent, { act: upstream });
      const delegated = await exchangeOk(tollgate, next, {
        subject_token: issued.access_token,
        subject_token_type: TokenTypeUri.accessToken,
        scope: 'search',
      });

      expect((await introspectionOf(tollgate, tools, delegated.access_token)).act).toStrictEqual(
        selfIssuedAct(next, selfIssuedAct(agent, upstream)),
      );
    });

    it('TE-15 keeps the act chain when the agent renews its delegated token', async () => {
      const agent = await delegatingAgent();
      const issued = await userTokenFor(agent);
      const renewed = await exchangeOk(tollgate, agent, {
        subject_token: issued.access_token,
        subject_token_type: TokenTypeUri.accessToken,
        scope: 'search',
      });
      const body = await introspectionOf(tollgate, tools, renewed.access_token);

      // A renewed token without act would read as the person acting for themself.
      expect({ sub: body.sub, act: body.act }).toStrictEqual({
        sub: ALICE,
        act: selfIssuedAct(agent),
      });
    });

    it('TE-16 never grants more tools than the subject token carries', async () => {
      const first = await delegatingAgent();
      const second = await delegatingAgent();
      const narrow = await exchangeOk(tollgate, first, {
        subject_token: await idp.userToken(),
        subject_token_type: TokenTypeUri.jwt,
        scope: 'search',
        resource: TOOLS,
      });

      await expectRefusal(
        tollgate,
        await exchange(tollgate, second, {
          subject_token: narrow.access_token,
          subject_token_type: TokenTypeUri.accessToken,
          scope: 'search mail.send',
        }),
        second,
        'invalid_scope',
        'tools_not_delegable',
      );

      const defaulted = await exchangeOk(tollgate, second, {
        subject_token: narrow.access_token,
        subject_token_type: TokenTypeUri.accessToken,
      });
      expect(defaulted.scope).toBe('search');
    });

    it('TE-16 never outlives the subject token (expires_in <= subject exp)', async () => {
      const agent = await delegatingAgent({ token_ttl_seconds: 3600 });
      const before = Math.floor(Date.now() / 1000);
      const issued = await userTokenFor(agent, { exp: before + 60 });
      const body = await introspectionOf(tollgate, tools, issued.access_token);

      expect(issued.expires_in).toBeLessThanOrEqual(60);
      expect(body.exp).toBeLessThanOrEqual(before + 60);

      const downstream = await delegatingAgent({ token_ttl_seconds: 3600 });
      const delegated = await exchangeOk(tollgate, downstream, {
        subject_token: issued.access_token,
        subject_token_type: TokenTypeUri.accessToken,
        scope: 'search',
      });
      expect(delegated.expires_in).toBeLessThanOrEqual(60);
    });

    it('TE-17 accepts a chain of exactly five actors', async () => {
      const agent = await delegatingAgent();
      const upstream = actorChain('a4', 'a3', 'a2', 'a1');
      const issued = await userTokenFor(agent, { act: upstream });

      expect((await introspectionOf(tollgate, tools, issued.access_token)).act).toStrictEqual(
        selfIssuedAct(agent, upstream),
      );
    });

    it('TE-17 refuses a sixth actor with invalid_request', async () => {
      const agent = await delegatingAgent();

      await expectRefusal(
        tollgate,
        await userExchange(agent, {
          subject_token: await idp.userToken({ act: actorChain('a5', 'a4', 'a3', 'a2', 'a1') }),
        }),
        agent,
        'invalid_request',
        'actor_chain_too_deep',
      );
    });

    it.each([
      ['nested six deep', actorChain('a6', 'a5', 'a4', 'a3', 'a2', 'a1')],
      ['without sub', { iss: 'https://upstream.example' }],
      ['that is a string', 'planner'],
    ])('TE-17 refuses a subject act claim %s with invalid_request', async (_label, act) => {
      const agent = await delegatingAgent();

      await expectRefusal(
        tollgate,
        await userExchange(agent, { subject_token: await idp.userToken({ act }) }),
        agent,
        'invalid_request',
        'actor_chain_invalid',
      );
    });

    it('TE-18 shows act, scope, client_id and the session in introspection', async () => {
      const agent = await delegatingAgent();
      const issued = await userTokenFor(agent);
      const body = await introspectionOf(tollgate, tools, issued.access_token);

      expect(body).toMatchObject({
        active: true,
        sub: ALICE,
        client_id: agent.clientId,
        scope: 'search mail.send',
        act: selfIssuedAct(agent),
        sid: expect.any(String),
        session_state: 'open',
        subject_issuer: idp.issuer,
        iss: tollgate.issuer,
        token_type: 'Bearer',
      });
      expect([body.aud].flat()).toEqual([TOOLS]);
      await expectInactive(tollgate, mail, issued.access_token);
    });

    it('TE-19 revoking the parent token ends the child and refuses its exchange', async () => {
      const parent = await delegatingAgent();
      const child = await delegatingAgent();
      const grandchild = await delegatingAgent();
      const parentToken = await userTokenFor(parent);
      const childToken = await exchangeOk(tollgate, child, {
        subject_token: parentToken.access_token,
        subject_token_type: TokenTypeUri.accessToken,
        scope: 'search',
      });

      expect((await revoke(tollgate, parent, parentToken.access_token)).status).toBe(200);
      await expectInactive(tollgate, tools, childToken.access_token);

      const renewal = await exchange(tollgate, child, {
        subject_token: childToken.access_token,
        subject_token_type: TokenTypeUri.accessToken,
      });
      await expectRefusal(tollgate, renewal, child, 'invalid_request', 'subject_token_inactive');

      const onward = await exchange(tollgate, grandchild, {
        subject_token: childToken.access_token,
        subject_token_type: TokenTypeUri.accessToken,
      });
      await expectRefusal(
        tollgate,
        onward,
        grandchild,
        'invalid_request',
        'subject_token_inactive',
      );
    });

    it('TE-19 expiring the parent token ends the child, renewed or not', async () => {
      const parent = await delegatingAgent({ token_ttl_seconds: 2 });
      const child = await delegatingAgent();
      const parentToken = await userTokenFor(parent);
      const childToken = await exchangeOk(tollgate, child, {
        subject_token: parentToken.access_token,
        subject_token_type: TokenTypeUri.accessToken,
        scope: 'search',
      });
      const renewed = await exchangeOk(tollgate, child, {
        subject_token: childToken.access_token,
        subject_token_type: TokenTypeUri.accessToken,
      });

      // The one sleep of this file: the database clock must pass the parent's 2 s lifetime.
      await sleep(2200);

      await expectInactive(tollgate, tools, parentToken.access_token);
      await expectInactive(tollgate, tools, childToken.access_token);
      await expectInactive(tollgate, tools, renewed.access_token);
    });
  });
});
