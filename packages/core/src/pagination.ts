import { invalidInput } from './errors.js';

export const DEFAULT_PAGE_SIZE = 50;
export const MAX_PAGE_SIZE = 200;

/** One page of a list: the items and an opaque cursor for the next page, or null at the end. */
export interface Page<T> {
  items: T[];
  next_cursor: string | null;
}

export function encodeCursor(position: Record<string, string>): string {
  return Buffer.from(JSON.stringify(position)).toString('base64url');
}

/** Decodes a cursor made by encodeCursor, insisting on the expected string fields. */
export function decodeCursor<K extends string>(
  cursor: string,
  fields: readonly K[],
): Record<K, string> {
  let parsed: unknown;

  try {
    parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    parsed = undefined;
  }

  const record = parsed as Record<string, unknown> | undefined;
  const valid =
    typeof record === 'object' &&
    record !== null &&
    fields.every((field) => typeof record[field] === 'string');

  if (!valid) {
    throw invalidInput('invalid cursor', [
      { path: 'cursor', message: 'not a cursor from this API' },
    ]);
  }

  return record as Record<K, string>;
}

export function pageSize(limit: number | undefined): number {
  return Math.min(Math.max(limit ?? DEFAULT_PAGE_SIZE, 1), MAX_PAGE_SIZE);
}

/** Fetches one more row than the page holds, to know whether a next page exists. */
export function toPage<Row, T>(
  rows: Row[],
  limit: number,
  view: (row: Row) => T,
  cursorOf: (row: Row) => string,
): Page<T> {
  const items = rows.slice(0, limit);
  const last = items.at(-1);

  return {
    items: items.map(view),
    next_cursor: rows.length > limit && last !== undefined ? cursorOf(last) : null,
  };
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Row ids are UUIDs; anything else cannot name a row, so callers answer 404 without a query. */
export const isRowId = (value: string): boolean => UUID.test(value);

/** Decodes a (time, row id) keyset cursor, refusing one whose values cannot be a position. */
export function decodeTimeCursor(cursor: string, timeField: string): { at: Date; id: string } {
  const position: Record<string, string> = decodeCursor(cursor, [timeField, 'i']);
  const at = new Date(position[timeField] ?? '');
  const id = position.i ?? '';

  if (Number.isNaN(at.getTime()) || !isRowId(id)) {
    throw invalidInput('invalid cursor', [
      { path: 'cursor', message: 'not a cursor from this API' },
    ]);
  }

  return { at, id };
}
