import { createHmac, createSecretKey, randomBytes, timingSafeEqual } from 'node:crypto';

import argon2 from 'argon2';

import type { LiveSecret } from '@tollgate/db';

import { FailureLimiter } from './failure-limiter.js';

/**
 * Secrets look like `tgsk_<id>_<random>`: the prefix lets secret scanners find leaked ones, the
 * id names the stored hash to check against, and the random part carries 256 bits.
 */
const SECRET_PREFIX = 'tgsk_';
const SECRET_PATTERN = /^tgsk_([0-9a-f]{16})_([A-Za-z0-9_-]{43})$/;
const SECRET_RANDOM_BYTES = 32;

/** OWASP's minimum argon2id profile (19 MiB, 2 passes, 1 lane): about 20 ms per hash here. */
const ARGON2_OPTIONS = {
  type: argon2.argon2id,
  memoryCost: 19_456,
  timeCost: 2,
  parallelism: 1,
} as const;

export interface GeneratedSecret {
  id: string;
  secret: string;
}

export function generateClientSecret(): GeneratedSecret {
  const id = randomBytes(8).toString('hex');
  const secret = `${SECRET_PREFIX}${id}_${randomBytes(SECRET_RANDOM_BYTES).toString('base64url')}`;

  return { id, secret };
}

export function hashClientSecret(secret: string): Promise<string> {
  return argon2.hash(secret, ARGON2_OPTIONS);
}

/** The id embedded in a well-formed secret, or undefined for anything else. */
export function secretIdOf(presented: string): string | undefined {
  return SECRET_PATTERN.exec(presented)?.[1];
}

export type SecretCheck =
  | { ok: true; secretId: string }
  | { ok: false; reason: 'malformed_secret' | 'unknown_secret' | 'secret_mismatch' }
  | { ok: false; reason: 'rate_limited'; retryAfterSeconds: number };

/** Upper bound on remembered verifications; beyond it the oldest are forgotten. */
const DEFAULT_CACHE_ENTRIES = 10_000;

/**
 * Checks presented client secrets against argon2id hashes, remembering recent successes so that
 * repeat authentications skip argon2.
 *
 * Why this is safe: the caller passes only the secrets that are live right now (read from the
 * database on this request), so a revoked, rotated-out or expired secret is never looked up,
 * whatever the memory holds. What is remembered is an HMAC of the presented secret under a key
 * that exists only in this process: it matches only the exact secret that argon2 accepted, and
 * it is useless to anyone who reads it.
 */
export class ClientSecretVerifier {
  readonly #hmacKey = createSecretKey(randomBytes(32));
  readonly #verified = new Map<string, Buffer>();

  constructor(
    private readonly maxEntries = DEFAULT_CACHE_ENTRIES,
    private readonly limiter = new FailureLimiter(),
  ) {}

  /**
   * `limitKeys` name who is trying (client id, address): once one of them has failed too often,
   * secrets that are not already known-good are refused without running argon2.
   */
  async check(
    presented: string,
    liveSecrets: readonly LiveSecret[],
    limitKeys: readonly string[] = [],
  ): Promise<SecretCheck> {
    // The per-client limit is per secret: a caller who knows only the public client_id (and so
    // cannot name a live secret) costs no argon2, counts nothing, and cannot lock the agent out.
    const secretId = secretIdOf(presented);
    const keys = limitKeys.map((key) =>
      key.startsWith('client:') ? `${key}:${secretId ?? '-'}` : key,
    );
    const result = await this.#check(presented, liveSecrets, keys);

    if (!result.ok && result.reason === 'secret_mismatch') {
      this.limiter.recordFailure(keys);
    }

    return result;
  }

  async #check(
    presented: string,
    liveSecrets: readonly LiveSecret[],
    limitKeys: readonly string[],
  ): Promise<SecretCheck> {
    const secretId = secretIdOf(presented);

    if (secretId === undefined) {
      return { ok: false, reason: 'malformed_secret' };
    }

    const stored = liveSecrets.find((secret) => secret.id === secretId);

    if (stored === undefined) {
      return { ok: false, reason: 'unknown_secret' };
    }

    const digest = this.#digest(stored.hash, presented);
    const remembered = this.#verified.get(secretId);

    if (remembered !== undefined && timingSafeEqual(remembered, digest)) {
      return { ok: true, secretId };
    }

    const retryAfterSeconds = this.limiter.retryAfter(limitKeys);

    if (retryAfterSeconds !== undefined) {
      return { ok: false, reason: 'rate_limited', retryAfterSeconds };
    }

    if (!(await argon2.verify(stored.hash, presented))) {
      return { ok: false, reason: 'secret_mismatch' };
    }

    this.#remember(secretId, digest);

    return { ok: true, secretId };
  }

  /** Binding the stored hash in too means a re-hashed secret never matches an old entry. */
  #digest(storedHash: string, presented: string): Buffer {
    return createHmac('sha256', this.#hmacKey)
      .update(storedHash)
      .update('\0')
      .update(presented)
      .digest();
  }

  #remember(secretId: string, digest: Buffer): void {
    this.#verified.delete(secretId);
    this.#verified.set(secretId, digest);

    if (this.#verified.size > this.maxEntries) {
      const oldest = this.#verified.keys().next();

      if (oldest.done !== true) {
        this.#verified.delete(oldest.value);
      }
    }
  }
}
