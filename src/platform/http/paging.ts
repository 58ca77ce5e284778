// Keyset paging for every list: `?limit=&cursor=` → { items, nextCursor }.
// The cursor is opaque (base64url JSON of the last row's sort key and id), so inserts between
// pages never shift or repeat rows the way OFFSET would.
import { z } from 'zod';
import { errors } from './errors.js';

export const pageQuery = {
  limit: z.coerce.number().int().min(1).max(500).default(50),
  cursor: z.string().max(500).optional(),
};

export interface Cursor {
  /** Sort key of the last row (a timestamp or name). */
  k: string | number | null;
  id: string;
}

export function encodeCursor(c: Cursor): string {
  return Buffer.from(JSON.stringify(c)).toString('base64url');
}

/**
 * The cursor comes back from the client, so it is checked like any input: a forged one (wrong
 * shape, a NUL, an endless string, a non-finite number) is a 400, never a database error.
 */
export function decodeCursor(cursor: string | undefined): Cursor | null {
  if (!cursor) return null;
  const invalid = () => errors.validation([{ field: 'cursor', message: 'Invalid cursor; use nextCursor from the previous page.' }]);
  let c: unknown;
  try {
    c = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw invalid();
  }
  if (typeof c !== 'object' || c === null || Array.isArray(c)) throw invalid();
  const { k, id } = c as Record<string, unknown>;
  if (!isCleanString(id, 400)) throw invalid(); // ids are uuids, email addresses or domains
  const kOk = k === null || (typeof k === 'number' && Number.isFinite(k)) || isCleanString(k, 10_000);
  if (!kOk) throw invalid();
  return { k: k as Cursor['k'], id: id as string };
}

function isCleanString(v: unknown, max: number): v is string {
  return typeof v === 'string' && v.length <= max && !v.includes('\u0000');
}

export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

/** Call with limit+1 rows fetched; trims the extra row and builds nextCursor from the last kept row. */
export function toPage<T>(rows: T[], limit: number, keyOf: (row: T) => Cursor): Page<T> {
  if (rows.length <= limit) return { items: rows, nextCursor: null };
  const items = rows.slice(0, limit);
  return { items, nextCursor: encodeCursor(keyOf(items[items.length - 1])) };
}

export function pageSchema<T extends z.ZodTypeAny>(item: T) {
  return z.object({ items: z.array(item), nextCursor: z.string().nullable() });
}
