// Starts the real Tollgate server on a scratch Postgres database and registers, through its
// CLI and management API, the clients the bench drives.
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';

import { basicAuth, discoverEndpoints, HttpError, jsonRequest, postForm } from './http.mjs';
import { newKeyPair } from './keys.mjs';
import { ROOT } from './modules.mjs';
import { createScratchDatabase } from './postgres.mjs';
import { freePort, startNode, waitForHttp } from './processes.mjs';

const run = promisify(execFile);

/** The identity provider whose users the exchange agent acts for (never contacted). */
const SUBJECT_ISSUER = 'https://idp.bench.invalid';

/**
 * @param {{ logDir: string, audience: string, scope: string, postgresUrl: string,
 *   cpuProfileDir?: string }} options
 * @returns {Promise<import('./targets.mjs').Target>}
 */
export async function startTollgate(options) {
  const env = await serverEnv(options.postgresUrl);
  const issuer = env.TOLLGATE_ISSUER;
  const profile = options.cpuProfileDir
    ? ['--cpu-prof', `--cpu-prof-dir=${options.cpuProfileDir}`]
    : [];
  const child = startNode({
    name: 'tollgate',
    cwd: ROOT,
    args: [...profile, join(ROOT, 'packages', 'server', 'dist', 'main.js')],
    env,
    logFile: join(options.logDir, 'tollgate.log'),
  });

  await waitForHttp(child, 'tollgate', `${issuer}/readyz`);

  const admin = await adminToken(env, issuer);
  const adminUrl = `http://127.0.0.1:${env.TOLLGATE_ADMIN_PORT}`;
  const call = (method, path, body) => jsonRequest(method, `${adminUrl}${path}`, admin, body);
  const notes = [];

  return {
    name: 'tollgate',
    child,
    database: new URL(env.DATABASE_URL).pathname.slice(1),
    issuer,
    endpoints: await discoverEndpoints(issuer),
    audience: options.audience,
    agent: await secretAgent(call, 'bench-agent', options),
    jwtAgent: await jwtAgent(call, options),
    resourceServer: await resourceServer(call, options.audience),
    exchange: await exchangeSetup(call, issuer, options, notes),
    usage: await probeUsage(issuer, notes),
    notes,
  };
}

/** @param {string} postgresUrl */
async function serverEnv(postgresUrl) {
  const port = await freePort();

  return {
    DATABASE_URL: await createScratchDatabase(postgresUrl, 'tollgate_bench'),
    TOLLGATE_HOST: '127.0.0.1',
    TOLLGATE_PORT: String(port),
    TOLLGATE_ADMIN_BIND: '127.0.0.1',
    TOLLGATE_ADMIN_PORT: String(await freePort()),
    TOLLGATE_ISSUER: `http://127.0.0.1:${port}`,
    TOLLGATE_LOG_LEVEL: 'warn',
  };
}

/** Creates an admin client with the CLI, then trades its credentials for an admin token. */
async function adminToken(env, issuer) {
  const cli = join(ROOT, 'packages', 'cli', 'dist', 'main.js');
  const { stdout } = await run(
    process.execPath,
    [cli, 'admin', 'create', '--name', 'bench', '--json'],
    { cwd: ROOT, env: { ...process.env, ...env } },
  );
  const credentials = JSON.parse(stdout.trim().split('\n').at(-1) ?? '{}');
  const answer = await postForm(
    `${issuer}/token`,
    { grant_type: 'client_credentials', scope: 'admin' },
    { authorization: basicAuth(credentials.client_id, credentials.client_secret) },
  );

  return String(answer.access_token);
}

async function secretAgent(call, name, { audience, scope }) {
  const created = await call('POST', '/v1/agents', {
    name,
    owner: 'bench',
    tools: scope.split(' '),
    audiences: [audience],
  });

  return { id: created.client_id, secret: created.client_secret, pk: created.id };
}

async function jwtAgent(call, { audience, scope }) {
  const keys = await newKeyPair('tollgate-agent-jwt');
  const created = await call('POST', '/v1/agents', {
    name: 'bench-agent-jwt',
    owner: 'bench',
    tools: scope.split(' '),
    audiences: [audience],
    jwks: { keys: [keys.publicJwk] },
  });

  return { id: created.client_id, keys };
}

async function resourceServer(call, audience) {
  const created = await call('POST', '/v1/resource-servers', { name: 'bench-tools', audience });

  return { id: created.client_id, secret: created.client_secret };
}

/**
 * Token exchange needs a trusted issuer (with inline keys) and an agent whose delegation
 * policy trusts it. Either endpoint may not exist yet: then the operation is skipped.
 */
async function exchangeSetup(call, issuer, options, notes) {
  const keys = await newKeyPair('bench-idp');
  const subjectAudience = issuer;

  try {
    await call('POST', '/v1/trusted-issuers', {
      issuer: SUBJECT_ISSUER,
      jwks: { keys: [keys.publicJwk] },
      audiences: [subjectAudience],
    });
    const agent = await secretAgent(call, 'bench-exchanger', options);
    await call('PATCH', `/v1/agents/${agent.pk}`, {
      delegation: { trusted_issuers: [SUBJECT_ISSUER] },
    });

    return { agent, subjectIssuer: SUBJECT_ISSUER, subjectAudience, keys };
  } catch (error) {
    if (!(error instanceof HttpError) || ![400, 404, 405].includes(error.status)) throw error;
    notes.push(`token exchange skipped: the management API refused its setup (${error.message})`);

    return undefined;
  }
}

/** Usage report ingestion is benched only where POST /usage exists. */
async function probeUsage(issuer, notes) {
  const url = `${issuer}/usage`;
  const response = await fetch(url, { method: 'POST' });
  await response.arrayBuffer();

  if (response.status === 404) {
    notes.push('usage ingestion skipped: POST /usage answers 404 (not implemented yet)');
    return undefined;
  }

  return url;
}
