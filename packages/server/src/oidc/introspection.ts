import {
  errors,
  type AccessToken,
  type Client,
  type ClientCredentials,
  type KoaContextWithOIDC,
  type RefreshToken,
} from 'oidc-provider';

import { clientProperty } from './client-metadata.js';
import { rememberedClient } from './request-state.js';

type IntrospectedToken = AccessToken | ClientCredentials | RefreshToken;

/**
 * RFC 7662 §2.2 / §4: only a resource server learns about a token, and only about tokens meant
 * for its own audience; everyone else gets `{"active": false}`.
 */
export function introspectionAllowed(
  _ctx: KoaContextWithOIDC,
  caller: Client,
  token: IntrospectedToken,
): boolean {
  if (clientProperty(caller, 'tollgate_kind') !== 'resource_server') {
    return false;
  }

  const audience = rememberedClient(caller.clientId)?.audience;
  const aud: unknown = 'aud' in token ? token.aud : undefined;
  const tokenAudiences: unknown[] = Array.isArray(aud) ? aud : [aud];

  return audience !== undefined && audience !== null && tokenAudiences.includes(audience);
}

/**
 * RFC 7009 §2.1: a client may revoke only the tokens issued to it. Another client's token is
 * refused with an error (and stays valid) rather than silently ignored, so that a caller
 * learns its revocation did not happen.
 */
export function revocationAllowed(
  _ctx: KoaContextWithOIDC,
  caller: Client,
  token: IntrospectedToken,
): boolean {
  if (token.clientId !== caller.clientId) {
    throw new errors.InvalidRequest('this token was not issued to this client');
  }

  return true;
}
