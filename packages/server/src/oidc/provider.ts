import {
  CLIENT_ASSERTION_ALGS,
  ClientSecretVerifier,
  IssuerKeys,
  SIGNING_ALG,
  type PrivateJwk,
} from '@tollgate/core';
import type { Database, LiveTokenReader, ReplayWriter, TokenIssueWriter } from '@tollgate/db';
import type { Middleware } from 'koa';
import Provider, { type Client, type ClientCredentials, type Configuration } from 'oidc-provider';

import type { Logger } from '../logger.js';
import { createAdapterFactory } from './adapter.js';
import { recordAuthFailures } from './auth-failures.js';
import { installSecretCheck } from './client-auth.js';
import type { ClientDirectory } from './client-directory.js';
import { EXTRA_CLIENT_METADATA } from './client-metadata.js';
import { logProviderEvents } from './events.js';
import { introspectionAllowed, revocationAllowed } from './introspection.js';
import { defaultResource, resourceServerInfo } from './resource-policy.js';
import { shapeResponses } from './response-shaping.js';
import { extraTokenClaims } from './session-binding.js';
import { recordNonAgentExchangeRefusals, registerTokenExchange } from './token-exchange.js';
import { rememberedClient } from './request-state.js';

export interface ProviderDeps {
  issuer: string;
  database: Database;
  /** Where the provider glue reads client rows (see ClientDirectory). */
  directory: ClientDirectory;
  /** Stores issued tokens, batching those of concurrent requests (one writer per process). */
  issueWriter: TokenIssueWriter;
  /** Stores client-assertion jtis once, batching those of concurrent requests (one per process). */
  /** Looks tokens up, batching the lookups of concurrent requests (one reader per process). */
  tokenReader: LiveTokenReader;
  replayWriter: ReplayWriter;
  logger: Logger;
  signingKeys: PrivateJwk[];
  cookieKeys: string[];
  trustProxy: boolean;
  /** How many proxies in front append to X-Forwarded-For (the client's address is theirs). */
  proxyHops: number;
  /** Middleware to run, in order, before Tollgate's OAuth glue and oidc-provider's routes. */
  middleware: Middleware[];
  verifier?: ClientSecretVerifier;
  issuerKeys?: IssuerKeys;
}

/** Builds the oidc-provider instance that serves Tollgate's OAuth endpoints. */
export function createProvider(deps: ProviderDeps): Provider {
  const provider = new Provider(deps.issuer, providerConfiguration(deps));

  provider.proxy = deps.trustProxy;
  // Only the addresses our own proxies appended count: a client can put anything in front.
  provider.maxIpsCount = deps.proxyHops;
  installSecretCheck(provider, deps.directory, deps.verifier ?? new ClientSecretVerifier());
  registerTokenExchange(provider, {
    db: deps.database.db,
    issuer: deps.issuer,
    issuerKeys: deps.issuerKeys ?? new IssuerKeys(),
  });
  logProviderEvents(provider, deps.logger);
  deps.middleware.forEach((middleware) => provider.use(middleware));
  // The ledger step wraps the shaping step, so it sees the answers in their RFC form.
  provider.use(recordAuthFailures(deps.database.db));
  provider.use(recordNonAgentExchangeRefusals(deps.database.db));
  provider.use(shapeResponses(deps.database.db));

  return provider;
}

function providerConfiguration(deps: ProviderDeps): Configuration {
  return {
    adapter: createAdapterFactory(deps),
    clients: [],
    jwks: { keys: deps.signingKeys },
    cookies: { keys: deps.cookieKeys },
    scopes: ['admin'],
    clientAuthMethods: ['client_secret_basic', 'client_secret_post', 'private_key_jwt'],
    enabledJWA: {
      clientAuthSigningAlgValues: [...CLIENT_ASSERTION_ALGS],
      idTokenSigningAlgValues: [SIGNING_ALG],
    },
    clientDefaults: { id_token_signed_response_alg: SIGNING_ALG },
    extraClientMetadata: { properties: [...EXTRA_CLIENT_METADATA] },
    responseTypes: ['code'],
    features: {
      devInteractions: { enabled: false },
      // No end-user browser flows: nothing here should create sessions or cookies.
      rpInitiatedLogout: { enabled: false },
      pushedAuthorizationRequests: { enabled: false },
      clientCredentials: { enabled: true },
      introspection: { enabled: true, allowedPolicy: introspectionAllowed },
      revocation: { enabled: true, allowedPolicy: revocationAllowed },
      userinfo: { enabled: false },
      resourceIndicators: {
        enabled: true,
        defaultResource,
        getResourceServerInfo: resourceServerInfo(deps.database.db),
        useGrantedResource: () => false,
      },
    },
    extraTokenClaims,
    ttl: {
      ClientCredentials: (_ctx, token, client) => clientCredentialsTtl(token, client),
    },
  };
}

/** A client_credentials token lives its client's token lifetime, and never past its session. */
function clientCredentialsTtl(token: ClientCredentials, client: Client): number {
  const ttl = token.resourceServer?.accessTokenTTL ?? 600;
  const sessionMax = rememberedClient(client.clientId)?.session_max_seconds ?? ttl;

  return Math.min(ttl, sessionMax);
}
