// One measured run: autocannon against one URL, with optional per-request items (client
// assertions, tokens to revoke) drawn from a pre-made pool so that no request repeats one.
import autocannon from 'autocannon';

/**
 * @typedef {object} LoadSpec
 * @property {string} url
 * @property {Record<string, string>} headers
 * @property {string} [body] the same body on every request
 * @property {(item: string) => string} [bodyFor] a body around the next pool item
 * @property {string[]} [pool] one item per request, never reused
 * @property {boolean} [idReplacement] replace `[<id>]` in the body with a fresh id
 * @property {(body: string) => boolean} [verify] a 2xx whose body fails this is a mismatch
 */

/**
 * @typedef {object} LoadResult
 * @property {number} connections
 * @property {number} seconds actual length of the run
 * @property {number} requests completed requests
 * @property {number} rps
 * @property {number} p50 ms
 * @property {number} p99 ms
 * @property {number} max ms
 * @property {number} non2xx
 * @property {number} errors connection errors and timeouts
 * @property {number} mismatches 2xx answers whose body was not the expected one
 * @property {Record<string, number>} statusCodes
 * @property {boolean} poolRanOut the pool ended the run before its duration
 */

/** Connections may build a few requests they never send; the pool keeps this many spare. */
const POOL_SLACK_PER_CONNECTION = 2;

/**
 * @param {LoadSpec} spec
 * @param {{ connections: number, seconds: number }} shape
 * @returns {Promise<LoadResult>}
 */
export function runLoad(spec, { connections, seconds }) {
  const latencies = [];
  const draw = spec.pool === undefined ? undefined : drawer(spec.pool);
  const amount =
    spec.pool === undefined
      ? undefined
      : Math.max(connections, spec.pool.length - POOL_SLACK_PER_CONNECTION * connections);
  const url = new URL(spec.url);

  return new Promise((resolve, reject) => {
    const instance = autocannon(
      {
        url: url.origin,
        connections,
        duration: seconds,
        amount,
        timeout: 10,
        idReplacement: spec.idReplacement ?? false,
        verifyBody: spec.verify,
        requests: [
          {
            method: 'POST',
            path: url.pathname,
            headers: spec.headers,
            body: spec.body,
            // autocannon treats a present-but-undefined setupRequest as a function to call.
            ...(draw === undefined || spec.bodyFor === undefined
              ? {}
              : { setupRequest: (request) => ({ ...request, body: spec.bodyFor?.(draw()) }) }),
          },
        ],
      },
      (error, result) => {
        clearTimeout(timer);
        if (error) {
          reject(error);
          return;
        }

        resolve(summarise(result, latencies, connections, amount, seconds));
      },
    );
    // With a pool, autocannon stops after `amount` requests; the clock still ends the run.
    const timer = setTimeout(() => instance.stop(), seconds * 1000);

    instance.on('response', (_client, _status, _bytes, responseTime) => {
      latencies.push(responseTime);
    });
  });
}

/** @param {string[]} pool */
function drawer(pool) {
  let next = 0;

  return () => pool[next++ % pool.length] ?? '';
}

function summarise(result, latencies, connections, amount, seconds) {
  const sorted = Float64Array.from(latencies).sort();
  const statusCodes = Object.fromEntries(
    Object.entries(result.statusCodeStats ?? {}).map(([code, { count }]) => [code, Number(count)]),
  );
  const requests = result.requests.total;

  return {
    connections,
    seconds: result.duration,
    requests,
    rps: result.duration > 0 ? requests / result.duration : 0,
    p50: percentile(sorted, 0.5),
    p99: percentile(sorted, 0.99),
    max: sorted.at(-1) ?? 0,
    non2xx: result.non2xx,
    errors: result.errors,
    mismatches: result.mismatches,
    statusCodes,
    poolRanOut: amount !== undefined && result.duration < seconds - 0.5,
  };
}

/** Nearest-rank percentile of an ascending array. */
function percentile(sorted, fraction) {
  if (sorted.length === 0) return 0;

  return sorted[Math.min(sorted.length - 1, Math.ceil(fraction * sorted.length) - 1)] ?? 0;
}
