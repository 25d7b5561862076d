import {
  newAgent,
  newResourceServer,
  ownToken,
  exchange,
  TokenTypeUri,
  type TestAgent,
} from './support/exchange.js';
import { introspect, revoke, type Credentials, type OAuthReply } from './support/oauth.js';
import { startTestTollgate, type TestTollgate } from './support/tollgate.js';

const TOOLS = 'https://tools.example.com/';
const EXCHANGES = 40;
const ROUNDS = 5;

/**
 * RFC 8693 chains under concurrency: an exchange of a token that is in flight while the token is
 * revoked (or its agent disabled) must not leave behind a delegated token that outlives the
 * revocation. Each round starts a burst of exchanges of a fresh parent token, revokes the parent
 * a few milliseconds later and, once everything has answered, asks introspection about every
 * token the burst was granted: the revocation has been answered by then, so none may be active.
 */
describe('revocation racing token exchanges of the revoked token', () => {
  let tollgate: TestTollgate;
  let tools: Credentials;

  beforeAll(async () => {
    tollgate = await startTestTollgate();
    tools = await newResourceServer(tollgate, TOOLS);
  });

  afterAll(async () => {
    await tollgate?.stop();
  });

  const delegatingAgent = (): Promise<TestAgent> =>
    newAgent(tollgate, {
      tools: ['search'],
      audiences: [TOOLS],
      delegation: { trusted_issuers: [tollgate.issuer] },
    });

  const burstOfExchanges = (children: TestAgent[], subjectToken: string): Promise<OAuthReply[]> =>
    Promise.all(
      Array.from({ length: EXCHANGES }, (_, index) =>
        exchange(tollgate, children[index % children.length]!, {
          subject_token: subjectToken,
          subject_token_type: TokenTypeUri.accessToken,
          scope: 'search',
        }),
      ),
    );

  /** Granted tokens of the burst that introspection still calls active. */
  async function survivors(replies: OAuthReply[]): Promise<number> {
    let active = 0;

    for (const reply of replies.filter((candidate) => candidate.status === 200)) {
      const body = (await introspect(tollgate, tools, String(reply.body.access_token))).body;
      active += body.active === true ? 1 : 0;
    }

    return active;
  }

  it('TE-19 leaves no delegated token active once the parent revocation was answered', async () => {
    const parent = await delegatingAgent();
    const children = await Promise.all(Array.from({ length: 8 }, () => delegatingAgent()));
    const leaked: number[] = [];

    for (let round = 0; round < ROUNDS; round += 1) {
      const parentToken = await ownToken(tollgate, parent, 'search', TOOLS);
      const burst = burstOfExchanges(children, parentToken);
      await new Promise((resolve) => setTimeout(resolve, 10));

      expect((await revoke(tollgate, parent, parentToken)).status).toBe(200);
      leaked.push(await survivors(await burst));
    }

    expect(leaked).toEqual(leaked.map(() => 0));
  }, 60_000);

  it('leaves no delegated token active once the parent agent was disabled', async () => {
    const children = await Promise.all(Array.from({ length: 8 }, () => delegatingAgent()));
    const leaked: number[] = [];

    for (let round = 0; round < ROUNDS; round += 1) {
      const parent = await delegatingAgent();
      const parentToken = await ownToken(tollgate, parent, 'search', TOOLS);
      const adminBearer = await tollgate.adminToken();
      const burst = burstOfExchanges(children, parentToken);
      await new Promise((resolve) => setTimeout(resolve, 10));

      const disabled = await fetch(`${tollgate.adminUrl}/v1/agents/${parent.id}/disable`, {
        method: 'POST',
        headers: { authorization: `Bearer ${adminBearer}` },
      });
      expect(disabled.status).toBe(200);
      leaked.push(await survivors(await burst));
    }

    expect(leaked).toEqual(leaked.map(() => 0));
  }, 60_000);
});
