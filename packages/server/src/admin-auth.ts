import { ADMIN_AUDIENCE, ADMIN_SCOPE } from '@tollgate/core';
import type Provider from 'oidc-provider';

import type { AdminPrincipal } from './admin/app.js';

/**
 * Admin requests carry a bearer token Tollgate issued itself. It counts only while it is live
 * (the same lookup introspection uses: not expired, not revoked, client still active) and only
 * when it was issued with the admin scope for the management audience, which only admin
 * clients can obtain.
 */
export function adminAuthenticator(
  provider: Provider,
): (bearerToken: string) => Promise<AdminPrincipal | undefined> {
  return async (bearerToken) => {
    const token = await provider.ClientCredentials.find(bearerToken);

    if (token === undefined || !token.isValid || token.clientId === undefined) {
      return undefined;
    }

    const audiences: unknown[] = Array.isArray(token.aud) ? token.aud : [token.aud];

    if (!token.scopes.has(ADMIN_SCOPE) || !audiences.includes(ADMIN_AUDIENCE)) {
      return undefined;
    }

    return { clientId: token.clientId };
  };
}
