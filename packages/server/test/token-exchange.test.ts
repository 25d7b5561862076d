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
  expectRefusal,
  form,
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

const nowSeconds = (): number => Math.floor(Date.now() / 1000);

/** A JWT with `alg: none`: no signature at all. */
function unsignedJwt(claims: Record<string, unknown>): string {
  const part = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

  return `${part({ alg: 'none', typ: 'JWT' })}.${part(claims)}.`;
}

/** What an agent changes in a valid user-token exchange to get it refused. */
type Tamper = (agent: TestAgent) => Promise<FormParameters> | FormParameters;

/** One refused request, its RFC 6749 error and the reason the ledger must record. */
interface Refusal {
  id: string;
  what: string;
  error: string;
  reason: string | undefined;
  parameters: Tamper;
  agent: Partial<AgentSetup> | undefined;
}

/** Refusals that share a checklist id, an error and a reason, keyed by what goes wrong. */
function refusals(
  id: string,
  error: string,
  reason: string | undefined,
  cases: Record<string, Tamper>,
  agent?: Partial<AgentSetup>,
): Refusal[] {
  return Object.entries(cases).map(([what, parameters]) => ({
    id,
    what,
    error,
    reason,
    parameters,
    agent,
  }));
}

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

  /** Exchanges a Tollgate token: a renewal for its holder, a delegation for anyone else. */
  const tokenExchange = (agent: Credentials, token: string, scope?: string) =>
    exchange(tollgate, agent, {
      subject_token: token,
      subject_token_type: TokenTypeUri.accessToken,
      scope,
    });

  const tokenExchangeOk = (agent: Credentials, token: string, scope?: string) =>
    exchangeOk(tollgate, agent, {
      subject_token: token,
      subject_token_type: TokenTypeUri.accessToken,
      scope,
    });

  /** The `act` Tollgate writes for one of its agents, optionally in front of earlier actors. */
  const actOf = (agent: Credentials, nested?: unknown) => ({
    sub: agent.clientId,
    iss: tollgate.issuer,
    ...(nested === undefined ? {} : { act: nested }),
  });

  const actInIntrospection = async (token: string) =>
    (await introspectionOf(tollgate, tools, token)).act;

  /** A token of another agent, which a delegating agent may act on. */
  const upstreamToken = async () => (await userTokenFor(await delegatingAgent())).access_token;

  beforeAll(async () => {
    tollgate = await startTestTollgate();
    idp = await startIdentityProvider();

    const { db } = tollgate.test.database;
    const inline = { jwks: { keys: [idp.publicJwk] }, audiences: [IDP_AUDIENCE] };
    await createTrustedIssuer(
      db,
      { issuer: idp.issuer, jwks_uri: idp.jwksUri, audiences: [IDP_AUDIENCE] },
      CLI_AUDIT,
    );
    await createTrustedIssuer(
      db,
      { issuer: EMAIL_ISSUER, ...inline, user_claim: 'email' },
      CLI_AUDIT,
    );
    const retired = await createTrustedIssuer(db, { issuer: RETIRED_ISSUER, ...inline }, CLI_AUDIT);
    await updateTrustedIssuerById(db, retired.id, { status: 'disabled' }, CLI_AUDIT);
    tools = await newResourceServer(tollgate, TOOLS);
    mail = await newResourceServer(tollgate, MAIL);
  });

  afterAll(async () => {
    await tollgate?.stop();
    await idp?.close();
  });

  it('TE-01 accepts the grant and lists it in grant_types_supported', async () => {
    const response = await fetch(`${tollgate.issuer}/.well-known/oauth-authorization-server`);
    const metadata = (await response.json()) as { grant_types_supported?: string[] };

    expect(metadata.grant_types_supported).toContain(EXCHANGE_GRANT);
    expect((await userExchange(await delegatingAgent())).status).toBe(200);
  });

  const subjectType = (type: string) => () => ({ subject_token_type: type });
  const requestedType = (type: string) => () => ({ requested_token_type: type });
  const subjectJwt = (claims: Record<string, unknown>) => async () => ({
    subject_token: await idp.userToken(claims),
  });
  const mayAct = (claim: (agent: TestAgent) => unknown) => async (agent: TestAgent) => ({
    subject_token: await idp.userToken({ may_act: claim(agent) }),
  });
  const upstreamSubject = async () => ({
    subject_token: await upstreamToken(),
    subject_token_type: TokenTypeUri.accessToken,
    resource: undefined,
  });
  const unpaired = 'actor_parameters_unpaired';
  const invalid = 'subject_token_invalid';
  const cases: Refusal[] = [
    ...refusals('TE-02', 'invalid_request', 'missing_parameter', {
      'a request without subject_token': () => ({ subject_token: undefined }),
      'an empty subject_token': () => ({ subject_token: '' }),
      'a request without subject_token_type': () => ({ subject_token_type: undefined }),
    }),
    ...refusals('TE-03', 'invalid_request', unpaired, {
      'actor_token without actor_token_type': async (agent) => ({
        actor_token: await ownToken(tollgate, agent, 'search', TOOLS),
      }),
      'actor_token_type without actor_token': () => ({
        actor_token_type: TokenTypeUri.accessToken,
      }),
    }),
    ...refusals('TE-04', 'invalid_request', 'unsupported_subject_token_type', {
      'subject_token_type saml1': subjectType(TokenTypeUri.saml1),
      'subject_token_type saml2': subjectType(TokenTypeUri.saml2),
      'subject_token_type refresh_token': subjectType(TokenTypeUri.refreshToken),
      'subject_token_type id-jag': subjectType('urn:ietf:params:oauth:token-type:id-jag'),
      'an unknown subject_token_type': subjectType('urn:example:token-type:mystery'),
    }),
    ...refusals('TE-04', 'invalid_request', 'unsupported_requested_token_type', {
      'requested_token_type refresh_token': requestedType(TokenTypeUri.refreshToken),
      'requested_token_type id_token': requestedType(TokenTypeUri.idToken),
      'requested_token_type jwt': requestedType(TokenTypeUri.jwt),
      'requested_token_type saml2': requestedType(TokenTypeUri.saml2),
    }),
    ...refusals('TE-04', 'invalid_request', 'unsupported_actor_token_type', {
      'actor_token_type saml2': () => ({
        actor_token: 'PHNhbWw+',
        actor_token_type: TokenTypeUri.saml2,
      }),
    }),
    ...refusals('TE-05', 'invalid_request', invalid, {
      'an expired subject JWT': subjectJwt({ exp: nowSeconds() - 60 }),
      'a subject JWT that is not yet valid': subjectJwt({ nbf: nowSeconds() + 600 }),
      'a subject JWT whose aud the issuer does not accept': subjectJwt({
        aud: 'https://x.example',
      }),
      'a subject JWT with a bad signature': async () => {
        const { privateKey } = await generateKeyPair('ES256');

        return { subject_token: await idp.userToken({}, { key: privateKey }) };
      },
      'an unsigned subject JWT (alg none)': () => ({
        subject_token: unsignedJwt({
          iss: idp.issuer,
          aud: IDP_AUDIENCE,
          sub: ALICE,
          exp: nowSeconds() + 300,
        }),
      }),
    }),
    ...refusals('TE-05', 'invalid_request', 'subject_issuer_untrusted', {
      'a subject JWT from an unknown issuer': subjectJwt({ iss: 'https://stranger.example' }),
      'a subject JWT from a disabled trusted issuer': subjectJwt({ iss: RETIRED_ISSUER }),
    }),
    ...refusals('TE-05', 'invalid_request', 'subject_claim_missing', {
      "a subject JWT without the issuer's user claim": subjectJwt({ iss: EMAIL_ISSUER }),
    }),
    ...refusals('TE-05', 'invalid_request', 'subject_claim_invalid', {
      'a subject JWT whose sub is longer than OpenID Connect allows': subjectJwt({
        sub: 'u'.repeat(256),
      }),
    }),
    ...refusals('TE-05', 'invalid_request', 'subject_token_malformed', {
      'a subject_token that is not a JWT': () => ({ subject_token: 'not-a-jwt' }),
    }),
    ...refusals('TE-05', 'invalid_request', 'subject_token_inactive', {
      'an unknown access token': subjectType(TokenTypeUri.accessToken),
      'a revoked access token': async (agent) => {
        const token = await ownToken(tollgate, agent, 'search', TOOLS);
        expect((await revoke(tollgate, agent, token)).status).toBe(200);

        return { subject_token: token, subject_token_type: TokenTypeUri.accessToken };
      },
    }),
    ...refusals(
      'TE-05',
      'invalid_request',
      'subject_not_allowed',
      { 'a subject outside allowed_subjects': subjectJwt({ iss: EMAIL_ISSUER, email: 'bob@x' }) },
      { delegation: { trusted_issuers: [EMAIL_ISSUER], allowed_subjects: ['carol@x'] } },
    ),
    ...refusals(
      'TE-05',
      'invalid_request',
      'issuer_not_allowed_for_agent',
      {
        'a trusted issuer that the agent policy does not name': () => ({}),
        'another agent token when the policy does not trust Tollgate': upstreamSubject,
      },
      { delegation: { trusted_issuers: [EMAIL_ISSUER] } },
    ),
    ...refusals('TE-05', 'invalid_request', 'actor_mismatch', {
      'an actor_token of another agent': async () => ({
        actor_token: await ownToken(tollgate, await delegatingAgent(), 'search', TOOLS),
        actor_token_type: TokenTypeUri.accessToken,
      }),
      'an actor_token JWT signed by someone else': async (agent) => ({
        actor_token: await idp.userToken({
          sub: agent.clientId,
          iss: agent.clientId,
          aud: tollgate.issuer,
        }),
        actor_token_type: TokenTypeUri.jwt,
      }),
    }),
    ...refusals(
      'TE-05',
      'unauthorized_client',
      'delegation_not_allowed',
      {
        'a user token to an agent whose policy trusts no issuer': () => ({}),
        'another agent token to an agent whose policy trusts no issuer': upstreamSubject,
      },
      { delegation: {} },
    ),
    ...refusals(
      'TE-06',
      'invalid_target',
      'several_targets',
      {
        'two different resources': () => ({ resource: [TOOLS, MAIL] }),
        'a resource and an audience naming different targets': () => ({ audience: MAIL }),
      },
      { audiences: [TOOLS, MAIL] },
    ),
    ...refusals('TE-06', 'invalid_target', 'target_not_allowed', {
      'a target the agent may not call': () => ({ resource: MAIL }),
    }),
    ...refusals('TE-06', 'invalid_target', undefined, {
      'a resource with a fragment': () => ({ resource: `${TOOLS}#part` }),
    }),
    ...refusals(
      'TE-06',
      'invalid_target',
      'target_missing',
      { 'no target when the agent has several audiences': () => ({ resource: undefined }) },
      { audiences: [TOOLS, MAIL] },
    ),
    ...refusals(
      'TE-07',
      'invalid_scope',
      'tools_not_delegable',
      { 'a tool the agent may not delegate': () => ({ scope: 'search deploy' }) },
      { tools: ['search'] },
    ),
    ...refusals('TE-07', 'invalid_scope', 'scope_missing', {
      'a user token without scope (RFC 6749 §3.3: no default)': () => ({ scope: undefined }),
    }),
    ...refusals('TE-13', 'invalid_request', 'may_act_mismatch', {
      'may_act naming another sub': mayAct((agent) => ({ sub: `${agent.clientId}-other` })),
      'may_act naming another iss': mayAct((agent) => ({ sub: agent.clientId, iss: 'https://x' })),
      'may_act that is not an object': mayAct(() => 'everyone'),
    }),
    ...refusals('TE-17', 'invalid_request', 'actor_chain_too_deep', {
      'a sixth actor': subjectJwt({ act: actorChain('a5', 'a4', 'a3', 'a2', 'a1') }),
    }),
    ...refusals('TE-17', 'invalid_request', 'actor_chain_invalid', {
      'a subject act claim nested six deep': subjectJwt({
        act: actorChain('a6', 'a5', 'a4', 'a3', 'a2', 'a1'),
      }),
      'a subject act claim without sub': subjectJwt({ act: { iss: 'https://upstream.example' } }),
      'a subject act claim that is a string': subjectJwt({ act: 'planner' }),
    }),
  ];

  it.each(cases)('$id refuses $what with $error and records it', async (refusal) => {
    const agent = await delegatingAgent(refusal.agent);
    const reply = await userExchange(agent, await refusal.parameters(agent));

    await expectRefusal(tollgate, reply, agent, refusal.error, refusal.reason);
  });

  it('TE-04 accepts id_token subjects and an explicit access_token requested type', async () => {
    const reply = await userExchange(await delegatingAgent(), {
      subject_token_type: TokenTypeUri.idToken,
      requested_token_type: TokenTypeUri.accessToken,
    });

    expect(reply.status).toBe(200);
    expect(reply.body.issued_token_type).toBe(TokenTypeUri.accessToken);
  });

  it('TE-05 reads the person from the issuer user_claim and honours allowed_subjects', async () => {
    const agent = await delegatingAgent({
      delegation: { trusted_issuers: [EMAIL_ISSUER], allowed_subjects: ['bob@corp.example'] },
    });
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

  it('TE-05 accepts the agent own live token as actor_token', async () => {
    const agent = await delegatingAgent();
    const issued = await exchangeOk(tollgate, agent, {
      subject_token: await idp.userToken(),
      subject_token_type: TokenTypeUri.jwt,
      actor_token: await ownToken(tollgate, agent, 'search', TOOLS),
      actor_token_type: TokenTypeUri.accessToken,
      scope: 'search',
      resource: TOOLS,
    });

    expect(await actInIntrospection(issued.access_token)).toStrictEqual(actOf(agent));
  });

  it('TE-05 accepts an actor JWT only when signed by the agent for Tollgate', async () => {
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
    const withActor = async (actorToken: string) => {
      const parameters = {
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
      };

      return postForm(tollgate, 'token', form(parameters));
    };

    const accepted = await withActor(await signed(tollgate.issuer));
    expect(accepted.status).toBe(200);
    expect(await actInIntrospection(String(accepted.body.access_token))).toStrictEqual(
      actOf(agent),
    );

    const { privateKey: otherKey } = await generateKeyPair('ES256');
    const wrongKey = await withActor(await signed(tollgate.issuer, otherKey));
    await expectRefusal(tollgate, wrongKey, agent, 'invalid_request', 'actor_mismatch');
    const wrongAudience = await withActor(await signed('https://elsewhere.example'));
    await expectRefusal(tollgate, wrongAudience, agent, 'invalid_request', 'actor_mismatch');
  });

  describe('clients that are not agents', () => {
    const admin = () => ({
      clientId: tollgate.admin.clientId,
      secret: tollgate.admin.clientSecret,
    });

    it.each([
      ['a resource server', () => tools],
      ['an admin client', admin],
    ])('refuses %s with unauthorized_client', async (_label, client) => {
      expectOAuthError(await userExchange(client()), 400, 'unauthorized_client');
    });

    it('records refused exchanges of a resource server and an admin', async () => {
      for (const client of [tools, admin()]) {
        expectOAuthError(await userExchange(client), 400, 'unauthorized_client');
      }

      const refused = await listLedgerEvents(tollgate.test.database.db, {
        kinds: ['exchange.refused'],
        limit: 1000,
      });
      const reasonsOf = (clientId: string) =>
        refused
          .filter((event) => event.client_id === clientId)
          .map((event) => ({ error: event.data.error, reason: typeof event.data.reason }));

      expect({ rs: reasonsOf(tools.clientId), admin: reasonsOf(admin().clientId) }).toEqual({
        rs: expect.arrayContaining([{ error: 'unauthorized_client', reason: 'string' }]),
        admin: expect.arrayContaining([{ error: 'unauthorized_client', reason: 'string' }]),
      });
    });
  });

  it('TE-06 accepts one target named by resource and/or audience', async () => {
    const agent = await delegatingAgent({ audiences: [TOOLS, MAIL] });
    const targets = [
      { resource: TOOLS, audience: 'HTTPS://TOOLS.example.com' },
      { audience: TOOLS },
    ];

    for (const target of targets) {
      const reply = await userExchange(agent, { resource: undefined, ...target });
      const body = await introspectionOf(tollgate, tools, String(reply.body.access_token));

      expect([body.aud].flat()).toEqual([TOOLS]);
    }
  });

  it('TE-07 grants the subject token tools when scope is omitted on a Tollgate token', async () => {
    const agent = await delegatingAgent();
    const first = await userTokenFor(agent);

    expect((await tokenExchangeOk(agent, first.access_token)).scope).toBe('search mail.send');
  });

  it('TE-08 answers access_token, issued_token_type, Bearer, no-store', async () => {
    const reply = await userExchange(await delegatingAgent());

    expect(reply.status).toBe(200);
    expect(reply.headers.get('cache-control')).toBe('no-store');
    expect(reply.body).toStrictEqual({
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

  it('TE-10 keeps sub from the subject token and names the agent in act', async () => {
    const agent = await delegatingAgent();
    const body = await introspectionOf(tollgate, tools, (await userTokenFor(agent)).access_token);

    expect(body.sub).toBe(ALICE);
    expect(body.act).toStrictEqual(actOf(agent));
  });

  it('TE-11 nests the act of a user token behind the current actor', async () => {
    const agent = await delegatingAgent();
    const upstream = { sub: 'planner', iss: 'https://upstream.example' };
    const issued = await userTokenFor(agent, { act: upstream });

    expect(await actInIntrospection(issued.access_token)).toStrictEqual(actOf(agent, upstream));
  });

  it('TE-11 puts the agent exchanging another agent token outermost', async () => {
    const first = await delegatingAgent();
    const second = await delegatingAgent();
    const firstToken = await userTokenFor(first);
    const secondToken = await tokenExchangeOk(second, firstToken.access_token, 'search');
    const body = await introspectionOf(tollgate, tools, secondToken.access_token);

    expect(body).toMatchObject({
      sub: ALICE,
      client_id: second.clientId,
      subject_issuer: idp.issuer,
    });
    expect(body.act).toStrictEqual(actOf(second, actOf(first)));
  });

  it('TE-12 drops exp, nbf and iat from every level of act', async () => {
    const agent = await delegatingAgent();
    const times = { exp: 4_102_444_800, nbf: 1, iat: 1 };
    const upstream = { sub: 'planner', iss: 'https://upstream.example' };
    const issued = await userTokenFor(agent, {
      act: { ...upstream, ...times, act: { sub: 'origin', ...times } },
    });

    expect(await actInIntrospection(issued.access_token)).toStrictEqual(
      actOf(agent, { ...upstream, act: { sub: 'origin' } }),
    );
  });

  it('TE-13 accepts may_act naming the agent', async () => {
    const agent = await delegatingAgent();
    const mayAct = { sub: agent.clientId, iss: tollgate.issuer };
    const reply = await userExchange(agent, {
      subject_token: await idp.userToken({ may_act: mayAct }),
    });

    expect(reply.status).toBe(200);
  });

  it('TE-14 records the agent as actor even without actor_token (no impersonation)', async () => {
    const agent = await delegatingAgent();
    const jti = randomUUID();
    const issued = await userTokenFor(agent, { jti });
    const [event] = await ledgerOf(tollgate, agent.id, ['token.exchanged']);

    expect(await actInIntrospection(issued.access_token)).toStrictEqual(actOf(agent));
    expect(event?.data).toMatchObject({
      exchange: 'delegation',
      subject_token_issuer: idp.issuer,
      subject_token_id: jti,
      act: actOf(agent),
    });
  });

  it('TE-15 keeps the act chain when exchanged without actor_token', async () => {
    const agent = await delegatingAgent();
    const next = await delegatingAgent();
    const upstream = { sub: 'planner', iss: 'https://upstream.example' };
    const issued = await userTokenFor(agent, { act: upstream });
    const delegated = await tokenExchangeOk(next, issued.access_token, 'search');

    expect(await actInIntrospection(delegated.access_token)).toStrictEqual(
      actOf(next, actOf(agent, upstream)),
    );
  });

  it('TE-15 keeps the act chain when the agent renews its delegated token', async () => {
    const agent = await delegatingAgent();
    const issued = await userTokenFor(agent);
    const renewed = await tokenExchangeOk(agent, issued.access_token, 'search');
    const body = await introspectionOf(tollgate, tools, renewed.access_token);

    // A renewed token without act would read as the person acting for themself.
    expect({ sub: body.sub, act: body.act }).toStrictEqual({ sub: ALICE, act: actOf(agent) });
  });

  it('TE-16 never grants more tools than the subject token carries', async () => {
    const first = await delegatingAgent();
    const second = await delegatingAgent();
    const narrow = (await userExchange(first)).body.access_token as string;
    const wider = await tokenExchange(second, narrow, 'search mail.send');

    await expectRefusal(tollgate, wider, second, 'invalid_scope', 'tools_not_delegable');
    expect((await tokenExchangeOk(second, narrow)).scope).toBe('search');
  });

  it('TE-16 never outlives the subject token (expires_in <= subject exp)', async () => {
    const agent = await delegatingAgent({ token_ttl_seconds: 3600 });
    const downstream = await delegatingAgent({ token_ttl_seconds: 3600 });
    const subjectExp = nowSeconds() + 60;
    const issued = await userTokenFor(agent, { exp: subjectExp });
    const delegated = await tokenExchangeOk(downstream, issued.access_token, 'search');

    expect(issued.expires_in).toBeLessThanOrEqual(60);
    expect((await introspectionOf(tollgate, tools, issued.access_token)).exp).toBeLessThanOrEqual(
      subjectExp,
    );
    expect(delegated.expires_in).toBeLessThanOrEqual(60);
  });

  it('TE-17 accepts a chain of exactly five actors', async () => {
    const agent = await delegatingAgent();
    const upstream = actorChain('a4', 'a3', 'a2', 'a1');
    const issued = await userTokenFor(agent, { act: upstream });

    expect(await actInIntrospection(issued.access_token)).toStrictEqual(actOf(agent, upstream));
  });

  it('TE-18 introspection shows act, scope, client_id, session to the audience', async () => {
    const agent = await delegatingAgent();
    const issued = await userTokenFor(agent);
    const body = await introspectionOf(tollgate, tools, issued.access_token);

    expect(body).toMatchObject({
      active: true,
      sub: ALICE,
      client_id: agent.clientId,
      scope: 'search mail.send',
      act: actOf(agent),
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
    const parentToken = (await userTokenFor(parent)).access_token;
    const childToken = (await tokenExchangeOk(child, parentToken, 'search')).access_token;

    expect((await revoke(tollgate, parent, parentToken)).status).toBe(200);
    await expectInactive(tollgate, tools, childToken);

    const renewal = await tokenExchange(child, childToken);
    await expectRefusal(tollgate, renewal, child, 'invalid_request', 'subject_token_inactive');
    const onward = await tokenExchange(grandchild, childToken);
    await expectRefusal(tollgate, onward, grandchild, 'invalid_request', 'subject_token_inactive');
  });

  it('TE-19 expiring the parent token ends the child, renewed or not', async () => {
    const parent = await delegatingAgent({ token_ttl_seconds: 3 });
    const child = await delegatingAgent();
    const parentToken = (await userTokenFor(parent)).access_token;
    const childToken = (await tokenExchangeOk(child, parentToken, 'search')).access_token;
    const renewed = (await tokenExchangeOk(child, childToken)).access_token;

    // The one sleep of this file: the database clock must pass the parent's 3 s lifetime.
    await sleep(3200);

    await expectInactive(tollgate, tools, parentToken);
    await expectInactive(tollgate, tools, childToken);
    await expectInactive(tollgate, tools, renewed);
  });
});
