import { basicAuth } from './tollgate.js';

/** No request may take longer than this: a fault must be answered, not waited out. */
export const REQUEST_TIMEOUT_MS = 5_000;

/** An answer as the fault tests compare it: status, Retry-After, type and parsed body. */
export interface Reply {
  status: number;
  retryAfter: string | null;
  contentType: string;
  body: Record<string, unknown>;
}

/** One request with a hard deadline, its answer parsed when it is JSON. */
export async function send(url: string, init: RequestInit = {}): Promise<Reply> {
  const response = await fetch(url, { ...init, signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) });
  const text = await response.text();
  let body: Record<string, unknown>;

  try {
    body = JSON.parse(text) as Record<string, unknown>;
  } catch {
    body = { text };
  }

  return {
    status: response.status,
    retryAfter: response.headers.get('retry-after'),
    contentType: response.headers.get('content-type') ?? '',
    body,
  };
}

/** A hang, reported as an answer so that the comparison shows it. */
export const hung = (error: unknown): Reply => ({
  status: 0,
  retryAfter: null,
  contentType: '',
  body: { error: String(error) },
});

export const basic = (client: { clientId: string; secret: string }) => ({
  authorization: basicAuth(client.clientId, client.secret),
});

export const postForm = (
  url: string,
  client: { clientId: string; secret: string },
  fields: Record<string, string>,
) => send(url, { method: 'POST', headers: basic(client), body: new URLSearchParams(fields) });
