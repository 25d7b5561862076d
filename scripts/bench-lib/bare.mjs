// Starts the bare oidc-provider target and describes it to the bench.
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';

import { discoverEndpoints } from './http.mjs';
import { newKeyPair } from './keys.mjs';
import { ROOT } from './modules.mjs';
import { freePort, startNode, waitForLine } from './processes.mjs';

/**
 * @param {{ logDir: string, audience: string, scope: string }} options
 * @returns {Promise<import('./targets.mjs').Target>}
 */
export async function startBare({ logDir, audience, scope }) {
  const port = await freePort();
  const issuer = `http://127.0.0.1:${port}`;
  const signing = await newKeyPair('bare-signing');
  const jwtKeys = await newKeyPair('bare-agent-jwt');
  const agent = { id: 'bench-agent', secret: randomBytes(32).toString('base64url') };
  const resourceServer = { id: 'bench-rs', secret: randomBytes(32).toString('base64url') };
  const jwtAgent = { id: 'bench-agent-jwt', jwks: { keys: [jwtKeys.publicJwk] } };

  const child = startNode({
    name: 'bare',
    cwd: ROOT,
    args: [join(ROOT, 'scripts', 'bench-lib', 'bare-server.mjs')],
    env: {
      BENCH_BARE: JSON.stringify({
        port,
        issuer,
        audience,
        scope,
        signingJwk: signing.privateJwk,
        agent,
        jwtAgent,
        resourceServer,
      }),
    },
    logFile: join(logDir, 'bare.log'),
  });

  await waitForLine(child, 'bare');

  return {
    name: 'bare',
    child,
    issuer,
    endpoints: await discoverEndpoints(issuer),
    audience,
    agent,
    jwtAgent: { id: jwtAgent.id, keys: jwtKeys },
    resourceServer,
    exchange: undefined,
    notes: ['token exchange: oidc-provider has no RFC 8693 grant built in'],
  };
}
