import { createLocalJWKSet, createRemoteJWKSet, type JWTVerifyGetKey } from 'jose';

import type { TrustedIssuerRow } from '@tollgate/db';

export interface IssuerKeyOptions {
  /** How long fetched keys are reused before the next fetch. */
  cacheMaxAgeMs: number;
  /** How long a JWKS fetch may take. */
  timeoutMs: number;
}

const DEFAULT_OPTIONS: IssuerKeyOptions = { cacheMaxAgeMs: 10 * 60_000, timeoutMs: 5_000 };

/**
 * Key sets of trusted issuers. A remote JWKS is fetched on first use and cached by jose (which
 * also refetches when it meets an unknown kid); an inline JWKS is used as registered. The key
 * set is rebuilt when the issuer's key source changes.
 */
export class IssuerKeys {
  readonly #sets = new Map<string, { source: string; keys: JWTVerifyGetKey }>();

  constructor(private readonly options: IssuerKeyOptions = DEFAULT_OPTIONS) {}

  keysFor(issuer: TrustedIssuerRow): JWTVerifyGetKey {
    const source = issuer.jwks_uri ?? JSON.stringify(issuer.jwks);
    const cached = this.#sets.get(issuer.id);

    if (cached !== undefined && cached.source === source) {
      return cached.keys;
    }

    const keys =
      issuer.jwks_uri !== null
        ? createRemoteJWKSet(new URL(issuer.jwks_uri), {
            cacheMaxAge: this.options.cacheMaxAgeMs,
            timeoutDuration: this.options.timeoutMs,
          })
        : createLocalJWKSet(issuer.jwks ?? { keys: [] });

    this.#sets.set(issuer.id, { source, keys });

    return keys;
  }
}
