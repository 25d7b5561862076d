import { request } from 'node:http';

/** Runs `count` tasks, at most `concurrency` at a time; results keep the tasks' order. */
export async function runConcurrently<T>(
  count: number,
  concurrency: number,
  task: (index: number) => Promise<T>,
): Promise<T[]> {
  const results = new Array<T>(count);
  let next = 0;
  const worker = async () => {
    while (next < count) {
      const index = next;
      next += 1;
      results[index] = await task(index);
    }
  };

  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker));

  return results;
}

/** How one request over its own connection ended, as a client on the wire sees it. */
export type WireOutcome =
  | { kind: 'answered'; status: number; headers: Record<string, string>; text: string }
  /** The connection failed before any answer began (refused, reset before the status line). */
  | { kind: 'refused'; code: string }
  /** An answer began but did not arrive whole. */
  | { kind: 'truncated'; status: number; detail: string };

/**
 * POSTs a form over a fresh connection (no keep-alive pool), reading the answer to its end
 * and checking it against its Content-Length, so a cut-off body cannot pass for a short one.
 */
export function postOverFreshConnection(
  url: string,
  headers: Record<string, string>,
  body: string,
): Promise<WireOutcome> {
  return new Promise((resolve) => {
    const outgoing = request(url, {
      method: 'POST',
      agent: false,
      headers: { ...headers, 'content-type': 'application/x-www-form-urlencoded' },
    });
    let answering = false;

    outgoing.on('response', (response) => {
      answering = true;
      const chunks: Buffer[] = [];
      const status = response.statusCode ?? 0;
      let ended = false;

      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () => {
        ended = true;
        resolve(completeOrTruncated(status, response.headers, Buffer.concat(chunks)));
      });
      response.on('close', () => {
        if (!ended) resolve({ kind: 'truncated', status, detail: 'connection closed mid-body' });
      });
      response.on('error', () => undefined);
    });
    outgoing.on('error', (error: Error & { code?: string }) => {
      if (!answering) resolve({ kind: 'refused', code: error.code ?? error.message });
    });
    outgoing.end(body);
  });
}

function completeOrTruncated(
  status: number,
  rawHeaders: Record<string, string | string[] | undefined>,
  body: Buffer,
): WireOutcome {
  const headers = Object.fromEntries(
    Object.entries(rawHeaders).map(([name, value]) => [name, String(value)]),
  );
  const declared = headers['content-length'];

  if (declared !== undefined && Number(declared) !== body.length) {
    return { kind: 'truncated', status, detail: `${body.length} of ${declared} bytes` };
  }

  return { kind: 'answered', status, headers, text: body.toString('utf8') };
}
