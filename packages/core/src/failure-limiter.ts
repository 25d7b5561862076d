/**
 * How many failed authentications may come in one window before argon2 is withheld: per
 * client (keys `client:<id>`) and per address (keys `ip:<address>`, looser, since many clients
 * can share one address).
 */
export interface FailureLimits {
  perClient: number;
  perAddress: number;
  windowSeconds: number;
}

export const DEFAULT_FAILURE_LIMITS: FailureLimits = {
  perClient: 10,
  perAddress: 100,
  windowSeconds: 60,
};

const MAX_TRACKED_KEYS = 100_000;

/**
 * Counts failed authentications per key (a client id, an IP address) in fixed windows, in this
 * process. Its job is to keep a flood of wrong secrets from spending the CPU on argon2; it is
 * per instance, so N instances allow up to N times the limit.
 */
export class FailureLimiter {
  readonly #windows = new Map<string, { startedAt: number; failures: number }>();

  constructor(
    private readonly limits: FailureLimits = DEFAULT_FAILURE_LIMITS,
    private readonly now: () => number = Date.now,
  ) {}

  /** Seconds until the first blocked key may try again, or undefined when none is blocked. */
  retryAfter(keys: readonly string[]): number | undefined {
    const waits = keys.flatMap((key) => {
      const window = this.#current(key);

      return window !== undefined && window.failures >= this.#limitOf(key)
        ? [Math.ceil((window.startedAt + this.limits.windowSeconds * 1000 - this.now()) / 1000)]
        : [];
    });

    return waits.length === 0 ? undefined : Math.max(1, ...waits);
  }

  recordFailure(keys: readonly string[]): void {
    for (const key of keys) {
      const window = this.#current(key) ?? { startedAt: this.now(), failures: 0 };
      window.failures += 1;
      this.#windows.set(key, window);
    }

    if (this.#windows.size > MAX_TRACKED_KEYS) {
      this.#forgetExpired();
    }
  }

  #limitOf(key: string): number {
    return key.startsWith('ip:') ? this.limits.perAddress : this.limits.perClient;
  }

  #current(key: string) {
    const window = this.#windows.get(key);

    return window !== undefined && this.now() - window.startedAt < this.limits.windowSeconds * 1000
      ? window
      : undefined;
  }

  #forgetExpired(): void {
    for (const key of [...this.#windows.keys()]) {
      if (this.#current(key) === undefined) {
        this.#windows.delete(key);
      }
    }
  }
}
