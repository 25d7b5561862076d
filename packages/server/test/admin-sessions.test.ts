import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';

import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';

import { CLI_AUDIT, createAgent, newRowId } from '@tollgate/core';
import { insertIssuedToken, insertSession, type NewSession } from '@tollgate/db';

import { createTestDatabase, type TestDatabase } from '../../db/test/support/database.js';
import { createAdminApp, type AdminPrincipal } from '../src/admin/app.js';
import { components } from '../src/admin/openapi.js';
import * as schemas from '../src/admin/schemas.js';
import { createLogger } from '../src/logger.js';

const TOKEN = 'admin-token-1';
const ADMIN: AdminPrincipal = { clientId: 'adm_sessions' };
const UNKNOWN_ID = '00000000-0000-4000-8000-000000000000';
const MINUTE = 60_000;

/** Parsed response JSON, loosely typed so tests can poke at it (JSON.parse's own type). */
type Json = ReturnType<typeof JSON.parse>;

interface Reply {
  status: number;
  headers: Headers;
  body: Json;
}

describe('management API: trusted issuers, delegation and sessions', () => {
  let test: TestDatabase;
  let server: Server;
  let base: string;
  const logLines: string[] = [];

  async function call(method: string, path: string, json?: unknown): Promise<Reply> {
    const headers: Record<string, string> = { authorization: `Bearer ${TOKEN}` };

    if (json !== undefined) headers['content-type'] = 'application/json';

    const body = json === undefined ? undefined : JSON.stringify(json);
    const response = await fetch(`${base}${path}`, { method, headers, body });
    const text = await response.text();

    return {
      status: response.status,
      headers: response.headers,
      body: text === '' ? undefined : JSON.parse(text),
    };
  }

  function expectProblem(reply: Reply, status: number, code: string): void {
    expect(reply.status).toBe(status);
    expect(reply.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(reply.body).toMatchObject({
      status,
      code,
      type: `https://tollgate.dev/problems/${code}`,
    });
  }

  const ids = (reply: Reply): string[] => reply.body.items.map((item: { id: string }) => item.id);

  beforeAll(async () => {
    test = await createTestDatabase();
    const logger = createLogger({
      level: 'info',
      destination: { write: (line: string) => void logLines.push(line) },
    });
    const authenticate = async (token: string) => (token === TOKEN ? ADMIN : undefined);
    const app = createAdminApp({ db: test.database.db, logger, authenticate });

    server = app.listen(0, '127.0.0.1');
    await new Promise<void>((resolve) => server.once('listening', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    await new Promise<void>((resolve, reject) =>
      server.close((error) => (error ? reject(error) : resolve())),
    );
    await test.drop();
  });

  async function publicJwks(): Promise<{ keys: Record<string, unknown>[] }> {
    const { publicKey } = await crypto.subtle.generateKey(
      { name: 'ECDSA', namedCurve: 'P-256' },
      true,
      ['sign', 'verify'],
    );

    return { keys: [{ ...(await crypto.subtle.exportKey('jwk', publicKey)), kid: 'idp-1' }] };
  }

  describe('trusted issuers', () => {
    const createIssuer = (body: Record<string, unknown>) =>
      call('POST', '/v1/trusted-issuers', { audiences: ['tollgate'], ...body });

    it('trusts an issuer by JWKS URL or by inline keys, and reads and lists them', async () => {
      const byUrl = await createIssuer({
        issuer: 'https://idp-a.example.com',
        jwks_uri: 'https://idp-a.example.com/.well-known/jwks.json',
      });
      const inline = await createIssuer({
        issuer: 'https://idp-b.example.com/tenant',
        jwks: await publicJwks(),
        audiences: ['tollgate', 'tollgate', 'api://agents'],
        user_claim: 'email',
      });
      const read = await call('GET', `/v1/trusted-issuers/${inline.body.id}`);
      const list = await call('GET', '/v1/trusted-issuers');

      expect(byUrl.status).toBe(201);
      expect(byUrl.headers.get('location')).toBe(`/v1/trusted-issuers/${byUrl.body.id}`);
      expect(byUrl.body).toMatchObject({
        issuer: 'https://idp-a.example.com',
        jwks_uri: 'https://idp-a.example.com/.well-known/jwks.json',
        jwks: null,
        audiences: ['tollgate'],
        user_claim: 'sub',
        status: 'active',
      });
      expect(inline.status).toBe(201);
      expect(inline.body).toMatchObject({
        jwks_uri: null,
        jwks: { keys: [expect.objectContaining({ kid: 'idp-1', kty: 'EC' })] },
        audiences: ['tollgate', 'api://agents'],
        user_claim: 'email',
      });
      expect(read.body).toEqual(inline.body);
      expect(list.body.next_cursor).toBeNull();
      expect(ids(list)).toEqual(expect.arrayContaining([byUrl.body.id, inline.body.id]));
    });

    it('accepts an http JWKS URL on loopback only', async () => {
      const loopback = await createIssuer({
        issuer: 'http://127.0.0.1:9999',
        jwks_uri: 'http://127.0.0.1:9999/jwks',
      });
      const remote = await createIssuer({
        issuer: 'https://idp-http.example.com',
        jwks_uri: 'http://idp-http.example.com/jwks',
      });

      expect(loopback.status).toBe(201);
      expectProblem(remote, 400, 'invalid_input');
      expect(remote.body.errors).toEqual([{ path: 'jwks_uri', message: expect.any(String) }]);
    });

    it('wants exactly one key source, a URL issuer and at least one audience', async () => {
      const jwks = await publicJwks();
      const both = await createIssuer({
        issuer: 'https://idp-both.example.com',
        jwks_uri: 'https://idp-both.example.com/jwks',
        jwks,
      });
      const neither = await createIssuer({ issuer: 'https://idp-none.example.com' });
      const badUrl = await createIssuer({ issuer: 'not a url', jwks });
      const withQuery = await createIssuer({ issuer: 'https://idp.example.com/?t=1', jwks });
      const noAudience = await createIssuer({
        issuer: 'https://idp-aud.example.com',
        jwks,
        audiences: [],
      });
      const privateKey = await createIssuer({
        issuer: 'https://idp-key.example.com',
        jwks: { keys: [{ kty: 'oct', k: 'c2VjcmV0' }] },
      });

      for (const reply of [both, neither, badUrl, withQuery, noAudience, privateKey]) {
        expectProblem(reply, 400, 'invalid_input');
      }

      for (const reply of [both, neither]) {
        expect(reply.body.errors).toEqual([
          { path: 'jwks_uri', message: 'exactly one of jwks_uri and jwks is required' },
        ]);
      }

      expect(badUrl.body.errors).toEqual([
        { path: 'issuer', message: expect.stringContaining('uri') },
      ]);
      expect(withQuery.body.errors).toEqual([{ path: 'issuer', message: expect.any(String) }]);
      expect(noAudience.body.errors).toEqual([{ path: 'audiences', message: expect.any(String) }]);
      expect(privateKey.body.errors).toEqual([
        { path: 'jwks/keys/0', message: expect.any(String) },
      ]);
    });

    it('refuses to trust the same issuer twice', async () => {
      const body = {
        issuer: 'https://idp-dup.example.com',
        jwks_uri: 'https://idp-dup.example.com/k',
      };
      const first = await createIssuer(body);
      const again = await createIssuer({ ...body, audiences: ['other'] });

      expect(first.status).toBe(201);
      expectProblem(again, 409, 'conflict');
    });

    it('patches an issuer, swaps its key source and disables it', async () => {
      const { id } = (
        await createIssuer({ issuer: 'https://idp-patch.example.com', jwks: await publicJwks() })
      ).body;
      const patched = await call('PATCH', `/v1/trusted-issuers/${id}`, {
        audiences: ['a', 'b'],
        user_claim: 'preferred_username',
        jwks_uri: 'https://idp-patch.example.com/jwks',
      });
      const disabled = await call('POST', `/v1/trusted-issuers/${id}/disable`);
      const reenabled = await call('PATCH', `/v1/trusted-issuers/${id}`, { status: 'active' });
      const ledger = await call('GET', '/v1/ledger?kind=trusted_issuer.updated&limit=200');

      expect(patched.status).toBe(200);
      expect(patched.body).toMatchObject({
        id,
        audiences: ['a', 'b'],
        user_claim: 'preferred_username',
        jwks_uri: 'https://idp-patch.example.com/jwks',
        jwks: null,
        status: 'active',
      });
      expect(disabled.body).toMatchObject({ id, status: 'disabled' });
      expect(reenabled.body.status).toBe('active');
      expect(
        ledger.body.items.filter(
          (event: Json) => event.data.trusted_issuer_id === id && event.actor === 'adm_sessions',
        ),
      ).toHaveLength(3);
    });

    it('validates patches and answers 404 for unknown issuers', async () => {
      const { id } = (
        await createIssuer({ issuer: 'https://idp-pv.example.com', jwks: await publicJwks() })
      ).body;
      const empty = await call('PATCH', `/v1/trusted-issuers/${id}`, {});
      const noAudience = await call('PATCH', `/v1/trusted-issuers/${id}`, { audiences: [] });
      const both = await call('PATCH', `/v1/trusted-issuers/${id}`, {
        jwks_uri: 'https://idp-pv.example.com/jwks',
        jwks: await publicJwks(),
      });
      const rename = await call('PATCH', `/v1/trusted-issuers/${id}`, { issuer: 'https://x.test' });
      const badStatus = await call('PATCH', `/v1/trusted-issuers/${id}`, { status: 'gone' });

      for (const reply of [empty, noAudience, both, rename, badStatus]) {
        expectProblem(reply, 400, 'invalid_input');
      }

      expect(rename.body.errors).toEqual([{ path: 'issuer', message: 'unknown property' }]);
      expectProblem(await call('GET', `/v1/trusted-issuers/${UNKNOWN_ID}`), 404, 'not_found');
      expectProblem(await call('GET', '/v1/trusted-issuers/not-a-uuid'), 404, 'not_found');
      expectProblem(
        await call('PATCH', `/v1/trusted-issuers/${UNKNOWN_ID}`, { user_claim: 'sub' }),
        404,
        'not_found',
      );
      expectProblem(
        await call('POST', `/v1/trusted-issuers/${UNKNOWN_ID}/disable`),
        404,
        'not_found',
      );
    });
  });

  describe('agent delegation and session limits', () => {
    const newAgent = (overrides: Record<string, unknown> = {}) =>
      call('POST', '/v1/agents', {
        name: 'delegate',
        owner: 'support',
        tools: ['search'],
        audiences: ['https://tools.example.com'],
        ...overrides,
      });

    it('defaults the policy and limits, and stores given ones', async () => {
      const plain = await newAgent();
      const given = await newAgent({
        delegation: {
          trusted_issuers: ['https://idp-a.example.com', 'https://idp-a.example.com'],
          allowed_subjects: ['alice', 'bob'],
        },
        session_max_seconds: 7200,
        session_idle_seconds: 300,
      });
      const read = await call('GET', `/v1/agents/${given.body.id}`);

      expect(plain.body).toMatchObject({
        delegation: { trusted_issuers: [] },
        session_max_seconds: 3600,
        session_idle_seconds: null,
      });
      expect(given.status).toBe(201);
      expect(read.body).toMatchObject({
        delegation: {
          trusted_issuers: ['https://idp-a.example.com'],
          allowed_subjects: ['alice', 'bob'],
        },
        session_max_seconds: 7200,
        session_idle_seconds: 300,
      });
    });

    it('patches the policy and limits, and clears the idle limit with null', async () => {
      const { id } = (await newAgent({ session_idle_seconds: 60 })).body;
      const patched = await call('PATCH', `/v1/agents/${id}`, {
        delegation: { trusted_issuers: ['https://idp-b.example.com/tenant'] },
        session_max_seconds: 604800,
      });
      const cleared = await call('PATCH', `/v1/agents/${id}`, { session_idle_seconds: null });

      expect(patched.status).toBe(200);
      expect(patched.body).toMatchObject({
        delegation: { trusted_issuers: ['https://idp-b.example.com/tenant'] },
        session_max_seconds: 604800,
        session_idle_seconds: 60,
      });
      expect(patched.body.delegation.allowed_subjects).toBeUndefined();
      expect(cleared.body.session_idle_seconds).toBeNull();
    });

    it('validates the policy and the limits', async () => {
      const tooManyIssuers = await newAgent({
        delegation: {
          trusted_issuers: Array.from({ length: 21 }, (_, i) => `https://idp${i}.example.com`),
        },
      });
      const notUrl = await newAgent({ delegation: { trusted_issuers: ['idp'] } });
      const longSubject = await newAgent({ delegation: { allowed_subjects: ['x'.repeat(257)] } });
      const unknownKey = await newAgent({ delegation: { everyone: true } });
      const zero = await newAgent({ session_max_seconds: 0 });
      const tooLong = await newAgent({ session_max_seconds: 604801 });
      const nullOnCreate = await newAgent({ session_idle_seconds: null });
      const { id } = (await newAgent()).body;
      const badPatch = await call('PATCH', `/v1/agents/${id}`, {
        session_idle_seconds: 1.5,
        session_max_seconds: null,
      });

      expect(tooManyIssuers.body.errors).toEqual([
        { path: 'delegation/trusted_issuers', message: expect.stringContaining('20') },
      ]);
      expect(notUrl.body.errors).toEqual([
        { path: 'delegation/trusted_issuers/0', message: expect.stringContaining('uri') },
      ]);
      expect(longSubject.body.errors).toEqual([
        { path: 'delegation/allowed_subjects/0', message: expect.stringContaining('256') },
      ]);
      expect(unknownKey.body.errors).toEqual([
        { path: 'delegation/everyone', message: 'unknown property' },
      ]);
      expect(zero.body.errors).toEqual([{ path: 'session_max_seconds', message: 'must be >= 1' }]);
      expect(tooLong.body.errors).toEqual([
        { path: 'session_max_seconds', message: 'must be <= 604800' },
      ]);
      expectProblem(nullOnCreate, 400, 'invalid_input');
      expectProblem(badPatch, 400, 'invalid_input');
      expect(badPatch.body.errors.map((error: { path: string }) => error.path).sort()).toEqual([
        'session_idle_seconds',
        'session_max_seconds',
      ]);
    });
  });

  describe('sessions', () => {
    const epoch = Date.now() - 60 * MINUTE;

    async function newAgentId(): Promise<string> {
      const input = { name: 'worker', owner: 'ops', tools: ['search'], audiences: [] };

      return (await createAgent(test.database.db, input, CLI_AUDIT)).agent.id;
    }

    /** A session opened `minute` minutes after the epoch, open for an hour unless told. */
    async function openSession(
      agentId: string,
      minute: number,
      overrides: Partial<NewSession> = {},
    ): Promise<string> {
      const row = await insertSession(test.database.db, {
        id: newRowId(),
        client_pk: agentId,
        subject: 'alice',
        subject_issuer: 'https://idp-a.example.com',
        tools: ['search'],
        audience: 'https://tools.example.com/',
        opened_at: new Date(epoch + minute * MINUTE),
        deadline: new Date(Date.now() + 60 * MINUTE),
        ...overrides,
      });

      return row.id;
    }

    it('lists sessions filtered by agent, state, subject and time', async () => {
      const agent = await newAgentId();
      const other = await newAgentId();
      const open = await openSession(agent, 1);
      const closed = await openSession(agent, 2, {
        closed_at: new Date(),
        close_reason: 'closed_by_agent',
      });
      const lapsed = await openSession(agent, 3, { deadline: new Date(Date.now() - MINUTE) });
      const bob = await openSession(agent, 4, { subject: 'bob' });
      const foreign = await openSession(other, 5);
      const at = (minute: number) => new Date(epoch + minute * MINUTE).toISOString();

      const all = await call('GET', `/v1/sessions?agent_id=${agent}`);
      const openOnly = await call('GET', `/v1/sessions?agent_id=${agent}&state=open`);
      const closedOnly = await call('GET', `/v1/sessions?agent_id=${agent}&state=closed`);
      const ofBob = await call('GET', `/v1/sessions?agent_id=${agent}&subject=bob`);
      const window = await call('GET', `/v1/sessions?agent_id=${agent}&from=${at(2)}&to=${at(4)}`);
      const ofOther = await call('GET', `/v1/sessions?agent_id=${other}`);

      expect(ids(all)).toEqual([bob, lapsed, closed, open]);
      expect(all.body.next_cursor).toBeNull();
      expect(all.body.items[3]).toMatchObject({
        id: open,
        agent_id: agent,
        state: 'open',
        subject: 'alice',
        subject_issuer: 'https://idp-a.example.com',
        tools: ['search'],
        act: null,
        closed_at: null,
      });
      expect(ids(openOnly)).toEqual([bob, open]);
      expect(ids(closedOnly)).toEqual([lapsed, closed]);
      expect(closedOnly.body.items[0]).toMatchObject({ state: 'closed', closed_at: null });
      expect(closedOnly.body.items[1]).toMatchObject({ close_reason: 'closed_by_agent' });
      expect(ids(ofBob)).toEqual([bob]);
      expect(ids(window)).toEqual([lapsed, closed]);
      expect(ids(ofOther)).toEqual([foreign]);
    });

    it('pages through sessions with the cursor', async () => {
      const agent = await newAgentId();
      const opened: string[] = [];

      for (let minute = 10; minute < 15; minute += 1) {
        opened.push(await openSession(agent, minute));
      }

      const seen: string[] = [];
      let cursor: string | null = null;
      let pages = 0;

      do {
        const after: string = cursor === null ? '' : `&cursor=${cursor}`;
        const page = await call('GET', `/v1/sessions?agent_id=${agent}&limit=2${after}`);

        expect(page.body.items.length).toBeLessThanOrEqual(2);
        seen.push(...ids(page));
        cursor = page.body.next_cursor;
        pages += 1;
      } while (cursor !== null);

      expect(seen).toEqual([...opened].reverse());
      expect(pages).toBe(3);
    });

    it('refuses bad list queries', async () => {
      const badState = await call('GET', '/v1/sessions?state=lapsed');
      const badAgent = await call('GET', '/v1/sessions?agent_id=42');
      const badDay = await call('GET', '/v1/sessions?to=2024-02-30T00:00:00Z');
      const badCursor = await call('GET', '/v1/sessions?cursor=nonsense');
      const unknown = await call('GET', '/v1/sessions?owner=ops');

      for (const reply of [badState, badAgent, badDay, badCursor, unknown]) {
        expectProblem(reply, 400, 'invalid_input');
      }

      expect(badState.body.errors).toEqual([{ path: 'state', message: expect.any(String) }]);
      expect(unknown.body.errors).toEqual([{ path: 'owner', message: 'unknown query parameter' }]);
    });

    it('shows a session with its tokens and ledger events', async () => {
      const agent = await newAgentId();
      const id = await openSession(agent, 20);
      const issuedAt = new Date();

      await insertIssuedToken(test.database.db, {
        token: {
          tokenId: 'tok-detail-1',
          clientPk: agent,
          sessionId: id,
          model: 'AccessToken',
          audience: 'https://tools.example.com/',
          scope: 'search',
          payload: {},
          issuedAt,
          expiresAt: new Date(issuedAt.getTime() + 10 * MINUTE),
        },
        events: [{ kind: 'token.issued', agentId: agent, sessionId: id, tokenId: 'tok-detail-1' }],
      });

      const detail = await call('GET', `/v1/sessions/${id}`);

      expect(detail.status).toBe(200);
      expect(detail.body).toMatchObject({ id, state: 'open', agent_id: agent });
      expect(detail.body.tokens).toEqual([
        {
          token_id: 'tok-detail-1',
          tools: ['search'],
          audience: 'https://tools.example.com/',
          issued_at: issuedAt.toISOString(),
          expires_at: expect.any(String),
          revoked_at: null,
          revoked_reason: null,
        },
      ]);
      expect(detail.body.events).toEqual([
        expect.objectContaining({ kind: 'token.issued', session_id: id, token_id: 'tok-detail-1' }),
      ]);
      expectProblem(await call('GET', `/v1/sessions/${UNKNOWN_ID}`), 404, 'not_found');
      expectProblem(await call('GET', '/v1/sessions/not-a-uuid'), 404, 'not_found');
    });

    it('closes a session and those opened from it, once', async () => {
      const agent = await newAgentId();
      const parent = await openSession(agent, 30);
      const child = await openSession(agent, 31, { parent_session_id: parent });
      const closed = await call('POST', `/v1/sessions/${parent}/close`);
      const childAfter = await call('GET', `/v1/sessions/${child}`);
      const ledger = await call('GET', `/v1/ledger?agent_id=${agent}&kind=session.closed`);
      const again = await call('POST', `/v1/sessions/${parent}/close`);

      expect(closed.status).toBe(200);
      expect(closed.body).toMatchObject({
        id: parent,
        state: 'closed',
        closed_at: expect.any(String),
        close_reason: 'closed_by_admin',
        tokens: [],
      });
      expect(closed.body.events).toEqual([
        expect.objectContaining({ kind: 'session.closed', data: { reason: 'closed_by_admin' } }),
      ]);
      expect(childAfter.body).toMatchObject({ state: 'closed', closed_at: expect.any(String) });
      expect(ledger.body.items).toEqual(
        expect.arrayContaining([
          expect.objectContaining({
            session_id: parent,
            actor: 'adm_sessions',
            subject: 'alice',
            data: { reason: 'closed_by_admin' },
          }),
          expect.objectContaining({ session_id: child, data: { reason: 'parent_closed' } }),
        ]),
      );
      expect(ledger.body.items).toHaveLength(2);
      expectProblem(again, 409, 'conflict');
      expect(again.body.detail).toBe('session already closed');

      const change = logLines
        .map((line) => JSON.parse(line))
        .find((entry) => entry.event === 'session.closed' && entry.sessionId === parent);

      expect(change).toMatchObject({ actor: 'adm_sessions', agentId: agent, sessionsClosed: '2' });
    });

    it('refuses to close lapsed, unknown and malformed sessions', async () => {
      const agent = await newAgentId();
      const lapsed = await openSession(agent, 40, { deadline: new Date(Date.now() - MINUTE) });
      const refused = await call('POST', `/v1/sessions/${lapsed}/close`);

      expectProblem(refused, 409, 'conflict');
      expect((await call('GET', `/v1/sessions/${lapsed}`)).body.close_reason).toBeNull();
      expectProblem(await call('POST', `/v1/sessions/${UNKNOWN_ID}/close`), 404, 'not_found');
      expectProblem(await call('POST', '/v1/sessions/not-a-uuid/close'), 404, 'not_found');
    });
  });

  describe('OpenAPI document', () => {
    it('embeds the validators’ schema objects and describes the real answers', async () => {
      const document = (await fetch(`${base}/openapi.json`).then((r) => r.json())) as Json;
      const ajv = new Ajv2020({ strict: false });
      addFormats.default(ajv);
      ajv.addSchema(document, 'openapi');
      const check = (name: string, value: unknown) =>
        ajv.validate({ $ref: `openapi#/components/schemas/${name}` }, value) || ajv.errorsText();

      const agentId = (
        await call('POST', '/v1/agents', {
          name: 'doc',
          owner: 'docs',
          tools: ['search'],
          audiences: [],
          delegation: { allowed_subjects: ['alice'] },
        })
      ).body.id;
      const issuer = await call('POST', '/v1/trusted-issuers', {
        issuer: 'https://idp-doc.example.com',
        jwks_uri: 'https://idp-doc.example.com/jwks',
        audiences: ['tollgate'],
      });
      const session = await insertSession(test.database.db, {
        id: newRowId(),
        client_pk: agentId,
        tools: [],
        actor_chain: JSON.stringify({ sub: 'agt_a', act: { sub: 'agt_b' } }),
        deadline: new Date(Date.now() + MINUTE),
      });
      const closed = await call('POST', `/v1/sessions/${session.id}/close`);

      expect(components.TrustedIssuerCreate).toBe(schemas.trustedIssuerCreate);
      expect(components.TrustedIssuerUpdate).toBe(schemas.trustedIssuerUpdate);
      expect(document.paths['/v1/sessions'].get.parameters.map((p: Json) => p.name)).toEqual([
        'agent_id',
        'subject',
        'state',
        'from',
        'to',
        'cursor',
        'limit',
      ]);
      expect(document.paths['/v1/sessions/{id}/close'].post.requestBody).toBeUndefined();
      expect(check('Agent', (await call('GET', `/v1/agents/${agentId}`)).body)).toBe(true);
      expect(check('TrustedIssuer', issuer.body)).toBe(true);
      expect(check('TrustedIssuerList', (await call('GET', '/v1/trusted-issuers')).body)).toBe(
        true,
      );
      expect(check('SessionPage', (await call('GET', '/v1/sessions?limit=5')).body)).toBe(true);
      expect(closed.body.act).toEqual({ sub: 'agt_a', act: { sub: 'agt_b' } });
      expect(check('SessionDetail', closed.body)).toBe(true);
      expect(check('SessionDetail', { ...closed.body, state: 'lapsed' })).not.toBe(true);
    });
  });
});
