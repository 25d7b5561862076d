import { setTimeout as sleep } from 'node:timers/promises';

import {
  CLI_AUDIT,
  closeLapsedSessions,
  closeSession,
  createTrustedIssuer,
  setAgentStatus,
  updateAgent,
} from '@tollgate/core';

import {
  exchange,
  exchangeOk,
  expectInactive,
  expectRefusal,
  introspectionOf,
  ledgerOf,
  newAgent,
  newResourceServer,
  ownToken,
  sessionLedger,
  sessionRow,
  TokenTypeUri,
  type AgentSetup,
  type TestAgent,
} from './support/exchange.js';
import {
  IDP_AUDIENCE,
  startIdentityProvider,
  type TestIdentityProvider,
} from './support/identity-provider.js';
import { revoke, type Credentials } from './support/oauth.js';
import { adminCall, startTestTollgate, type TestTollgate } from './support/tollgate.js';

const TOOLS = 'https://tools.example.com/';
const MAIL = 'https://mail.example.com/';
const ALICE = 'alice@example.com';

describe('task sessions', () => {
  let tollgate: TestTollgate;
  let idp: TestIdentityProvider;
  let tools: Credentials;

  const delegatingAgent = (extra: Partial<AgentSetup> = {}): Promise<TestAgent> =>
    newAgent(tollgate, {
      tools: ['search', 'mail.send', 'deploy'],
      audiences: [TOOLS],
      delegation: { trusted_issuers: [idp.issuer, tollgate.issuer] },
      ...extra,
    });

  /** Opens a session for alice: the agent exchanges her IdP token. */
  const openForAlice = async (agent: Credentials, scope = 'search mail.send') =>
    (
      await exchangeOk(tollgate, agent, {
        subject_token: await idp.userToken(),
        subject_token_type: TokenTypeUri.jwt,
        scope,
        resource: TOOLS,
      })
    ).access_token;

  /** Exchanges a Tollgate token: a renewal for its holder, a delegation for another agent. */
  const exchangeToken = (agent: Credentials, token: string, scope?: string) =>
    exchange(tollgate, agent, {
      subject_token: token,
      subject_token_type: TokenTypeUri.accessToken,
      scope,
    });

  const exchangeTokenOk = async (agent: Credentials, token: string, scope?: string) => {
    const reply = await exchangeToken(agent, token, scope);

    if (reply.status !== 200 || typeof reply.body.access_token !== 'string') {
      throw new Error(`exchange failed: ${reply.status} ${reply.text}`);
    }

    return { token: reply.body.access_token, scope: reply.body.scope };
  };

  const sidOf = async (token: string): Promise<string> => {
    const body = await introspectionOf(tollgate, tools, token);

    if (body.active !== true || typeof body.sid !== 'string') {
      throw new Error(`token is not active in a session: ${JSON.stringify(body)}`);
    }

    return body.sid;
  };

  const closeReasons = async (sessionId: string): Promise<unknown[]> =>
    (await sessionLedger(tollgate, sessionId, ['session.closed'])).map(
      (event) => event.data.reason,
    );

  const closeBearer = (token: string | undefined, method = 'POST') =>
    fetch(`${tollgate.issuer}/sessions/close`, {
      method,
      headers: token === undefined ? {} : { authorization: `Bearer ${token}` },
    });

  const actOf = (agent: Credentials, nested?: unknown) => ({
    sub: agent.clientId,
    iss: tollgate.issuer,
    ...(nested === undefined ? {} : { act: nested }),
  });

  beforeAll(async () => {
    tollgate = await startTestTollgate();
    idp = await startIdentityProvider();
    await createTrustedIssuer(
      tollgate.test.database.db,
      { issuer: idp.issuer, jwks_uri: idp.jwksUri, audiences: [IDP_AUDIENCE] },
      CLI_AUDIT,
    );
    tools = await newResourceServer(tollgate, TOOLS);
    await newResourceServer(tollgate, MAIL);
  });

  afterAll(async () => {
    await tollgate?.stop();
    await idp?.close();
  });

  describe('renewal', () => {
    it('keeps the session id, records session.renewed, and never widens the tools', async () => {
      const agent = await delegatingAgent();
      const first = await openForAlice(agent);
      const sid = await sidOf(first);
      const narrowed = await exchangeTokenOk(agent, first, 'search');

      expect(narrowed.scope).toBe('search');
      expect(await sidOf(narrowed.token)).toBe(sid);
      expect((await exchangeTokenOk(agent, first)).scope).toBe('search mail.send');
      await expectRefusal(
        tollgate,
        await exchangeToken(agent, narrowed.token, 'mail.send'),
        agent,
        'invalid_scope',
        'tools_not_delegable',
      );
      await expectRefusal(
        tollgate,
        await exchangeToken(agent, first, 'search deploy'),
        agent,
        'invalid_scope',
        'tools_not_delegable',
      );

      const events = await sessionLedger(tollgate, sid);
      const kinds = events.map((event) => event.kind);
      expect(kinds.filter((kind) => kind === 'session.opened')).toHaveLength(1);
      expect(kinds.filter((kind) => kind === 'session.renewed')).toHaveLength(2);
      expect(events.find((event) => event.kind === 'session.opened')?.data).toMatchObject({
        subject_issuer: idp.issuer,
        audience: TOOLS,
      });
      expect(
        events
          .filter((event) => event.kind === 'token.exchanged')
          .map((event) => event.data.exchange)
          .sort(),
      ).toEqual(['delegation', 'renewal', 'renewal']);
    });

    it('follows the agent allow-list when an operator narrows it mid-session', async () => {
      const agent = await delegatingAgent();
      const wide = await openForAlice(agent);
      const narrow = await openForAlice(agent, 'search');

      await updateAgent(tollgate.test.database.db, agent.id, { tools: ['search'] }, CLI_AUDIT);

      // The token that carries the removed tool stops at once; the other one lives on.
      await expectRefusal(
        tollgate,
        await exchangeToken(agent, wide),
        agent,
        'invalid_request',
        'subject_token_inactive',
      );
      await expectRefusal(
        tollgate,
        await exchangeToken(agent, narrow, 'mail.send'),
        agent,
        'invalid_scope',
        'tools_not_delegable',
      );
      expect((await exchangeTokenOk(agent, narrow)).scope).toBe('search');
    });

    it('never lives past the session deadline, and keeps the session target', async () => {
      const agent = await delegatingAgent({
        audiences: [TOOLS, MAIL],
        token_ttl_seconds: 3600,
        session_max_seconds: 30,
      });
      const issued = await exchangeOk(tollgate, agent, {
        subject_token: await idp.userToken({ exp: Math.floor(Date.now() / 1000) + 600 }),
        subject_token_type: TokenTypeUri.jwt,
        scope: 'search',
        resource: TOOLS,
      });
      const session = await sessionRow(tollgate, await sidOf(issued.access_token));
      const renewed = await exchangeTokenOk(agent, issued.access_token);
      const body = await introspectionOf(tollgate, tools, renewed.token);

      expect(issued.expires_in).toBeLessThanOrEqual(30);
      expect(Number(body.exp) * 1000).toBeLessThanOrEqual(session.deadline.getTime() + 1000);

      await expectRefusal(
        tollgate,
        await exchange(tollgate, agent, {
          subject_token: issued.access_token,
          subject_token_type: TokenTypeUri.accessToken,
          resource: MAIL,
        }),
        agent,
        'invalid_target',
        'renewal_target_changed',
      );
    });

    it('renews a client_credentials session of an agent acting for itself', async () => {
      const agent = await delegatingAgent({ delegation: {} });
      const own = await ownToken(tollgate, agent, 'search mail.send', TOOLS);
      const sid = await sidOf(own);
      const renewed = await exchangeTokenOk(agent, own, 'search');
      const body = await introspectionOf(tollgate, tools, renewed.token);

      expect(body).toMatchObject({ sid, sub: agent.clientId, client_id: agent.clientId });
      expect(body).not.toHaveProperty('act');
      expect((await sessionLedger(tollgate, sid)).map((event) => event.kind)).toEqual(
        expect.arrayContaining(['session.opened', 'session.renewed']),
      );
    });

    it('answers five concurrent renewals in the same session, none wider', async () => {
      const agent = await delegatingAgent();
      const first = await openForAlice(agent);
      const sid = await sidOf(first);
      const scopes = ['search', 'mail.send', undefined, 'search mail.send', 'search'];
      const renewed = await Promise.all(
        scopes.map((scope) => exchangeTokenOk(agent, first, scope)),
      );

      expect(new Set(renewed.map((result) => result.token)).size).toBe(5);

      for (const result of renewed) {
        const body = await introspectionOf(tollgate, tools, result.token);
        const granted = String(body.scope).split(' ');

        expect(body.sid).toBe(sid);
        expect(['search', 'mail.send']).toEqual(expect.arrayContaining(granted));
      }

      expect(await sessionLedger(tollgate, sid, ['session.renewed'])).toHaveLength(5);
    });

    it('never writes a token value into the ledger', async () => {
      const agent = await delegatingAgent();
      const first = await openForAlice(agent);
      const renewed = await exchangeTokenOk(agent, first);
      const ledger = JSON.stringify(await ledgerOf(tollgate, agent.id));

      expect(ledger).not.toContain(first);
      expect(ledger).not.toContain(renewed.token);
    });
  });

  describe('closing', () => {
    it('POST /sessions/close ends the tokens of the session and of its children', async () => {
      const agent = await delegatingAgent();
      const helper = await delegatingAgent();
      const first = await openForAlice(agent);
      const renewed = await exchangeTokenOk(agent, first, 'search');
      const delegated = await exchangeTokenOk(helper, first, 'search');
      const sid = await sidOf(first);
      const childSid = await sidOf(delegated.token);

      const response = await closeBearer(renewed.token);
      const body = (await response.json()) as Record<string, unknown>;

      expect(response.status).toBe(200);
      expect(response.headers.get('cache-control')).toBe('no-store');
      expect(body).toMatchObject({ session_id: sid, state: 'closed' });
      expect([...(body.closed_sessions as string[])].sort()).toEqual([sid, childSid].sort());

      for (const token of [first, renewed.token, delegated.token]) {
        await expectInactive(tollgate, tools, token);
      }

      expect(await closeReasons(sid)).toEqual(['closed_by_agent']);
      expect(await closeReasons(childSid)).toEqual(['parent_closed']);
      await expectRefusal(
        tollgate,
        await exchangeToken(agent, first),
        agent,
        'invalid_request',
        'subject_token_inactive',
      );
      await expectRefusal(
        tollgate,
        await exchangeToken(helper, delegated.token),
        helper,
        'invalid_request',
        'subject_token_inactive',
      );
    });

    it('POST /sessions/close answers 401 without a live token of an open session', async () => {
      const agent = await delegatingAgent();
      const token = await openForAlice(agent);

      expect((await closeBearer(token)).status).toBe(200);

      const again = await closeBearer(token);
      expect(again.status).toBe(401);
      expect(again.headers.get('www-authenticate')).toMatch(/^Bearer .*error="invalid_token"/);

      const missing = await closeBearer(undefined);
      expect(missing.status).toBe(401);
      expect(missing.headers.get('www-authenticate')).toMatch(/^Bearer /);
      expect((await closeBearer(token, 'GET')).status).toBe(405);
    });

    it('an admin close (core closeSession) ends the session and its children', async () => {
      const agent = await delegatingAgent();
      const helper = await delegatingAgent();
      const first = await openForAlice(agent);
      const delegated = await exchangeTokenOk(helper, first, 'search');
      const sid = await sidOf(first);
      const childSid = await sidOf(delegated.token);

      const closed = await closeSession(
        tollgate.test.database.db,
        sid,
        'closed_by_admin',
        CLI_AUDIT,
      );

      expect(closed.map((row) => row.id).sort()).toEqual([sid, childSid].sort());
      await expectInactive(tollgate, tools, first);
      await expectInactive(tollgate, tools, delegated.token);
      expect(await closeReasons(sid)).toEqual(['closed_by_admin']);
      expect((await sessionRow(tollgate, sid)).is_open).toBe(false);
    });

    it('an admin close through the management API ends the session', async () => {
      const agent = await delegatingAgent();
      const first = await openForAlice(agent);
      const sid = await sidOf(first);

      const reply = await adminCall(tollgate, 'POST', `/v1/sessions/${sid}/close`);

      expect(reply).toMatchObject({ status: 200, json: { id: sid, state: 'closed' } });
      await expectInactive(tollgate, tools, first);
      expect((await adminCall(tollgate, 'POST', `/v1/sessions/${sid}/close`)).status).toBe(409);
    });

    it('refuses renewal after close, and the token as actor_token', async () => {
      const agent = await delegatingAgent();
      const first = await openForAlice(agent);
      const sid = await sidOf(first);

      await closeSession(tollgate.test.database.db, sid, 'closed_by_admin', CLI_AUDIT);

      await expectRefusal(
        tollgate,
        await exchangeToken(agent, first, 'search'),
        agent,
        'invalid_request',
        'subject_token_inactive',
      );
      await expectRefusal(
        tollgate,
        await exchange(tollgate, agent, {
          subject_token: await idp.userToken(),
          subject_token_type: TokenTypeUri.jwt,
          actor_token: first,
          actor_token_type: TokenTypeUri.accessToken,
          scope: 'search',
          resource: TOOLS,
        }),
        agent,
        'invalid_request',
        'actor_mismatch',
      );
    });

    it('ends tokens at the deadline, down the chain; the sweep records it', async () => {
      const agent = await delegatingAgent({ session_max_seconds: 3 });
      const helper = await delegatingAgent();
      const first = await openForAlice(agent);
      const sid = await sidOf(first);
      const delegated = await exchangeTokenOk(helper, first, 'search');
      const childSid = await sidOf(delegated.token);

      expect((await sessionRow(tollgate, childSid)).deadline.getTime()).toBeLessThanOrEqual(
        (await sessionRow(tollgate, sid)).deadline.getTime(),
      );

      // The one sleep of this file: the database clock must pass the 3 s session deadline.
      await sleep(3200);

      await expectInactive(tollgate, tools, first);
      await expectInactive(tollgate, tools, delegated.token);
      await expectRefusal(
        tollgate,
        await exchangeToken(agent, first),
        agent,
        'invalid_request',
        'subject_token_inactive',
      );

      await closeLapsedSessions(tollgate.test.database.db, CLI_AUDIT);
      expect(await closeReasons(sid)).toEqual(['deadline']);
      expect((await sessionRow(tollgate, sid)).closed_at).not.toBeNull();
      expect((await sessionRow(tollgate, childSid)).closed_at).not.toBeNull();
    });

    it('disabling an agent closes its sessions and the sessions opened from them', async () => {
      const agent = await delegatingAgent();
      const helper = await delegatingAgent();
      const first = await openForAlice(agent);
      const delegated = await exchangeTokenOk(helper, first, 'search');
      const helpersOwn = await ownToken(tollgate, helper, 'search', TOOLS);
      const sid = await sidOf(first);
      const childSid = await sidOf(delegated.token);

      await setAgentStatus(tollgate.test.database.db, agent.id, 'disabled', CLI_AUDIT);

      await expectInactive(tollgate, tools, first);
      await expectInactive(tollgate, tools, delegated.token);
      expect(await closeReasons(sid)).toEqual(['agent_disabled']);
      expect(await closeReasons(childSid)).toEqual(['parent_closed']);
      await expectRefusal(
        tollgate,
        await exchangeToken(helper, delegated.token),
        helper,
        'invalid_request',
        'subject_token_inactive',
      );
      expect((await introspectionOf(tollgate, tools, helpersOwn)).active).toBe(true);
    });

    it('stores the same close reason on a child session as its ledger event', async () => {
      const agent = await delegatingAgent();
      const helper = await delegatingAgent();
      const first = await openForAlice(agent);
      const delegated = await exchangeTokenOk(helper, first, 'search');
      const childSid = await sidOf(delegated.token);

      await setAgentStatus(tollgate.test.database.db, agent.id, 'disabled', CLI_AUDIT);

      // The helper agent was not disabled: its session ended because its parent did.
      expect((await sessionRow(tollgate, childSid)).close_reason).toBe('parent_closed');
      expect(await closeReasons(childSid)).toEqual(['parent_closed']);
    });
  });

  describe('delegation chains', () => {
    it('revoking a parent token closes the sessions from it (TE-19)', async () => {
      const agent = await delegatingAgent();
      const second = await delegatingAgent();
      const third = await delegatingAgent();
      const first = await openForAlice(agent);
      const sibling = await exchangeTokenOk(agent, first, 'search');
      const secondToken = await exchangeTokenOk(second, first, 'search');
      const thirdToken = await exchangeTokenOk(third, secondToken.token, 'search');
      const sid = await sidOf(first);
      const secondSid = await sidOf(secondToken.token);
      const thirdSid = await sidOf(thirdToken.token);

      expect((await revoke(tollgate, agent, first)).status).toBe(200);

      await expectInactive(tollgate, tools, first);
      await expectInactive(tollgate, tools, secondToken.token);
      await expectInactive(tollgate, tools, thirdToken.token);
      expect(await closeReasons(secondSid)).toEqual(['parent_token_revoked']);
      expect(await closeReasons(thirdSid)).toEqual(['parent_closed']);
      await expectRefusal(
        tollgate,
        await exchangeToken(second, secondToken.token),
        second,
        'invalid_request',
        'subject_token_inactive',
      );

      // Revoking one token ends its descendants, not the session it belongs to.
      expect((await sessionRow(tollgate, sid)).is_open).toBe(true);
      expect((await introspectionOf(tollgate, tools, sibling.token)).active).toBe(true);
    });

    it('nests act C→B→A, keeps the person, and refuses a sixth actor', async () => {
      const agents = await Promise.all([1, 2, 3, 4, 5, 6].map(() => delegatingAgent()));
      const [a, b, c, d, e, f] = agents as [
        TestAgent,
        TestAgent,
        TestAgent,
        TestAgent,
        TestAgent,
        TestAgent,
      ];
      const tokenA = await openForAlice(a);
      const tokenB = (await exchangeTokenOk(b, tokenA, 'search')).token;
      const tokenC = (await exchangeTokenOk(c, tokenB, 'search')).token;
      const body = await introspectionOf(tollgate, tools, tokenC);

      expect(body).toMatchObject({
        active: true,
        sub: ALICE,
        subject_issuer: idp.issuer,
        client_id: c.clientId,
        session_state: 'open',
      });
      expect(body.act).toStrictEqual(actOf(c, actOf(b, actOf(a))));

      const [exchanged] = await ledgerOf(tollgate, c.id, ['token.exchanged']);
      expect(exchanged?.data).toMatchObject({
        exchange: 'delegation',
        subject_token_issuer: idp.issuer,
        act: actOf(c, actOf(b, actOf(a))),
      });

      const tokenD = (await exchangeTokenOk(d, tokenC, 'search')).token;
      const tokenE = (await exchangeTokenOk(e, tokenD, 'search')).token;
      await expectRefusal(
        tollgate,
        await exchangeToken(f, tokenE, 'search'),
        f,
        'invalid_request',
        'actor_chain_too_deep',
      );
    });

    it('closing the root session of a chain closes every session down it', async () => {
      const [a, b, c] = (await Promise.all([1, 2, 3].map(() => delegatingAgent()))) as [
        TestAgent,
        TestAgent,
        TestAgent,
      ];
      const tokenA = await openForAlice(a);
      const tokenB = (await exchangeTokenOk(b, tokenA, 'search')).token;
      const tokenC = (await exchangeTokenOk(c, tokenB, 'search')).token;

      expect((await closeBearer(tokenA)).status).toBe(200);

      await expectInactive(tollgate, tools, tokenB);
      await expectInactive(tollgate, tools, tokenC);
    });
  });
});
