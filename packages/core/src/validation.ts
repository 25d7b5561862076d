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

  return url.href;
}

export function validateAudiences(audiences: readonly string[], path = 'audiences'): string[] {
  const normalized: string[] = [];
  const problems: { path: string; message: string }[] = [];

  audiences.forEach((audience, index) => {
    const value = normalizeAudience(audience);

    if (value === undefined) {
      problems.push({ path: `${path}/${index}`, message: 'must be an absolute URI without fragment' });
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
