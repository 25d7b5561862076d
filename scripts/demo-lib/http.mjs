// One way to send a demo's HTTP requests: print the request as a curl command, send it with
// fetch, print the status and the interesting part of the answer, hand the answer back.
import { short, showAnswer, showRequest } from './show.mjs';

/** Fields whose values are credentials: shown shortened, wherever they appear. */
const SECRET_FIELDS = new Set([
  'token',
  'subject_token',
  'actor_token',
  'client_secret',
  'access_token',
  'refresh_token',
]);

/** Answers longer than this are cut when shown whole. */
const SHOWN_ANSWER_MAX = 240;

/**
 * @typedef {object} Call
 * @property {string} url
 * @property {string} [method] GET, or POST when there is a body
 * @property {[string, string]} [basic] client id and secret, for HTTP Basic
 * @property {string} [bearer] a bearer token
 * @property {Record<string, string | undefined>} [form] an application/x-www-form-urlencoded body
 * @property {unknown} [json] a JSON body
 * @property {string} [accept] the Accept header
 * @property {string} [shownBody] how to show a body too large to print
 * @property {string[] | ((answer: Answer) => string) | false} [show] the fields of the answer to
 *   print, or a function that describes it, or false to print nothing; the whole answer otherwise
 * @property {boolean} [quiet] neither print the request nor the answer
 */

/**
 * @typedef {object} Answer
 * @property {number} status
 * @property {Headers} headers
 * @property {string} text
 * @property {any} body the parsed JSON, or the text when the answer is not JSON
 */

/**
 * Sends one request, printing it and its answer unless `quiet`.
 * @param {Call} call
 * @returns {Promise<Answer>}
 */
export async function send(call) {
  const method = call.method ?? ((call.form ?? call.json) ? 'POST' : 'GET');

  const loud = call.quiet !== true;
  const init = { method, headers: headersOf(call), body: bodyOf(call) };
  // The request is printed with its answer, so that concurrent requests do not interleave.
  const answer = await fetch(call.url, init).then(readAnswer, (error) => {
    if (loud) showRequest(curlWords(call, method));
    throw error;
  });

  if (loud) showRequest(curlWords(call, method));
  if (loud && call.show !== false) showAnswer(answer.status, describe(answer, call.show));

  return answer;
}

/**
 * RFC 6749 §2.3.1: id and secret are form-encoded, joined by a colon, then base64-encoded.
 * @param {string} id
 * @param {string} secret
 */
export function basicAuth(id, secret) {
  const encode = (/** @type {string} */ value) => encodeURIComponent(value).replace(/%20/g, '+');

  return `Basic ${Buffer.from(`${encode(id)}:${encode(secret)}`).toString('base64')}`;
}

/**
 * A copy of a JSON value with every credential field shortened, for printing.
 * @param {unknown} value
 */
export function masked(value) {
  return JSON.parse(
    JSON.stringify(value, (key, field) =>
      SECRET_FIELDS.has(key) && typeof field === 'string' ? short(field) : field,
    ),
  );
}

/** @param {Call} call */
function headersOf(call) {
  /** @type {Record<string, string>} */
  const headers = {};

  if (call.basic !== undefined) headers.authorization = basicAuth(...call.basic);
  if (call.bearer !== undefined) headers.authorization = `Bearer ${call.bearer}`;
  if (call.accept !== undefined) headers.accept = call.accept;
  if (call.form !== undefined) headers['content-type'] = 'application/x-www-form-urlencoded';
  if (call.json !== undefined) headers['content-type'] = 'application/json';

  return headers;
}

/** @param {Call} call */
function bodyOf(call) {
  if (call.form !== undefined) {
    return new URLSearchParams(definedEntries(call.form)).toString();
  }

  return call.json === undefined ? undefined : JSON.stringify(call.json);
}

/** @param {Record<string, string | undefined>} fields @returns {[string, string][]} */
function definedEntries(fields) {
  return /** @type {[string, string][]} */ (
    Object.entries(fields).filter(([, value]) => value !== undefined)
  );
}

/** @param {Response} response @returns {Promise<Answer>} */
async function readAnswer(response) {
  const text = await response.text();
  const isJson = /json/.test(response.headers.get('content-type') ?? '');

  return {
    status: response.status,
    headers: response.headers,
    text,
    body: isJson && text !== '' ? JSON.parse(text) : text,
  };
}

/**
 * The curl command that sends the same request, with credentials shortened.
 * @param {Call} call
 * @param {string} method
 */
function curlWords(call, method) {
  const implied = (call.form ?? call.json) ? 'POST' : 'GET';
  const words = ['curl'];

  // An option and its value stay together, so that folded lines break between options.
  if (method !== implied) words.push(`-X ${method}`);
  if (call.basic !== undefined)
    words.push(`-u ${quote(`${call.basic[0]}:${short(call.basic[1])}`)}`);
  if (call.bearer !== undefined)
    words.push(`-H ${quote(`Authorization: Bearer ${short(call.bearer)}`)}`);
  if (call.accept !== undefined) words.push(`-H ${quote(`Accept: ${call.accept}`)}`);

  for (const [name, value] of definedEntries(call.form ?? {})) {
    words.push(`-d ${quote(`${name}=${SECRET_FIELDS.has(name) ? short(value) : value}`)}`);
  }

  if (call.json !== undefined) {
    words.push(`--json ${call.shownBody ?? quote(JSON.stringify(masked(call.json)))}`);
  }

  words.push(quote(call.url));

  return words;
}

/** Quotes a word for a POSIX shell when it needs it. @param {string} word */
function quote(word) {
  return /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replaceAll("'", `'\\''`)}'`;
}

/**
 * @param {Answer} answer
 * @param {Call['show']} show
 */
function describe(answer, show) {
  if (typeof show === 'function') {
    return show(answer);
  }

  if (typeof answer.body !== 'object' || answer.body === null) {
    return cut(answer.text.trim());
  }

  const body = masked(answer.body);
  // A refusal is shown whole: its error fields are the interesting part.
  const picked =
    Array.isArray(show) && answer.status < 400
      ? Object.fromEntries(show.filter((key) => key in body).map((key) => [key, body[key]]))
      : body;

  return cut(JSON.stringify(picked));
}

/** @param {string} text */
function cut(text) {
  return text.length <= SHOWN_ANSWER_MAX ? text : `${text.slice(0, SHOWN_ANSWER_MAX)}…`;
}
