import {
  deeplyNested,
  percentEncode,
  randomForm,
  randomObject,
  TRICKY_VALUES,
  type SeededRandom,
} from './fuzz-input.js';

/** The answer shape a target promises: RFC 6749 §5.2 JSON, or RFC 9457 problem details. */
export type Shape = 'token' | 'introspection' | 'revocation' | 'problem';

/** An endpoint under fuzz, with the credentials that get a request past authentication. */
export interface Target {
  name: string;
  method: 'GET' | 'POST' | 'PATCH' | 'PUT';
  url: string;
  auth: Record<string, string>;
  shape: Shape;
  /** What the endpoint reads: a form, a JSON document, or only its query string. */
  input: 'form' | 'json' | 'query';
}

/** One malformed request. */
export interface FuzzCase {
  name: string;
  target: Target;
  url: string;
  headers: Record<string, string>;
  body?: Buffer;
  /** Headers past Node's 16 KiB limit: Node itself answers 431 before any handler runs. */
  oversizedHeaders?: boolean;
}

const FORM = 'application/x-www-form-urlencoded';
const JSON_TYPE = 'application/json';
const TWO_MB = 2 * 1024 * 1024;

/** A body variant: its name, content type (none when undefined) and bytes. */
interface BodyVariant {
  name: string;
  type: string | undefined;
  body: Buffer | undefined;
}

const variant = (name: string, type: string | undefined, body?: string | Buffer) => ({
  name,
  type,
  body: typeof body === 'string' ? Buffer.from(body, 'utf8') : body,
});

const GRANT = 'grant_type=client_credentials';

/** Form bodies every OAuth endpoint gets, each named after the mistake it makes. */
function formVariants(random: SeededRandom): BodyVariant[] {
  return [
    variant('bad percent-encoding', FORM, `${GRANT}&scope=%ZZ%&token=%E0%A4%A&resource=%`),
    variant(
      'invalid UTF-8 bytes',
      FORM,
      Buffer.from([...Buffer.from(`${GRANT}&scope=`), 0xff, 0xfe, 0xc3, 0x28]),
    ),
    variant('invalid UTF-8 encoded', FORM, `${GRANT}&scope=%FF%FE&token=%C0%80%ED%A0%80`),
    variant('2 MB body', FORM, `${GRANT}&scope=${'a'.repeat(TWO_MB)}`),
    variant('repeated parameters', FORM, `${GRANT}&${GRANT}&scope=search&scope=x&token=a&token=b`),
    variant(
      'JSON to a form endpoint',
      JSON_TYPE,
      JSON.stringify({ grant_type: 'client_credentials', token: 'x' }),
    ),
    variant('invalid JSON', JSON_TYPE, '{"grant_type": '),
    variant('empty body', FORM, ''),
    variant('no body, no type', undefined),
    variant('null bytes encoded', FORM, `${GRANT}%00&scope=search%00&token=%00`),
    variant('null bytes raw', FORM, `${GRANT}&scope=se\u0000arch&token=\u0000`),
    variant('very long scope', FORM, `${GRANT}&scope=${'search '.repeat(7_000)}`),
    variant(
      'very long resource',
      FORM,
      `${GRANT}&scope=search&resource=https://x/${'a'.repeat(50_000)}`,
    ),
    variant('unknown grant type', FORM, 'grant_type=urn:example:unknown&scope=search'),
    variant('password grant', FORM, 'grant_type=password&username=a&password=b'),
    variant('refresh grant', FORM, 'grant_type=refresh_token&refresh_token=x'),
    variant('empty grant type', FORM, 'grant_type=&scope=search'),
    variant('array parameters', FORM, 'grant_type[]=client_credentials&scope[]=search&token[0]=x'),
    variant('text/plain', 'text/plain', `${GRANT}&scope=search`),
    variant('multipart garbage', 'multipart/form-data; boundary=zz', '--zz\r\ngarbage'),
    variant('UTF-16 charset', `${FORM}; charset=utf-16`, `${GRANT}&scope=search`),
    variant('unknown charset', `${FORM}; charset=no-such-charset`, `${GRANT}&scope=search`),
    variant('random bytes', FORM, random.bytes(512)),
  ];
}

/** JSON bodies every JSON endpoint gets. */
function jsonVariants(random: SeededRandom): BodyVariant[] {
  return [
    variant('truncated JSON', JSON_TYPE, '{"name": "a", '),
    variant('single-quoted JSON', JSON_TYPE, "{'name': 'a'}"),
    variant('trailing comma', JSON_TYPE, '[1,]'),
    variant('byte order mark', JSON_TYPE, '\ufeff{}'),
    variant('form to a JSON endpoint', FORM, 'name=a&token=b'),
    variant('empty body', JSON_TYPE, ''),
    variant('no body, no type', undefined),
    variant('2 MB body', JSON_TYPE, JSON.stringify({ name: 'a'.repeat(TWO_MB) })),
    variant(
      'invalid UTF-8 in a string',
      JSON_TYPE,
      Buffer.from([...Buffer.from('{"name":"'), 0xff, 0xc0, ...Buffer.from('"}')]),
    ),
    variant('null bytes', JSON_TYPE, '{"name":"a\\u0000b","token":"\\u0000","tool":"\u0000"}'),
    variant('null byte in a name', JSON_TYPE, '{"name":"a\\u0000b"}'),
    variant('lone surrogate', JSON_TYPE, '{"name":"\\ud800","owner":"\\udfff"}'),
    variant(
      'arrays for strings',
      JSON_TYPE,
      JSON.stringify({ name: ['a'], owner: ['o'], token: ['t'], tool: ['search'], audience: [[]] }),
    ),
    variant(
      'strings for arrays',
      JSON_TYPE,
      JSON.stringify({ name: 'a', tools: 'search', audiences: 'https://x/', reports: 'r' }),
    ),
    variant('deep nesting', JSON_TYPE, deeplyNested(5_000)),
    variant(
      'prototype keys',
      JSON_TYPE,
      '{"__proto__":{"status":"disabled"},"constructor":{"prototype":1}}',
    ),
    variant('duplicate keys', JSON_TYPE, '{"name":"a","name":["b"],"tools":[],"tools":{}}'),
    variant(
      'huge numbers',
      JSON_TYPE,
      '{"token_ttl_seconds":1e400,"input_tokens":123456789012345678901234567890,"calls":-1e-400}',
    ),
    variant('JSON scalar', JSON_TYPE, 'null'),
    variant('JSON array', JSON_TYPE, '[]'),
    variant('text/plain', 'text/plain', '{"name":"a"}'),
    variant('JSON with latin1 charset', `${JSON_TYPE}; charset=latin1`, '{"name":"\u00e9"}'),
    variant('random bytes', JSON_TYPE, random.bytes(256)),
  ];
}

