import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';

import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';

import { DatabaseUnavailableError } from '@tollgate/db';

import { createTestDatabase, type TestDatabase } from '../../db/test/support/database.js';
import { createAdminApp, type AdminPrincipal } from '../src/admin/app.js';
import { buildOpenApiDocument, components } from '../src/admin/openapi.js';
import * as schemas from '../src/admin/schemas.js';
import { createLogger } from '../src/logger.js';

const TOKEN = 'admin-token-1';
const ADMIN: AdminPrincipal = { clientId: 'adm_test' };

/** Parsed response JSON, loosely typed so tests can poke at it (JSON.parse's own type). */
type Json = ReturnType<typeof JSON.parse>;

interface Reply {
  status: number;
  headers: Headers;
  body: Json;
}

interface CallOptions {
  token?: string | null;
  json?: unknown;
  raw?: string;
  contentType?: string;
  headers?: Record<string, string>;
}

describe('management API', () => {
  let test: TestDatabase;
  let server: Server;
  let base: string;
  const logLines: string[] = [];

  async function authenticate(token: string): Promise<AdminPrincipal | undefined> {
    if (token === 'db-down') throw new DatabaseUnavailableError('connection refused');
    if (token === 'explode') throw new Error('boom: internal detail');

    return token === TOKEN ? ADMIN : undefined;
  }

  async function call(method: string, path: string, options: CallOptions = {}): Promise<Reply> {
    const headers: Record<string, string> = { ...options.headers };
    const token = options.token === undefined ? TOKEN : options.token;
    const body = options.json === undefined ? options.raw : JSON.stringify(options.json);

    if (token !== null) headers.authorization = `Bearer ${token}`;
    if (body !== undefined) headers['content-type'] = options.contentType ?? 'application/json';

    const response = await fetch(`${base}${path}`, { method, headers, body });
    const text = await response.text();

    return {
      status: response.status,
      headers: response.headers,
      body: text === '' ? undefined : JSON.parse(text),
    };
  }

  const createAgent = (overrides: Record<string, unknown> = {}) =>
    call('POST', '/v1/agents', {
      json: {
        name: 'triage',
        owner: 'support',
        tools: ['search', 'tickets.read'],
        audiences: ['https://Tools.example.com'],
        ...overrides,
      },
    });

  function expectProblem(reply: Reply, status: number, code: string): void {
    expect(reply.status).toBe(status);
    expect(reply.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(reply.body).toMatchObject({
      type: `https://tollgate.dev/problems/${code}`,
      status,
      code,
      request_id: reply.headers.get('x-request-id'),
    });
    expect(typeof reply.body.title).toBe('string');
    expect(typeof reply.body.detail).toBe('string');
  }

  beforeAll(async () => {
    test = await createTestDatabase();
    const logger = createLogger({
      level: 'debug',
      destination: { write: (line: string) => void logLines.push(line) },
    });
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

  describe('authentication', () => {
    it('answers 401 with a bare challenge when no token is sent', async () => {
      const reply = await call('GET', '/v1/agents', { token: null });

      expectProblem(reply, 401, 'unauthorized');
      expect(reply.headers.get('www-authenticate')).toBe('Bearer realm="tollgate-admin"');
    });

    it('answers 401 with invalid_token for a bad or malformed token', async () => {
      const bad = await call('GET', '/v1/agents', { token: 'not-the-token' });
      const malformed = await call('GET', '/v1/agents', {
        token: null,
        headers: { authorization: 'Basic YTpi' },
      });

      for (const reply of [bad, malformed]) {
        expectProblem(reply, 401, 'unauthorized');
        expect(reply.headers.get('www-authenticate')).toBe(
          'Bearer realm="tollgate-admin", error="invalid_token"',
        );
      }
    });

    it('guards unknown /v1 paths and does not route other spellings of /v1', async () => {
      const unknown = await call('GET', '/v1/nothing-here', { token: null });
      const upper = await call('GET', '/V1/agents', { token: null });

      expectProblem(unknown, 401, 'unauthorized');
      expectProblem(upper, 404, 'not_found');
    });

    it('serves the OpenAPI document without a token', async () => {
      const reply = await call('GET', '/openapi.json', { token: null });

      expect(reply.status).toBe(200);
      expect(reply.body.openapi).toBe('3.1.0');
    });
  });

  describe('errors', () => {
    it('renders unknown routes as 404 and wrong methods as 405 with Allow', async () => {
      const missing = await call('GET', '/nope', { token: null });
      const missingV1 = await call('GET', '/v1/nope');
      const wrongMethod = await call('PUT', '/v1/agents', { json: {} });

      expectProblem(missing, 404, 'not_found');
      expectProblem(missingV1, 404, 'not_found');
      expectProblem(wrongMethod, 405, 'method_not_allowed');
      expect(wrongMethod.headers.get('allow')?.split(/,\s*/).sort()).toEqual([
        'GET',
        'HEAD',
        'POST',
      ]);
    });

    it('maps an unavailable database to 503 with Retry-After', async () => {
      const reply = await call('GET', '/v1/agents', { token: 'db-down' });

      expectProblem(reply, 503, 'service_unavailable');
      expect(reply.headers.get('retry-after')).toBe('1');
    });

    it('answers other failures with a generic 500 and logs the error', async () => {
      const reply = await call('GET', '/v1/agents', { token: 'explode' });

      expectProblem(reply, 500, 'internal');
      expect(JSON.stringify(reply.body)).not.toContain('boom');
      expect(logLines.some((line) => line.includes('boom: internal detail'))).toBe(true);
    });

    it('refuses bodies that are not JSON, too large or malformed', async () => {
      const wrongType = await call('POST', '/v1/agents', {
        raw: 'name=x',
        contentType: 'text/plain',
      });
      const tooLarge = await createAgent({ description: 'x'.repeat(70 * 1024) });
      const malformed = await call('POST', '/v1/agents', { raw: '{"name": ' });
      const missing = await call('POST', '/v1/agents');

      expectProblem(wrongType, 415, 'unsupported_media_type');
      expectProblem(tooLarge, 413, 'payload_too_large');
      expectProblem(malformed, 400, 'invalid_input');
      expectProblem(missing, 400, 'invalid_input');
    });

    it('refuses a chunked body once it passes the limit', async () => {
      const chunk = new TextEncoder().encode(`"${'y'.repeat(16 * 1024)}",`);
      const stream = new ReadableStream<Uint8Array>({
        start(controller) {
          for (let i = 0; i < 6; i += 1) controller.enqueue(chunk);
          controller.close();
        },
      });
      const response = await fetch(`${base}/v1/agents`, {
        method: 'POST',
        headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
        body: stream,
        duplex: 'half',
      });

      expect(response.status).toBe(413);
      expect(JSON.parse(await response.text()).code).toBe('payload_too_large');
    });
  });

  describe('agents', () => {
    it('creates an agent and shows its secret exactly once', async () => {
      const created = await createAgent();
      const { id, client_secret: secret } = created.body;
      const read = await call('GET', `/v1/agents/${id}`);
      const list = await call('GET', '/v1/agents?owner=support');

      expect(created.status).toBe(201);
      expect(created.headers.get('location')).toBe(`/v1/agents/${id}`);
      expect(created.headers.get('cache-control')).toBe('no-store');
      expect(secret).toMatch(/^tgsk_/);
      expect(created.body).toMatchObject({
        name: 'triage',
        owner: 'support',
        audiences: ['https://tools.example.com/'],
        status: 'active',
        token_endpoint_auth_method: 'client_secret_basic',
        secret_id: expect.any(String),
      });
      expect(read.status).toBe(200);
      expect(read.body.client_secret).toBeUndefined();
      expect(read.body).toEqual(
        Object.fromEntries(
          Object.entries(created.body).filter(
            ([key]) => !['client_secret', 'secret_id'].includes(key),
          ),
        ),
      );
      expect(read.headers.get('cache-control')).toBeNull();
      expect(list.body.items.map((item: { id: string }) => item.id)).toContain(id);
      expect(JSON.stringify(list.body)).not.toContain(secret);
    });

    it('logs the change with the actor, and never a secret', async () => {
      const created = await createAgent({ name: 'logged' });
      const entries = logLines.map((line) => JSON.parse(line));
      const change = entries.find(
        (entry) => entry.event === 'agent.created' && entry.agentId === created.body.id,
      );

      expect(change).toMatchObject({ level: 30, actor: 'adm_test', reqId: expect.any(String) });
      expect(logLines.join('\n')).not.toContain(created.body.client_secret);
    });

    it('reports every schema problem with its path', async () => {
      const reply = await call('POST', '/v1/agents', {
        json: { name: '', tools: ['a'], audiences: ['not a uri'], colour: 'blue' },
      });

      expectProblem(reply, 400, 'invalid_input');
      expect(reply.body.errors).toEqual(
        expect.arrayContaining([
          { path: 'owner', message: 'is required' },
          { path: 'colour', message: 'unknown property' },
          { path: 'name', message: expect.stringContaining('fewer than 1') },
          { path: 'audiences/0', message: expect.stringContaining('uri') },
        ]),
      );
    });

    it('refuses bad tool names, too many tools and bad lifetimes', async () => {
      const badTool = await createAgent({ tools: ['search', 'has space'] });
      const reserved = await createAgent({ tools: ['admin'] });
      const tooMany = await createAgent({ tools: Array.from({ length: 101 }, (_, i) => `t${i}`) });
      const ttl = await createAgent({ token_ttl_seconds: 0 });

      expectProblem(badTool, 400, 'invalid_input');
      expect(badTool.body.errors).toEqual([{ path: 'tools/1', message: 'not a valid tool name' }]);
      expect(reserved.body.errors).toEqual([{ path: 'tools/0', message: '"admin" is reserved' }]);
      expect(tooMany.body.errors).toEqual([{ path: 'tools', message: expect.any(String) }]);
      expect(ttl.body.errors).toEqual([{ path: 'token_ttl_seconds', message: 'must be >= 1' }]);
    });

    it('refuses out-of-range limits and unknown query parameters', async () => {
      const zero = await call('GET', '/v1/agents?limit=0');
      const large = await call('GET', '/v1/agents?limit=201');
      const text = await call('GET', '/v1/agents?limit=ten');
      const unknown = await call('GET', '/v1/agents?colour=blue');
      const repeated = await call('GET', '/v1/agents?owner=a&owner=b');
      const onRead = await call('GET', '/v1/agents/00000000-0000-4000-8000-000000000000?x=1');

      for (const reply of [zero, large, text]) {
        expectProblem(reply, 400, 'invalid_input');
        expect(reply.body.errors).toEqual([{ path: 'limit', message: expect.any(String) }]);
      }

      expect(unknown.body.errors).toEqual([{ path: 'colour', message: 'unknown query parameter' }]);
      expect(repeated.body.errors).toEqual([{ path: 'owner', message: 'must be string' }]);
      expectProblem(onRead, 400, 'invalid_input');
    });

    it('pages through a list with the cursor and filters by owner and status', async () => {
      const ids: string[] = [];

      for (let i = 0; i < 5; i += 1) {
        ids.push((await createAgent({ name: `pager-${i}`, owner: 'paging' })).body.id);
      }

      await call('POST', `/v1/agents/${ids[1]}/disable`);

      const seen: string[] = [];
      let cursor: string | null = null;
      let pages = 0;

      do {
        const query: string = cursor === null ? '' : `&cursor=${cursor}`;
        const page = await call('GET', `/v1/agents?owner=paging&limit=2${query}`);

        expect(page.body.items.length).toBeLessThanOrEqual(2);
        seen.push(...page.body.items.map((item: { id: string }) => item.id));
        cursor = page.body.next_cursor;
        pages += 1;
      } while (cursor !== null);

      const disabled = await call('GET', '/v1/agents?owner=paging&status=disabled');
      const active = await call('GET', '/v1/agents?owner=paging&status=active&limit=200');
      const badCursor = await call('GET', '/v1/agents?cursor=nonsense');

      expect(seen).toEqual(ids);
      expect(pages).toBe(3);
      expect(disabled.body).toEqual({
        items: [expect.objectContaining({ id: ids[1] })],
        next_cursor: null,
      });
      expect(active.body.items.map((item: { id: string }) => item.id)).toEqual(
        ids.filter((id) => id !== ids[1]),
      );
      expectProblem(badCursor, 400, 'invalid_input');
    });

    it('patches an agent and refuses an empty patch', async () => {
      const { id } = (await createAgent({ description: 'first' })).body;
      const patched = await call('PATCH', `/v1/agents/${id}`, {
        json: { name: 'renamed', description: null, tools: ['search', 'search', 'mail.send'] },
      });
      const empty = await call('PATCH', `/v1/agents/${id}`, { json: {} });
      const unknown = await call('PATCH', '/v1/agents/00000000-0000-4000-8000-000000000000', {
        json: { name: 'x' },
      });
      const notAnId = await call('PATCH', '/v1/agents/not-an-id', { json: { name: 'x' } });

      expect(patched.status).toBe(200);
      expect(patched.body).toMatchObject({
        id,
        name: 'renamed',
        description: null,
        tools: ['search', 'mail.send'],
      });
      expect((await call('GET', `/v1/agents/${id}`)).body.name).toBe('renamed');
      expectProblem(empty, 400, 'invalid_input');
      expectProblem(unknown, 404, 'not_found');
      expectProblem(notAnId, 404, 'not_found');
    });

    it('disables and re-enables an agent with or without an empty body', async () => {
      const { id } = (await createAgent()).body;
      const disabled = await call('POST', `/v1/agents/${id}/disable`);
      const enabled = await call('POST', `/v1/agents/${id}/enable`, { json: {} });
      const withFields = await call('POST', `/v1/agents/${id}/disable`, { json: { now: true } });

      expect(disabled.status).toBe(200);
      expect(disabled.body).toMatchObject({ id, status: 'disabled' });
      expect(enabled.body).toMatchObject({ id, status: 'active' });
      expectProblem(withFields, 400, 'invalid_input');
      expect(withFields.body.errors).toEqual([{ path: 'now', message: 'unknown property' }]);
      expect((await call('GET', `/v1/agents/${id}`)).body.status).toBe('active');
    });

    it('creates a private_key_jwt agent without a secret', async () => {
      const { publicKey } = await crypto.subtle.generateKey(
        { name: 'ECDSA', namedCurve: 'P-256' },
        true,
        ['sign', 'verify'],
      );
      const jwk = await crypto.subtle.exportKey('jwk', publicKey);
      const reply = await createAgent({ jwks: { keys: [{ ...jwk, kid: 'k1' }] } });

      expect(reply.status).toBe(201);
      expect(reply.body.token_endpoint_auth_method).toBe('private_key_jwt');
      expect(reply.body.client_secret).toBeUndefined();
      expect(reply.headers.get('cache-control')).toBeNull();
    });
  });

  describe('agent secrets', () => {
    it('adds, lists and revokes secrets, never listing their values', async () => {
      const created = (await createAgent()).body;
      const added = await call('POST', `/v1/agents/${created.id}/secrets`, {
        json: { expires_in_seconds: 3600 },
      });
      const list = await call('GET', `/v1/agents/${created.id}/secrets`);

      expect(added.status).toBe(201);
      expect(added.headers.get('cache-control')).toBe('no-store');
      expect(added.body).toMatchObject({
        status: 'active',
        client_secret: expect.stringMatching(/^tgsk_/),
      });
      expect(Date.parse(added.body.expires_at) - Date.now()).toBeGreaterThan(3500 * 1000);
      expect(list.body.next_cursor).toBeNull();
      expect(list.body.items.map((item: { id: string }) => item.id)).toEqual([
        created.secret_id,
        added.body.id,
      ]);
      expect(JSON.stringify(list.body)).not.toContain('tgsk_');

      const revoked = await call(
        'POST',
        `/v1/agents/${created.id}/secrets/${created.secret_id}/revoke`,
      );
      const deleted = await call('DELETE', `/v1/agents/${created.id}/secrets/${added.body.id}`);
      const again = await call('DELETE', `/v1/agents/${created.id}/secrets/${added.body.id}`);
      const after = await call('GET', `/v1/agents/${created.id}/secrets`);

      expect(revoked.body).toMatchObject({ id: created.secret_id, status: 'revoked' });
      expect(deleted.body).toMatchObject({ id: added.body.id, status: 'revoked' });
      expectProblem(again, 404, 'not_found');
      expect(after.body.items.map((item: { status: string }) => item.status)).toEqual([
        'revoked',
        'revoked',
      ]);
    });

    it('rotates with overlap and validates the options', async () => {
      const created = (await createAgent()).body;
      const rotated = await call('POST', `/v1/agents/${created.id}/secrets`, {
        json: { old_secrets_expire_in_seconds: 60 },
      });
      const list = await call('GET', `/v1/agents/${created.id}/secrets`);
      const bad = await call('POST', `/v1/agents/${created.id}/secrets`, {
        json: { expires_in_seconds: -1 },
      });
      const noAgent = await call('GET', '/v1/agents/00000000-0000-4000-8000-000000000000/secrets');

      expect(rotated.status).toBe(201);
      expect(list.body.items[0].expires_at).not.toBeNull();
      expect(list.body.items[1].expires_at).toBeNull();
      expect(bad.body.errors).toEqual([{ path: 'expires_in_seconds', message: 'must be >= 0' }]);
      expectProblem(noAgent, 404, 'not_found');
    });
  });

  describe('resource servers', () => {
    it('creates, refuses a duplicate audience, reads, disables and lists', async () => {
      const created = await call('POST', '/v1/resource-servers', {
        json: { name: 'Tools', audience: 'https://RS.example.com' },
      });
      const duplicate = await call('POST', '/v1/resource-servers', {
        json: { name: 'Tools again', audience: 'https://rs.example.com/' },
      });
      const { id } = created.body;

      expect(created.status).toBe(201);
      expect(created.headers.get('location')).toBe(`/v1/resource-servers/${id}`);
      expect(created.headers.get('cache-control')).toBe('no-store');
      expect(created.body).toMatchObject({
        name: 'Tools',
        audience: 'https://rs.example.com/',
        status: 'active',
        client_secret: expect.stringMatching(/^tgsk_/),
        secret_id: expect.any(String),
      });
      expectProblem(duplicate, 409, 'conflict');

      const read = await call('GET', `/v1/resource-servers/${id}`);
      const disabled = await call('POST', `/v1/resource-servers/${id}/disable`);
      const list = await call('GET', '/v1/resource-servers?status=disabled');

      expect(read.body.client_secret).toBeUndefined();
      expect(read.body.audience).toBe('https://rs.example.com/');
      expect(disabled.body.status).toBe('disabled');
      expect(list.body.items.map((item: { id: string }) => item.id)).toEqual([id]);
    });

    it('validates the body', async () => {
      const reply = await call('POST', '/v1/resource-servers', {
        json: { name: 'x', audience: 42 },
      });

      expectProblem(reply, 400, 'invalid_input');
      expect(reply.body.errors).toEqual([{ path: 'audience', message: 'must be string' }]);
    });
  });

  describe('ledger', () => {
    it('lists events newest first, filtered by agent and kind, page by page', async () => {
      const { id } = (await createAgent()).body;

      await call('POST', `/v1/agents/${id}/disable`, {
        headers: { 'x-request-id': 'req-ledger-1' },
      });
      await call('POST', `/v1/agents/${id}/enable`);

      const all = await call('GET', `/v1/ledger?agent_id=${id}`);
      const first = await call(
        'GET',
        `/v1/ledger?agent_id=${id}&kind=agent.created,agent.disabled&limit=1`,
      );
      const second = await call(
        'GET',
        `/v1/ledger?agent_id=${id}&kind=agent.created,agent.disabled&limit=1` +
          `&cursor=${first.body.next_cursor}`,
      );

      expect(all.body.items.map((event: { kind: string }) => event.kind)).toEqual([
        'agent.enabled',
        'agent.disabled',
        'secret.added',
        'agent.created',
      ]);
      expect(all.body.items[1]).toMatchObject({
        agent_id: id,
        actor: 'adm_test',
        request_id: 'req-ledger-1',
        ip: expect.any(String),
        at: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
      });
      expect(first.body.items.map((event: { kind: string }) => event.kind)).toEqual([
        'agent.disabled',
      ]);
      expect(second.body.items.map((event: { kind: string }) => event.kind)).toEqual([
        'agent.created',
      ]);
      expect(BigInt(second.body.items[0].id)).toBeLessThan(BigInt(first.body.items[0].id));
      expect(second.body.next_cursor).toBeNull();
    });

    it('filters by time and refuses invalid dates and ids', async () => {
      const future = await call('GET', '/v1/ledger?from=2999-01-01T00:00:00Z');
      const past = await call('GET', '/v1/ledger?to=2000-01-01T00:00:00Z');
      const badDate = await call('GET', '/v1/ledger?from=yesterday');
      const badDay = await call('GET', '/v1/ledger?to=2024-02-30T00:00:00Z');
      const badAgent = await call('GET', '/v1/ledger?agent_id=42');
      const badKind = await call('GET', '/v1/ledger?kind=DROP%20TABLE');

      expect(future.body).toEqual({ items: [], next_cursor: null });
      expect(past.body.items).toEqual([]);
      expect(badDate.body.errors).toEqual([
        { path: 'from', message: expect.stringContaining('date-time') },
      ]);
      expectProblem(badDay, 400, 'invalid_input');
      expect(badAgent.body.errors).toEqual([
        { path: 'agent_id', message: expect.stringContaining('uuid') },
      ]);
      expect(badKind.body.errors).toEqual([{ path: 'kind', message: expect.any(String) }]);
    });
  });

  describe('OpenAPI document', () => {
    const operations: [string, string][] = [
      ['/v1/agents', 'post'],
      ['/v1/agents', 'get'],
      ['/v1/agents/{id}', 'get'],
      ['/v1/agents/{id}', 'patch'],
      ['/v1/agents/{id}/disable', 'post'],
      ['/v1/agents/{id}/enable', 'post'],
      ['/v1/agents/{id}/secrets', 'post'],
      ['/v1/agents/{id}/secrets', 'get'],
      ['/v1/agents/{id}/secrets/{secretId}', 'delete'],
      ['/v1/agents/{id}/secrets/{secretId}/revoke', 'post'],
      ['/v1/resource-servers', 'post'],
      ['/v1/resource-servers', 'get'],
      ['/v1/resource-servers/{id}', 'get'],
      ['/v1/resource-servers/{id}/disable', 'post'],
      ['/v1/ledger', 'get'],
      ['/v1/trusted-issuers', 'post'],
      ['/v1/trusted-issuers', 'get'],
      ['/v1/trusted-issuers/{id}', 'get'],
      ['/v1/trusted-issuers/{id}', 'patch'],
      ['/v1/trusted-issuers/{id}/disable', 'post'],
      ['/v1/sessions', 'get'],
      ['/v1/sessions/{id}', 'get'],
      ['/v1/sessions/{id}/close', 'post'],
      ['/v1/sessions/{id}/statement', 'get'],
      ['/v1/reports/spend', 'get'],
      ['/v1/reports/governance', 'get'],
      ['/v1/owners/{owner}/budget', 'put'],
      ['/v1/owner-budgets', 'get'],
      ['/v1/ledger/verify', 'get'],
      ['/v1/ledger/seal', 'post'],
    ];

    it('describes every operation, with references that resolve', async () => {
      const { body: document } = await call('GET', '/openapi.json', { token: null });
      const refs = [
        ...JSON.stringify(document).matchAll(/"\$ref":"#\/components\/schemas\/(\w+)"/g),
      ];

      expect(document.openapi).toBe('3.1.0');
      expect(document.info).toEqual({ title: expect.any(String), version: expect.any(String) });
      expect(Object.keys(document.paths).sort()).toEqual(
        [...new Set(operations.map(([p]) => p))].sort(),
      );

      for (const [path, method] of operations) {
        const operation = document.paths[path][method];

        expect(operation.operationId).toEqual(expect.any(String));
        expect(Object.keys(operation.responses)).toContain('default');
      }

      expect(refs.length).toBeGreaterThan(10);
      expect(
        refs.every(([, name]) => name !== undefined && name in document.components.schemas),
      ).toBe(true);
      expect(
        document.paths['/v1/agents'].get.parameters.map((p: { name: string }) => p.name),
      ).toEqual(['owner', 'status', 'cursor', 'limit']);
    });

    it('embeds the very schema objects the validators use', async () => {
      const { body: served } = await call('GET', '/openapi.json', { token: null });
      const built = buildOpenApiDocument() as { components: { schemas: Record<string, unknown> } };

      expect(components.AgentCreate).toBe(schemas.agentCreate);
      expect(built.components.schemas.AgentCreate).toBe(schemas.agentCreate);
      expect(built.components.schemas.ResourceServerCreate).toBe(schemas.resourceServerCreate);
      expect(served.components.schemas.AgentCreate).toEqual(
        JSON.parse(JSON.stringify(schemas.agentCreate)),
      );
      expect(served.components.schemas.AgentCreate.properties.name.maxLength).toBe(200);
      expect(served.components.schemas.AgentCreate.additionalProperties).toBe(false);
    });

    it('describes responses the API really gives', async () => {
      const { body: document } = await call('GET', '/openapi.json', { token: null });
      const ajv = new Ajv2020({ strict: false });
      addFormats.default(ajv);
      ajv.addSchema(document, 'openapi');
      const check = (name: string, value: unknown) =>
        ajv.validate({ $ref: `openapi#/components/schemas/${name}` }, value) || ajv.errorsText();
      const created = await createAgent();
      const page = await call('GET', '/v1/agents?limit=3');
      const ledger = await call('GET', '/v1/ledger?limit=3');
      const problem = await call('GET', '/v1/agents?limit=0');

      expect(check('AgentCreated', created.body)).toBe(true);
      expect(check('AgentPage', page.body)).toBe(true);
      expect(check('LedgerPage', ledger.body)).toBe(true);
      expect(check('Problem', problem.body)).toBe(true);
      expect(check('Agent', { ...created.body, status: 'deleted' })).not.toBe(true);
    });
  });
});
