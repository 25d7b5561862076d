/** Stable machine-readable codes of application errors; part of the management API contract. */
export type AppErrorCode =
  | 'invalid_input'
  | 'not_found'
  | 'conflict'
  | 'unauthorized'
  | 'forbidden'
  | 'method_not_allowed'
  | 'unsupported_media_type'
  | 'payload_too_large'
  | 'too_many_requests'
  | 'service_unavailable'
  | 'internal';

export interface AppErrorOptions {
  /** Server-side detail for logs; never shown to the caller. */
  detail?: string;
  /** Field-level problems, shown to the caller (RFC 9457 extension member `errors`). */
  errors?: { path: string; message: string }[];
  cause?: unknown;
}

/**
 * The one error type of Tollgate's own (non-OAuth) surfaces. It is rendered once, at the HTTP
 * edge, as application/problem+json; `message` is public, `detail` is not.
 */
export class AppError extends Error {
  override readonly name = 'AppError';
  readonly detail: string | undefined;
  readonly errors: { path: string; message: string }[] | undefined;

  constructor(
    readonly code: AppErrorCode,
    readonly status: number,
    message: string,
    options: AppErrorOptions = {},
  ) {
    super(message, { cause: options.cause });
    this.detail = options.detail;
    this.errors = options.errors;
  }
}

export const invalidInput = (message: string, errors?: { path: string; message: string }[]) =>
  new AppError('invalid_input', 400, message, { errors });

export const notFound = (what: string) => new AppError('not_found', 404, `${what} not found`);

export const conflict = (message: string) => new AppError('conflict', 409, message);
