import { tokenIdOf } from '@tollgate/core';

import { introspect } from './support/oauth.js';
import { registerAgent, registerResourceServer } from './support/registry.js';
import {
  clientCredentialsToken,
  startTestTollgate,
  type TestTollgate,
} from './support/tollgate.js';

const AUDIENCE = 'https://tools.example.com/';

async function publishedKids(tollgate: TestTollgate): Promise<string[]> {
  const response = await fetch(`${tollgate.issuer}/jwks`);
  const jwks = (await response.json()) as { keys: { kid: string }[] };

  return jwks.keys.map((key) => key.kid);
}

describe('restart on the same database', () => {
  let first: TestTollgate | undefined;
  let second: TestTollgate | undefined;

  afterAll(async () => {
    // Whichever server ran last owns the database and drops it.
    if (second !== undefined) {
      await second.stop();
    } else {
      await first?.test.drop();
    }
  });

  it('keeps issued tokens active and the signing keys published', async () => {
    first = await startTestTollgate();
    const resourceServer = await registerResourceServer(first, AUDIENCE);
    const agent = await registerAgent(first, { tools: ['search'], audiences: [AUDIENCE] });
    const token = await clientCredentialsToken(
      first.issuer,
      agent.clientId,
      agent.secret,
      'search',
    );
    const kidsBefore = await publishedKids(first);

    await first.stop({ keepDatabase: true });
    await expect(fetch(`${first.issuer}/healthz`)).rejects.toThrow();

    second = await startTestTollgate({ database: first.test });
    const reply = await introspect(second, resourceServer, token);

    expect(reply.status).toBe(200);
    expect(reply.body).toMatchObject({
      active: true,
      client_id: agent.clientId,
      sub: agent.clientId,
      scope: 'search',
      aud: AUDIENCE,
      jti: tokenIdOf(token),
    });
    expect(kidsBefore).toHaveLength(1);
    expect(await publishedKids(second)).toEqual(kidsBefore);
  });
});