/** Authorization headers that are not what they claim to be. */
function garbageAuthorizations(random: SeededRandom): string[] {
  const base64 = (text: string | Buffer) => Buffer.from(text).toString('base64');

  return [
    'Basic !!!!',
    'Basic',
    'Basic ====',
    `Basic ${base64(random.bytes(48))}`,
    `Basic ${base64(':')}`,
    `Basic ${base64('%ZZ:%')}`,
    `Basic ${base64('\u0000:\u0000')}`,
    `Basic ${base64('a'.repeat(5_000))}`,
    'Bearer',
    `Bearer ${'x'.repeat(4_000)}`,
    'Digest username="a"',
    '\u00ff\u00fe',
  ];
}

const withBody = (target: Target, entry: BodyVariant): FuzzCase => ({
  name: entry.name,
  target,
  url: target.url,
  headers: { ...target.auth, ...(entry.type === undefined ? {} : { 'content-type': entry.type }) },
  ...(entry.body === undefined ? {} : { body: entry.body }),
});

/** A well-formed request for the target: the base the header cases change. */
function plainCase(target: Target, name: string): FuzzCase {
  return target.input === 'form'
    ? withBody(target, variant(name, FORM, `${GRANT}&scope=search&token=x`))
    : target.input === 'json'
      ? withBody(target, variant(name, JSON_TYPE, '{"name":"a"}'))
      : withBody(target, variant(name, undefined));
}

/** Cases that attack the headers rather than the body. */
function headerCases(target: Target, random: SeededRandom): FuzzCase[] {
  const garbage = garbageAuthorizations(random).map((authorization, index) => {
    const base = plainCase(target, `garbage Authorization #${index}`);

    return { ...base, headers: { ...base.headers, authorization } };
  });
  const huge = plainCase(target, 'huge header value');
  const oversized = plainCase(target, 'header past the server limit');

  return [
    ...garbage,
    { ...huge, headers: { ...huge.headers, 'x-fuzz-filler': 'h'.repeat(12_000) } },
    {
      ...oversized,
      headers: { ...oversized.headers, 'x-fuzz-filler': 'h'.repeat(20_000) },
      oversizedHeaders: true,
    },
  ];
}

/** Query strings for the list endpoints, and paths with broken encodings. */
function queryCases(target: Target, random: SeededRandom): FuzzCase[] {
  const queries = [
    '?cursor=%ZZ&limit=%FF',
    '?limit=-1&limit=1e309&limit[]=3',
    '?agent_id=%00&kind=%ED%A0%80',
    '?owner=a%00b&status=%00&subject=%00',
    `?from=${'9'.repeat(40)}&to=not-a-date`,
    `?cursor=${'A'.repeat(8_000)}`,
    '?group_by=agent,agent,nope,&state=maybe',
    '?__proto__[x]=1&constructor=1',
    `?${random.text(40).replace(/#/g, '')}`,
  ];

  return queries.map((query, index) => ({
    ...plainCase(target, `query #${index}`),
    url: `${target.url}${query}`,
  }));
}

/** Every case for one target: the fixed catalogue, then `randomCount` seeded random bodies. */
export function casesFor(target: Target, random: SeededRandom, randomCount: number): FuzzCase[] {
  const fixed = {
    form: () => formVariants(random).map((entry) => withBody(target, entry)),
    json: () => jsonVariants(random).map((entry) => withBody(target, entry)),
    query: () => queryCases(target, random),
  }[target.input]();
  const randomBodies = Array.from({ length: randomCount }, (_, index) =>
    randomCase(target, random, index),
  );

  return [...fixed, ...headerCases(target, random), ...randomBodies];
}

function randomCase(target: Target, random: SeededRandom, index: number): FuzzCase {
  const name = `random #${index}`;

  if (target.input === 'query') {
    const query = Array.from(
      { length: 3 },
      () =>
        `${random.pick(TRICKY_VALUES).slice(0, 50)}=` +
        percentEncode(random.pick(TRICKY_VALUES).slice(0, 500)),
    );

    return { ...plainCase(target, name), url: `${target.url}?${query.join('&')}` };
  }

  const base =
    target.input === 'form'
      ? withBody(target, variant(name, FORM, randomForm(random)))
      : withBody(target, variant(name, JSON_TYPE, JSON.stringify(randomObject(random))));

  return random.chance(0.2)
    ? {
        ...base,
        headers: { ...base.headers, authorization: random.pick(garbageAuthorizations(random)) },
      }
    : base;
}
