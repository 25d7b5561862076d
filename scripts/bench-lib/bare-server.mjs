// The "bare" target: oidc-provider 9 with next to no configuration, as the baseline Tollgate is
// measured against. Run as a child process by the bench; reads its settings from BENCH_BARE
// (JSON) and prints one line, "ready", once it listens.
import { createServer } from 'node:http';

import { importFromServer, serverPackageFile } from './modules.mjs';

/**
 * @typedef {object} BareSettings
 * @property {number} port
 * @property {string} issuer
 * @property {string} audience
 * @property {string} scope
 * @property {object} signingJwk private ES256 JWK
 * @property {{ id: string, secret: string }} agent client_secret_basic client
 * @property {{ id: string, jwks: { keys: object[] } }} jwtAgent private_key_jwt client
 * @property {{ id: string, secret: string }} resourceServer introspecting client
 */

/** Token lifetime, the same as a Tollgate agent's default. */
const ACCESS_TOKEN_TTL = 600;

/**
 * The default in-memory adapter keeps its models in an LRU of 1000 entries. The bench
 * pre-issues thousands of tokens to revoke, which would be evicted before use (and revoking
 * an unknown token is cheaper than revoking a stored one), so the same adapter gets the same
 * store class with room for every token of a run.
 */
const STORE_ENTRIES = 5_000_000;

const { default: Provider, errors } = await importFromServer('oidc-provider');
const { setStorage } = await import(
  serverPackageFile('oidc-provider', 'lib/adapters/memory_adapter.js')
);
const { default: LRU } = await import(serverPackageFile('oidc-provider', 'lib/helpers/lru.js'));

/** @type {BareSettings} */
const settings = JSON.parse(process.env.BENCH_BARE ?? '{}');

setStorage(new LRU({ maxSize: STORE_ENTRIES }));

const provider = new Provider(settings.issuer, configuration(settings));
provider.on('server_error', (_ctx, error) => console.error('server_error', error));

createServer(provider.callback()).listen(settings.port, '127.0.0.1', () => {
  process.stdout.write('ready\n');
});

/** @param {BareSettings} s */
function configuration(s) {
  const noRedirects = {
    grant_types: ['client_credentials'],
    redirect_uris: [],
    response_types: [],
  };

  return {
    clients: [
      { ...noRedirects, client_id: s.agent.id, client_secret: s.agent.secret },
      {
        ...noRedirects,
        client_id: s.jwtAgent.id,
        jwks: s.jwtAgent.jwks,
        token_endpoint_auth_method: 'private_key_jwt',
        token_endpoint_auth_signing_alg: 'ES256',
      },
      { ...noRedirects, client_id: s.resourceServer.id, client_secret: s.resourceServer.secret },
    ],
    jwks: { keys: [s.signingJwk] },
    cookies: { keys: ['bench-cookie-key-not-used-by-these-grants'] },
    clientAuthMethods: ['client_secret_basic', 'private_key_jwt'],
    enabledJWA: { clientAuthSigningAlgValues: ['ES256'], idTokenSigningAlgValues: ['ES256'] },
    clientDefaults: { id_token_signed_response_alg: 'ES256' },
    responseTypes: ['code'],
    features: {
      devInteractions: { enabled: false },
      userinfo: { enabled: false },
      clientCredentials: { enabled: true },
      introspection: { enabled: true, allowedPolicy: introspectionAllowed(s) },
      revocation: { enabled: true, allowedPolicy: ownTokensOnly },
      resourceIndicators: {
        enabled: true,
        defaultResource: () => s.audience,
        getResourceServerInfo: resourceServerInfo(s),
        useGrantedResource: () => false,
      },
    },
    ttl: { ClientCredentials: ACCESS_TOKEN_TTL },
  };
}

/** Only the resource server learns about tokens, and only those for its audience. */
function introspectionAllowed(s) {
  return (_ctx, caller, token) =>
    caller.clientId === s.resourceServer.id && token.aud === s.audience;
}

function ownTokensOnly(_ctx, caller, token) {
  if (token.clientId !== caller.clientId) {
    throw new errors.InvalidRequest('this token was not issued to this client');
  }

  return true;
}

/** One audience, opaque tokens: the token format Tollgate issues. */
function resourceServerInfo(s) {
  return (_ctx, indicator) => {
    if (indicator !== s.audience) {
      throw new errors.InvalidTarget(`unknown resource ${indicator}`);
    }

    return {
      scope: s.scope,
      audience: s.audience,
      accessTokenTTL: ACCESS_TOKEN_TTL,
      accessTokenFormat: 'opaque',
    };
  };
}
