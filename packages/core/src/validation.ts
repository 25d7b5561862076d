import type { DelegationPolicy } from '@tollgate/db';

import { invalidInput } from './errors.js';

/**
 * Tool names become OAuth scope tokens (RFC 6749 §3.3), so they may not contain spaces or
 * quotes; dots and colons let teams namespace them (`github.issues.create`).
 */
const TOOL_NAME = /^[A-Za-z0-9][A-Za-z0-9._:/-]{0,127}$/;

/** Scope values with a meaning of their own in Tollgate or OpenID Connect. */
const RESERVED_SCOPES = new Set(['admin', 'openid', 'offline_access']);

export const MAX_TOKEN_TTL_SECONDS = 86_400;
export const DEFAULT_TOKEN_TTL_SECONDS = 600;

export function validateTools(tools: readonly string[], path = 'tools'): string[] {
  const problems = tools.flatMap((tool, index) => {
    if (!TOOL_NAME.test(tool)) {
      return [{ path: `${path}/${index}`, message: 'not a valid tool name' }];
    }

    return RESERVED_SCOPES.has(tool)
      ? [{ path: `${path}/${index}`, message: `"${tool}" is reserved` }]
      : [];
  });

  if (problems.length > 0) {
    throw invalidInput('invalid tool names', problems);
  }

  return [...new Set(tools)];
}

/**
 * Resource indicators are compared in their WHATWG-URL normal form: scheme and host are
 * lower-cased and an empty path becomes `/`; any other path, trailing slash included, is
 * significant. RFC 8707 §2 forbids fragments.
 */
export function normalizeAudience(value: string): string | undefined {
  const url = URL.parse(value);

  if (url === null || url.hash !== '' || value.includes('#')) {
    return undefined;
  }

  // Audiences name services: web origins or URNs, never credentials or script.
  const isService =
    AUDIENCE_SCHEMES.has(url.protocol) && url.username === '' && url.password === '';

  return isService ? url.href : undefined;
}

const AUDIENCE_SCHEMES = new Set(['https:', 'http:', 'urn:']);

export function validateAudiences(audiences: readonly string[], path = 'audiences'): string[] {
  const normalized: string[] = [];
  const problems: { path: string; message: string }[] = [];

  audiences.forEach((audience, index) => {
    const value = normalizeAudience(audience);

    if (value === undefined) {
      problems.push({
        path: `${path}/${index}`,
        message: 'must be an https, http or urn URI without fragment or credentials',
      });
    } else {
      normalized.push(value);
    }
  });

  if (problems.length > 0) {
    throw invalidInput('invalid audiences', problems);
  }

  return [...new Set(normalized)];
}

export function validateTokenTtl(seconds: number, path = 'token_ttl_seconds'): number {
  if (!Number.isInteger(seconds) || seconds < 1 || seconds > MAX_TOKEN_TTL_SECONDS) {
    throw invalidInput('invalid token lifetime', [
      { path, message: `must be an integer from 1 to ${MAX_TOKEN_TTL_SECONDS}` },
    ]);
  }

  return seconds;
}

export const DEFAULT_SESSION_MAX_SECONDS = 3600;
export const MAX_SESSION_SECONDS = 7 * 86_400;

export function validateSessionSeconds(seconds: number, path: string): number {
  if (!Number.isInteger(seconds) || seconds < 1 || seconds > MAX_SESSION_SECONDS) {
    throw invalidInput('invalid session limit', [
      { path, message: `must be an integer from 1 to ${MAX_SESSION_SECONDS}` },
    ]);
  }

  return seconds;
}

/** Trusted issuers are compared byte for byte with a token's `iss` (RFC 8414 §2). */
export function validateDelegation(policy: DelegationPolicy): DelegationPolicy {
  const issuers = policy.trusted_issuers ?? [];
  const problems = issuers.flatMap((issuer, index) =>
    URL.parse(issuer) === null
      ? [{ path: `delegation/trusted_issuers/${index}`, message: 'must be an absolute URL' }]
      : [],
  );

  if (problems.length > 0) {
    throw invalidInput('invalid delegation policy', problems);
  }

  return {
    trusted_issuers: [...new Set(issuers)],
    ...(policy.allowed_subjects === undefined
      ? {}
      : { allowed_subjects: [...new Set(policy.allowed_subjects)] }),
  };
}
