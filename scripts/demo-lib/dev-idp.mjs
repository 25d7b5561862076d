// A local identity provider on the command line: one ES256 key kept on disk, its public JWKS,
// and user tokens signed with it. Only for trying token exchange without a real IdP.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

import { loadJose, ROOT } from './modules.mjs';

const ISSUER = 'https://idp.example.test';
const KEY_FILE = join(ROOT, '.dev-idp', 'key.json');

const jose = await loadJose();
const [command, ...rest] = process.argv.slice(2);

if (command === 'jwks') {
  const { publicJwk } = await keyPair();
  process.stdout.write(`${JSON.stringify({ keys: [publicJwk] })}\n`);
} else if (command === 'token') {
  const { values } = parseArgs({
    args: rest,
    options: { sub: { type: 'string' }, aud: { type: 'string' }, ttl: { type: 'string' } },
  });
  process.stdout.write(`${await userToken(values)}\n`);
} else if (command === 'issuer') {
  process.stdout.write(`${ISSUER}\n`);
} else {
  process.stderr.write('usage: dev-idp jwks | issuer | token --sub USER [--aud URL] [--ttl S]\n');
  process.exit(2);
}

/** The key, created on first use. */
async function keyPair() {
  if (!existsSync(KEY_FILE)) {
    const { privateKey } = await jose.generateKeyPair('ES256', { extractable: true });
    const privateJwk = { ...(await jose.exportJWK(privateKey)), kid: 'dev-idp-1', alg: 'ES256' };
    mkdirSync(join(ROOT, '.dev-idp'), { recursive: true });
    writeFileSync(KEY_FILE, JSON.stringify(privateJwk), { mode: 0o600 });
  }

  const privateJwk = JSON.parse(readFileSync(KEY_FILE, 'utf8'));
  const { d: _private, ...publicJwk } = privateJwk;

  return { privateKey: await jose.importJWK(privateJwk, 'ES256'), publicJwk };
}

/**
 * @param {{ sub?: string, aud?: string, ttl?: string }} options
 */
async function userToken(options) {
  if (options.sub === undefined) {
    process.stderr.write('token needs --sub (the person the agent will act for)\n');
    process.exit(2);
  }

  const { privateKey } = await keyPair();
  const ttl = Number(options.ttl ?? '300');

  return new jose.SignJWT({ sub: options.sub, jti: randomUUID() })
    .setProtectedHeader({ alg: 'ES256', kid: 'dev-idp-1', typ: 'JWT' })
    .setIssuer(ISSUER)
    .setAudience(options.aud ?? 'https://agents.example.com')
    .setIssuedAt()
    .setExpirationTime(`${ttl}s`)
    .sign(privateKey);
}
