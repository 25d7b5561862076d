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

/**
 * @typedef {object} RawResult
 * @property {number} connections
 * @property {number} seconds
 * @property {number} requests
 * @property {number} non2xx
 * @property {number} errors
 * @property {number} mismatches
 * @property {Record<string, number>} statusCodes
 * @property {boolean} poolRanOut
 * @property {Float64Array} latencies ms, one per completed request
 */

/** Connections may build a few requests they never send; the pool keeps this many spare. */
const POOL_SLACK_PER_CONNECTION = 2;

/**
 * @param {LoadSpec} spec
 * @param {{ connections: number, seconds: number }} shape
 * @returns {Promise<RawResult>}
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
        // Checks for the end of the run four times a second, so short slices end on time.
        sampleInt: 250,
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

        resolve(rawResult(result, latencies, connections, amount, seconds));
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

/** What one autocannon run measured, with every latency kept for merging. */
function rawResult(result, latencies, connections, amount, seconds) {
  return {
    connections,
    seconds: result.duration,
    requests: result.requests.total,
    non2xx: result.non2xx,
    errors: result.errors,
    mismatches: result.mismatches,
    statusCodes: Object.fromEntries(
      Object.entries(result.statusCodeStats ?? {}).map(([code, { count }]) => [
        code,
        Number(count),
      ]),
    ),
    poolRanOut: amount !== undefined && result.duration < seconds - 0.5,
    latencies: Float64Array.from(latencies),
  };
}

/**
 * Merges the slices of one measurement (same target, operation and concurrency) into one
 * result: requests over total time, percentiles over every latency.
 * @param {RawResult[]} parts
 * @returns {LoadResult}
 */
export function summarise(parts) {
  const sum = (pick) => parts.reduce((total, part) => total + pick(part), 0);
  const sorted = new Float64Array(sum((part) => part.latencies.length));
  const statusCodes = {};
  let offset = 0;

  for (const part of parts) {
    sorted.set(part.latencies, offset);
    offset += part.latencies.length;
    for (const [code, count] of Object.entries(part.statusCodes)) {
      statusCodes[code] = (statusCodes[code] ?? 0) + count;
    }
  }

  sorted.sort();
  const seconds = sum((part) => part.seconds);
  const requests = sum((part) => part.requests);

  return {
    connections: parts[0]?.connections ?? 0,
    seconds,
    requests,
    rps: seconds > 0 ? requests / seconds : 0,
    p50: percentile(sorted, 0.5),
    p99: percentile(sorted, 0.99),
    max: sorted.at(-1) ?? 0,
    non2xx: sum((part) => part.non2xx),
    errors: sum((part) => part.errors),
    mismatches: sum((part) => part.mismatches),
    statusCodes,
    poolRanOut: parts.some((part) => part.poolRanOut),
  };
}

/** Nearest-rank percentile of an ascending array. */
function percentile(sorted, fraction) {
  if (sorted.length === 0) return 0;

  return sorted[Math.min(sorted.length - 1, Math.ceil(fraction * sorted.length) - 1)] ?? 0;
}
