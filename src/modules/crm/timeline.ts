// The timeline of a record: entries from several sources (the CRM's own record events, and
// whatever other modules register — emails from mail, conversations from chat) merged newest first.
//
// Paging across sources: the cursor holds, per source, the last entry of that source already
// shown. Each source is asked for entries strictly older than its own position, so a page never
// skips or repeats an entry even when timestamps tie across sources.
import { fromJson } from '../../platform/db/index.js';
import { errors } from '../../platform/http/errors.js';
import type { Logger } from '../../platform/logger.js';
import type { AccessUser, RecordType } from './access.js';
import { requireAccess, type CrmContext } from './context.js';

export interface TimelineEntry {
  /** Unique within its source. */
  id: string;
  /** ISO timestamp (UTC, as nowIso()). */
  at: string;
  kind: string;
  title: string;
  actorId?: string | null;
  data?: Record<string, unknown>;
}

export interface TimelinePosition {
  at: string;
  id: string;
}

export interface TimelineSource {
  /** Unique, short (it is part of every entry id and of the cursor), e.g. "mail", "chat". */
  name: string;
  /**
   * Entries about the record the user may see, ordered by (at, id) descending, strictly before
   * `before` in that order when given, at most `limit` of them. The user already passed the
   * record's own access check.
   */
  list(recordType: RecordType, recordId: string, user: AccessUser, opts: { limit: number; before: TimelinePosition | null }): Promise<TimelineEntry[]>;
}

export interface TimelineItem {
  id: string;
  source: string;
  kind: string;
  at: string;
  title: string;
  actorId: string | null;
  data: Record<string, unknown>;
}

type TimelineCursor = Record<string, TimelinePosition>;

function encode(c: TimelineCursor): string {
  return Buffer.from(JSON.stringify(c)).toString('base64url');
}

function decode(cursor: string | undefined): TimelineCursor {
  if (!cursor) return {};
  try {
    const c = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as unknown;
    if (typeof c !== 'object' || c === null || Array.isArray(c)) throw new Error('shape');
    for (const v of Object.values(c)) {
      if (typeof v !== 'object' || v === null || typeof (v as any).at !== 'string' || typeof (v as any).id !== 'string') throw new Error('shape');
    }
    return c as TimelineCursor;
  } catch {
    throw errors.validation([{ field: 'cursor', message: 'Invalid cursor; use nextCursor from the previous page.' }]);
  }
}

function newerFirst(a: { at: string; source: string; id: string }, b: { at: string; source: string; id: string }): number {
  if (a.at !== b.at) return a.at < b.at ? 1 : -1;
  if (a.source !== b.source) return a.source < b.source ? -1 : 1;
  return a.id < b.id ? 1 : a.id > b.id ? -1 : 0;
}

function eventTitle(kind: string, data: Record<string, unknown>): string {
  switch (kind) {
    case 'created':
      return 'Created';
    case 'updated': {
      const fields = Array.isArray(data.changes) ? (data.changes as { field: string }[]).map((c) => c.field) : [];
      return fields.length ? `Changed ${fields.join(', ')}` : 'Changed';
    }
    case 'tag-added':
      return `Tag “${String(data.name ?? '')}” added`;
    case 'tag-removed':
      return `Tag “${String(data.name ?? '')}” removed`;
    case 'status-changed':
      return `Status changed from ${String(data.from)} to ${String(data.to)}`;
    case 'shares-changed':
      return 'Sharing changed';
    default:
      return kind;
  }
}

export function createTimelineService(ctx: CrmContext, logger?: Logger) {
  const { db } = ctx;
  const sources: TimelineSource[] = [];

  const crmSource: TimelineSource = {
    name: 'crm',
    async list(recordType, recordId, _user, { limit, before }) {
      let q = db
        .selectFrom('record_events')
        .selectAll()
        .where('record_type', '=', recordType)
        .where('record_id', '=', recordId)
        .orderBy('created_at', 'desc')
        .orderBy('id', 'desc')
        .limit(limit);
      if (before) q = q.where((eb) => eb(eb.refTuple('created_at', 'id'), '<', eb.tuple(before.at, before.id)));
      const rows = await q.execute();
      return rows.map((r) => {
        const data = fromJson<Record<string, unknown>>(r.data, {});
        return { id: r.id, at: r.created_at, kind: r.kind, title: eventTitle(r.kind, data), actorId: r.actor_id, data };
      });
    },
  };
  sources.push(crmSource);

  return {
    registerTimelineSource(source: TimelineSource) {
      if (sources.some((s) => s.name === source.name)) throw new Error(`Timeline source "${source.name}" is already registered`);
      sources.push(source);
    },

    async list(user: AccessUser, type: RecordType, id: string, opts: { limit: number; cursor?: string }): Promise<{ items: TimelineItem[]; nextCursor: string | null }> {
      await requireAccess(ctx, user, type, id);
      const cursor = decode(opts.cursor);
      const fetched = await Promise.all(
        sources.map(async (s) => {
          try {
            const entries = await s.list(type, id, user, { limit: opts.limit + 1, before: cursor[s.name] ?? null });
            return entries.map((e) => ({ ...e, source: s.name }));
          } catch (err) {
            // One broken source (say, mail storage) must not hide the rest of the history.
            logger?.warn({ err, source: s.name, recordType: type }, 'timeline source failed');
            return [];
          }
        }),
      );
      const merged = fetched.flat().sort(newerFirst);
      const page = merged.slice(0, opts.limit);
      const items: TimelineItem[] = page.map((e) => ({
        id: `${e.source}:${e.id}`,
        source: e.source,
        kind: e.kind,
        at: e.at,
        title: e.title,
        actorId: e.actorId ?? null,
        data: e.data ?? {},
      }));
      if (merged.length <= opts.limit) return { items, nextCursor: null };
      const next: TimelineCursor = { ...cursor };
      for (const e of page) next[e.source] = { at: e.at, id: e.id };
      return { items, nextCursor: encode(next) };
    },
  };
}

export type TimelineService = ReturnType<typeof createTimelineService>;
