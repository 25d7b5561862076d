// The "floor" target: what any token endpoint on this stack must at least do per request, sign
// one ES256 JWT and write one row to Postgres, with nothing else around it. Run as a child
// process by the bench; reads BENCH_FLOOR (JSON) and prints "ready" once it listens.
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';

import { loadJose, loadPg } from './modules.mjs';

/**
 * @typedef {object} FloorSettings
 * @property {number} port
 * @property {string} databaseUrl
 * @property {number} poolSize
 * @property {object} signingJwk private ES256 JWK
 */

const { importJWK, SignJWT } = await loadJose();
const { Pool } = await loadPg();

/** @type {FloorSettings} */
const settings = JSON.parse(process.env.BENCH_FLOOR ?? '{}');
const key = await importJWK(settings.signingJwk, 'ES256');
const pool = new Pool({ connectionString: settings.databaseUrl, max: settings.poolSize });

await pool.query(
  `CREATE TABLE IF NOT EXISTS issued (
     jti uuid PRIMARY KEY,
     client_id text NOT NULL,
     issued_at timestamptz NOT NULL DEFAULT now()
   )`,
);

createServer((request, response) => {
  handle(request).then(
    (body) => send(response, 200, body),
    (error) => {
      console.error(error);
      send(response, 500, { error: 'server_error' });
    },
  );
}).listen(settings.port, '127.0.0.1', () => process.stdout.write('ready\n'));

/** Reads the body (as a token endpoint must), signs a token, records it. */
async function handle(request) {
  await readBody(request);
  const jti = randomUUID();
  const token = await new SignJWT({ scope: 'search' })
    .setProtectedHeader({ alg: 'ES256' })
    .setJti(jti)
    .setSubject('bench-agent')
    .setIssuedAt()
    .setExpirationTime('10m')
    .sign(key);

  await pool.query('INSERT INTO issued (jti, client_id) VALUES ($1, $2)', [jti, 'bench-agent']);

  return { access_token: token, token_type: 'Bearer', expires_in: 600 };
}

function readBody(request) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    request.on('data', (chunk) => chunks.push(chunk));
    request.on('end', () => resolve(Buffer.concat(chunks).toString()));
    request.on('error', reject);
  });
}

function send(response, status, body) {
  const json = JSON.stringify(body);
  response.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(json),
  });
  response.end(json);
}
