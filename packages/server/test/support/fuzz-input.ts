/** A small seeded generator (mulberry32), so that every fuzz run sends the same requests. */
export class SeededRandom {
  #state: number;

  constructor(seed: number) {
    this.#state = seed >>> 0;
  }

  /** A float in [0, 1). */
  next(): number {
    this.#state = (this.#state + 0x6d2b79f5) >>> 0;
    let t = this.#state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);

    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  }

  int(below: number): number {
    return Math.floor(this.next() * below);
  }

  pick<T>(items: readonly T[]): T {
    const item = items[this.int(items.length)];

    if (item === undefined) throw new Error('pick from an empty list');

    return item;
  }

  chance(probability: number): boolean {
    return this.next() < probability;
  }

  bytes(length: number): Buffer {
    return Buffer.from(Array.from({ length }, () => this.int(256)));
  }

  text(length: number, alphabet = TRICKY_CHARACTERS): string {
    return Array.from({ length }, () => this.pick(alphabet)).join('');
  }
}

/** Characters that break naive parsers: separators, escapes, controls, astral and lone halves. */
const TRICKY_CHARACTERS = [
  ...'aZ09 -._~:/?#[]@!$&\'()*+,;=%"<>\\^`{|}',
  '\u0000',
  '\u0001',
  '\t',
  '\n',
  '\r',
  '\u007f',
  '\u00e9',
  '\u2028',
  '\ufeff',
  '\ud800',
  '\udfff',
  '\u{1f600}',
];

/** Values that have broken parsers and validators before, as text. */
export const TRICKY_VALUES = [
  '',
  ' ',
  '%',
  '%Z',
  '%ZZ',
  '%E0%A4%A',
  '%FF%FE%C3%28',
  '%00',
  '%C0%80',
  '%ED%A0%80',
  'a%00b',
  '\u0000',
  '\ud800',
  '\u{1f600}',
  'null',
  'undefined',
  '[]',
  '{}',
  '-1',
  '1e309',
  '0x10',
  'NaN',
  '__proto__',
  'constructor',
  '../../etc/passwd',
  "'; DROP TABLE clients; --",
  'urn:ietf:params:oauth:grant-type:token-exchange',
  'urn:ietf:params:oauth:token-type:jwt',
  'client_credentials',
  'eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.',
  'https://tools.example.com/',
  'search',
  'admin',
  'search '.repeat(2_000),
  'a'.repeat(10_000),
];

/** Form field names the OAuth endpoints read, and shapes that are not plain names. */
export const FORM_FIELDS = [
  'grant_type',
  'scope',
  'resource',
  'audience',
  'token',
  'token_type_hint',
  'client_id',
  'client_secret',
  'client_assertion',
  'client_assertion_type',
  'subject_token',
  'subject_token_type',
  'actor_token',
  'actor_token_type',
  'requested_token_type',
  'scope[]',
  'resource[0]',
  'token[]',
  '',
  '%ZZ',
  'a'.repeat(300),
];

/** JSON members the management API and /usage read. */
export const JSON_FIELDS = [
  'name',
  'owner',
  'description',
  'tools',
  'audiences',
  'audience',
  'token_ttl_seconds',
  'session_max_seconds',
  'token_endpoint_auth_method',
  'jwks',
  'keys',
  'delegation',
  'trusted_issuers',
  'budget',
  'daily_cost',
  'monthly_llm_tokens',
  'currency',
  'close_sessions',
  'issuer',
  'jwks_uri',
  'user_claim',
  'old_secrets_expire_in_seconds',
  'expires_in_seconds',
  'token',
  'tool',
  'calls',
  'input_tokens',
  'output_tokens',
  'cost',
  'model',
  'idempotency_key',
  'occurred_at',
  'reports',
  '__proto__',
  'constructor',
];

const NUMBERS = [0, -1, 1, 2 ** 31, 2 ** 53, 9.5, -0, 1e308, Number.MAX_SAFE_INTEGER * 1000];

/** encodeURIComponent for any string: lone surrogates become U+FFFD instead of throwing. */
export function percentEncode(text: string): string {
  return encodeURIComponent(Buffer.from(text, 'utf8').toString('utf8'));
}

/** A random form body: fields from the list or made up, values tricky, encoded or raw. */
export function randomForm(random: SeededRandom): string {
  const pairs = Array.from({ length: 1 + random.int(7) }, () => {
    const name = random.chance(0.8) ? random.pick(FORM_FIELDS) : random.text(1 + random.int(8));
    const value = random.chance(0.6) ? random.pick(TRICKY_VALUES) : random.text(random.int(40));
    const encode = (part: string) => (random.chance(0.5) ? percentEncode(part) : part);

    return random.chance(0.1) ? encode(name) : `${encode(name)}=${encode(value)}`;
  });

  return pairs.join(random.chance(0.9) ? '&' : ';');
}

/** A random JSON value of bounded depth, biased towards the members the endpoints read. */
export function randomJson(random: SeededRandom, depth = 3): unknown {
  const roll = random.int(depth <= 0 ? 4 : 7);

  switch (roll) {
    case 0:
      return null;
    case 1:
      return random.chance(0.5);
    case 2:
      return random.pick(NUMBERS);
    case 3:
      return random.chance(0.7) ? random.pick(TRICKY_VALUES) : random.text(random.int(30));
    case 4:
      return Array.from({ length: random.int(4) }, () => randomJson(random, depth - 1));
    default:
      return randomObject(random, depth - 1);
  }
}

export function randomObject(random: SeededRandom, depth = 2): Record<string, unknown> {
  const entries = Array.from({ length: 1 + random.int(6) }, () => [
    random.chance(0.85) ? random.pick(JSON_FIELDS) : random.text(1 + random.int(6)),
    randomJson(random, depth),
  ]);

  return Object.fromEntries(entries) as Record<string, unknown>;
}

/** JSON nested deeper than any validator should recurse without a bound. */
export function deeplyNested(levels: number): string {
  return `${'{"a":['.repeat(levels)}1${']}'.repeat(levels)}`;
}
