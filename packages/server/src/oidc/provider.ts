import {
  CLIENT_ASSERTION_ALGS,
  ClientSecretVerifier,
  SIGNING_ALG,
  type PrivateJwk,
} from '@tollgate/core';
import type { Kysely, Schema } from '@tollgate/db';
import type { Middleware } from 'koa';
import Provider, { type Configuration, type KoaContextWithOIDC } from 'oidc-provider';

import type { Logger } from '../logger.js';
import { createAdapterFactory } from './adapter.js';
import { recordAuthFailures } from './auth-failures.js';
import { installSecretCheck } from './client-auth.js';
import { EXTRA_CLIENT_METADATA } from './client-metadata.js';
import { logProviderEvents } from './events.js';
import { introspectionAllowed, revocationAllowed } from './introspection.js';
import { defaultResource, getResourceServerInfo } from './resource-policy.js';
import { shapeResponses } from './response-shaping.js';

export interface ProviderDeps {
  issuer: string;
  db: Kysely<Schema>;
  logger: Logger;
  signingKeys: PrivateJwk[];
  cookieKeys: string[];
  trustProxy: boolean;
  /** Middleware to run, in order, before Tollgate's OAuth glue and oidc-provider's routes. */
  middleware: Middleware[];
  verifier?: ClientSecretVerifier;
}

/** Builds the oidc-provider instance that serves Tollgate's OAuth endpoints. */
export function createProvider(deps: ProviderDeps): Provider {
  const provider = new Provider(deps.issuer, providerConfiguration(deps));

  provider.proxy = deps.trustProxy;
  installSecretCheck(provider, deps.db, deps.verifier ?? new ClientSecretVerifier());
  logProviderEvents(provider, deps.logger);
  deps.middleware.forEach((middleware) => provider.use(middleware));
  provider.use(shapeResponses);
  provider.use(recordAuthFailures(deps.db));

  return provider;
}

function providerConfiguration(deps: ProviderDeps): Configuration {
  return {
    adapter: createAdapterFactory(deps.db),
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
      clientCredentials: { enabled: true },
      introspection: { enabled: true, allowedPolicy: introspectionAllowed },
      revocation: { enabled: true, allowedPolicy: revocationAllowed },
      userinfo: { enabled: false },
      resourceIndicators: {
        enabled: true,
        defaultResource,
        getResourceServerInfo,
        useGrantedResource: () => false,
      },
    },
    extraTokenClaims: (_ctx: KoaContextWithOIDC, token) =>
      token.kind === 'ClientCredentials' ? { sub: token.clientId } : undefined,
    ttl: {
      ClientCredentials: (_ctx, token) => token.resourceServer?.accessTokenTTL ?? 600,
    },
  };
}
