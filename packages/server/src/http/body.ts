import type { ParameterizedContext } from 'koa';

import { AppError, invalidInput } from '@tollgate/core';

/** Management requests are small JSON documents; 64 KiB leaves room for a JWKS of 10 RSA keys. */
export const MAX_BODY_BYTES = 64 * 1024;

export interface ReadBodyOptions {
  /** Action endpoints (disable, enable, revoke) accept no body at all, read as `{}`. */
  emptyAsObject?: boolean;
  /** A larger bound for endpoints that take batches. */
  maxBytes?: number;
}

/** Reads and parses a JSON request body: application/json only, bounded, valid JSON. */
export async function readJsonBody(
  ctx: ParameterizedContext,
  options: ReadBodyOptions = {},
): Promise<unknown> {
  if (!hasBody(ctx)) {
    if (options.emptyAsObject === true) {
      return {};
    }

    throw invalidInput('a JSON request body is required');
  }

  if (ctx.is('application/json') === false) {
    throw new AppError('unsupported_media_type', 415, 'the request body must be application/json');
  }

  const raw = await readBounded(ctx, options.maxBytes ?? MAX_BODY_BYTES);

  if (raw.length === 0 && options.emptyAsObject === true) {
    return {};
  }

  return parseJson(raw);
}

function hasBody(ctx: ParameterizedContext): boolean {
  return ctx.request.length !== undefined
    ? ctx.request.length > 0
    : ctx.get('Transfer-Encoding') !== '';
}

const tooLarge = (maxBytes: number) =>
  new AppError('payload_too_large', 413, `the request body exceeds ${maxBytes} bytes`);

async function readBounded(ctx: ParameterizedContext, maxBytes: number): Promise<Buffer> {
  if ((ctx.request.length ?? 0) > maxBytes) {
    throw tooLarge(maxBytes);
  }

  const chunks: Buffer[] = [];
  let size = 0;

  // Stopping early must not destroy the socket, or the client would never see the 413;
  // Node discards the unread rest of the body after the response.
  for await (const chunk of ctx.req.iterator({ destroyOnReturn: false })) {
    const buffer = Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk));
    size += buffer.length;

    if (size > maxBytes) {
      throw tooLarge(maxBytes);
    }

    chunks.push(buffer);
  }

  return Buffer.concat(chunks);
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

function parseJson(raw: Buffer): unknown {
  let parsed: unknown;

  try {
    parsed = JSON.parse(utf8.decode(raw));
  } catch {
    throw invalidInput('the request body is not valid JSON');
  }

  if (!isStorableText(parsed)) {
    throw invalidInput('the request body holds a NUL character or malformed Unicode');
  }

  return parsed;
}

/**
 * Postgres text cannot hold U+0000, and a lone surrogate cannot be encoded as UTF-8: refuse both
 * here, in every key and string, rather than fail later in a write.
 */
function isStorableText(value: unknown): boolean {
  // Walked with an explicit stack: a deeply nested document must not overflow the call stack.
  const pending: unknown[] = [value];

  for (let item = pending.pop(); pending.length > 0 || item !== undefined; item = pending.pop()) {
    if (typeof item === 'string') {
      if (item.includes('\u0000') || !item.isWellFormed()) return false;
    } else if (Array.isArray(item)) {
      pending.push(...(item as unknown[]));
    } else if (typeof item === 'object' && item !== null) {
      for (const [key, member] of Object.entries(item)) {
        pending.push(key, member);
      }
    }
  }

  return true;
}
