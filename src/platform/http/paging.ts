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

export function decodeCursor(cursor: string | undefined): Cursor | null {
  if (!cursor) return null;
  try {
    const c = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as Cursor;
    if (typeof c !== 'object' || c === null || typeof c.id !== 'string') throw new Error('shape');
    return c;
  } catch {
    throw errors.validation([{ field: 'cursor', message: 'Invalid cursor; use nextCursor from the previous page.' }]);
  }
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
