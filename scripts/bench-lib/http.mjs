// Small HTTP helpers for setting the targets up (not for load: that is autocannon's job).

/**
 * RFC 6749 §2.3.1: client_secret_basic encodes id and secret as form values, then base64.
 * @param {string} id
 * @param {string} secret
 */
export function basicAuth(id, secret) {
  const encode = (value) => encodeURIComponent(value).replace(/%20/g, '+');

  return `Basic ${Buffer.from(`${encode(id)}:${encode(secret)}`).toString('base64')}`;
}

export const FORM = 'application/x-www-form-urlencoded';

/** @param {Record<string, string | undefined>} fields */
export function formBody(fields) {
  const defined = Object.entries(fields).filter(([, value]) => value !== undefined);

  return new URLSearchParams(/** @type {[string, string][]} */ (defined)).toString();
}

/** An HTTP answer the bench did not expect; carries the status and body for the message. */
export class HttpError extends Error {
  /**
   * @param {string} what
   * @param {number} status
   * @param {string} body
   */
  constructor(what, status, body) {
    super(`${what}: HTTP ${status} ${body.slice(0, 300)}`);
    this.status = status;
  }
}

/**
 * POSTs a form and returns the parsed JSON answer (or null for an empty one).
 * @param {string} url
 * @param {Record<string, string | undefined>} fields
 * @param {Record<string, string>} [headers]
 */
export async function postForm(url, fields, headers = {}) {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': FORM, ...headers },
    body: formBody(fields),
  });

  return readAnswer(response, `POST ${url}`);
}

/**
 * A JSON request with a bearer token (the management API).
 * @param {string} method
 * @param {string} url
 * @param {string} token
 * @param {unknown} [body]
 */
export async function jsonRequest(method, url, token, body) {
  const response = await fetch(url, {
    method,
    headers: {
      authorization: `Bearer ${token}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });

  return readAnswer(response, `${method} ${url}`);
}

/** @param {Response} response @param {string} what */
async function readAnswer(response, what) {
  const text = await response.text();

  if (!response.ok) {
    throw new HttpError(what, response.status, text);
  }

  return text === '' ? null : JSON.parse(text);
}

/**
 * The endpoints a target's discovery document names.
 * @param {string} issuer
 */
export async function discoverEndpoints(issuer) {
  const response = await fetch(`${issuer}/.well-known/openid-configuration`);
  const metadata = await readAnswer(response, 'discovery');

  return {
    token: String(metadata.token_endpoint),
    introspection: String(metadata.introspection_endpoint),
    revocation: String(metadata.revocation_endpoint),
  };
}

/**
 * Runs `task` for each index in 0..count-1 with at most `parallel` at a time.
 * @template T
 * @param {number} count
 * @param {number} parallel
 * @param {(index: number) => Promise<T>} task
 * @returns {Promise<T[]>}
 */
export async function inParallel(count, parallel, task) {
  const results = new Array(count);
  let next = 0;
  const worker = async () => {
    while (next < count) {
      const index = next++;
      results[index] = await task(index);
    }
  };

  await Promise.all(Array.from({ length: Math.min(parallel, count) }, worker));

  return results;
}
