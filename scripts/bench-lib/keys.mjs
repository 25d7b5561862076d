// ES256 keys and the signed JWTs the bench sends: client assertions (RFC 7523) for
// private_key_jwt, and subject tokens from a made-up identity provider for token exchange.
import { randomUUID } from 'node:crypto';

import { loadJose } from './modules.mjs';

/**
 * A fresh ES256 key pair, with both halves also as JWKs.
 * @param {string} kid
 */
export async function newKeyPair(kid) {
  const { exportJWK, generateKeyPair } = await loadJose();
  const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true });
  const common = { kid, alg: 'ES256', use: 'sig' };

  return {
    kid,
    privateKey,
    publicJwk: { ...(await exportJWK(publicKey)), ...common },
    privateJwk: { ...(await exportJWK(privateKey)), ...common },
  };
}

/** Assertions and subject tokens stay valid well past any run. */
const LIFETIME = '30m';

/**
 * Client assertions, each with its own jti (servers refuse a replayed one).
 * @param {number} count
 * @param {{ clientId: string, audience: string, keys: Awaited<ReturnType<typeof newKeyPair>> }} who
 */
export async function clientAssertions(count, { clientId, audience, keys }) {
  const { SignJWT } = await loadJose();

  return Promise.all(
    Array.from({ length: count }, () =>
      new SignJWT({})
        .setProtectedHeader({ alg: 'ES256', kid: keys.kid })
        .setIssuer(clientId)
        .setSubject(clientId)
        .setAudience(audience)
        .setJti(randomUUID())
        .setIssuedAt()
        .setExpirationTime(LIFETIME)
        .sign(keys.privateKey),
    ),
  );
}

/**
 * Subject tokens from the bench's identity provider, each with its own jti and user.
 * @param {number} count
 * @param {{ issuer: string, audience: string, keys: Awaited<ReturnType<typeof newKeyPair>> }} idp
 */
export async function subjectTokens(count, { issuer, audience, keys }) {
  const { SignJWT } = await loadJose();

  return Promise.all(
    Array.from({ length: count }, (_, index) =>
      new SignJWT({})
        .setProtectedHeader({ alg: 'ES256', kid: keys.kid, typ: 'JWT' })
        .setIssuer(issuer)
        .setSubject(`user-${index % 1000}`)
        .setAudience(audience)
        .setJti(randomUUID())
        .setIssuedAt()
        .setExpirationTime(LIFETIME)
        .sign(keys.privateKey),
    ),
  );
}
