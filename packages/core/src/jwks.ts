import { importJWK, type JWK } from 'jose';

import type { PublicJwks } from '@tollgate/db';

import { invalidInput } from './errors.js';

/** Signature algorithms accepted in private_key_jwt client assertions; no shared-key HMAC. */
export const CLIENT_ASSERTION_ALGS = ['ES256', 'ES384', 'EdDSA', 'PS256', 'RS256'] as const;

const ASYMMETRIC_KEY_TYPES = new Set(['EC', 'OKP', 'RSA']);
const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'k'];
const MAX_KEYS = 10;

/**
 * Checks that a registered JWKS holds only public asymmetric keys that jose can import: a
 * private or symmetric key here would be a leaked secret, not a credential.
 */
export async function validatePublicJwks(value: PublicJwks, path = 'jwks'): Promise<PublicJwks> {
  if (value.keys.length === 0 || value.keys.length > MAX_KEYS) {
    throw invalidInput('invalid jwks', [
      { path: `${path}/keys`, message: `must hold 1 to ${MAX_KEYS} keys` },
    ]);
  }

  const problems: { path: string; message: string }[] = [];

  for (const [index, key] of value.keys.entries()) {
    const problem = await publicKeyProblem(key);

    if (problem !== undefined) {
      problems.push({ path: `${path}/keys/${index}`, message: problem });
    }
  }

  if (problems.length > 0) {
    throw invalidInput('invalid jwks', problems);
  }

  return { keys: value.keys };
}

async function publicKeyProblem(key: Record<string, unknown>): Promise<string | undefined> {
  if (typeof key.kty !== 'string' || !ASYMMETRIC_KEY_TYPES.has(key.kty)) {
    return 'kty must be EC, OKP or RSA';
  }

  if (PRIVATE_MEMBERS.some((member) => member in key)) {
    return 'must be a public key (private key members found)';
  }

  const alg = typeof key.alg === 'string' ? key.alg : defaultAlgFor(key);

  if (alg === undefined || !(CLIENT_ASSERTION_ALGS as readonly string[]).includes(alg)) {
    return `alg must be one of ${CLIENT_ASSERTION_ALGS.join(', ')}`;
  }

  try {
    await importJWK(key as JWK, alg);
  } catch {
    return 'not a valid key';
  }

  return undefined;
}

function defaultAlgFor(key: Record<string, unknown>): string | undefined {
  switch (key.kty) {
    case 'EC':
      return key.crv === 'P-256' ? 'ES256' : key.crv === 'P-384' ? 'ES384' : undefined;
    case 'OKP':
      return key.crv === 'Ed25519' ? 'EdDSA' : undefined;
    case 'RSA':
      return 'RS256';
    default:
      return undefined;
  }
}
