// Notifications for one user: stored first (so a user who is offline sees them later), then pushed
// over the realtime socket as a `notification` event.
import type { DB } from '../../schema.js';
import type { Realtime } from '../../platform/realtime/types.js';
import type { Logger } from '../../platform/logger.js';
import { fromJson, newId, nowIso, toJson } from '../../platform/db/index.js';
import { errors } from '../../platform/http/errors.js';
import type { NotificationsTable } from './tables.js';

export interface NotificationLink {
  /** What the link opens, e.g. 'mail', 'mailbox-settings'. */
  rel: string;
  label: string;
  /** A console path (relative to the site) or an absolute URL. */
  href: string;
}

export interface NotificationInput {
  kind: string;
  title: string;
  body?: string | null;
  links?: NotificationLink[];
}

export interface NotificationView {
  id: string;
  kind: string;
  title: string;
  body: string | null;
  links: NotificationLink[];
  read: boolean;
  readAt: string | null;
  createdAt: string;
}

export interface NotificationsService {
  notify(userId: string, input: NotificationInput): Promise<NotificationView>;
  list(userId: string, opts: { unreadOnly?: boolean; limit: number; after?: { k: string; id: string } | null }): Promise<NotificationView[]>;
  markRead(userId: string, id: string): Promise<NotificationView>;
  markAllRead(userId: string): Promise<number>;
}

function view(r: NotificationsTable): NotificationView {
  return {
    id: r.id,
    kind: r.kind,
    title: r.title,
    body: r.body,
    links: fromJson<NotificationLink[]>(r.links, []),
    read: r.read_at !== null,
    readAt: r.read_at,
    createdAt: r.created_at,
  };
}

export function createNotificationsService(deps: { db: DB; realtime: Pick<Realtime, 'notifyUsers'>; logger?: Logger }): NotificationsService {
  const { db } = deps;
  return {
    async notify(userId, input) {
      const row: NotificationsTable = {
        id: newId(),
        user_id: userId,
        kind: input.kind,
        title: input.title.slice(0, 500),
        body: input.body ?? null,
        links: toJson(input.links ?? []),
        read_at: null,
        created_at: nowIso(),
      };
      await db.insertInto('notifications').values(row).execute();
      const v = view(row);
      try {
        await deps.realtime.notifyUsers([userId], { type: 'notification', data: v });
      } catch (err) {
        // The row is stored; a push failure only means the user sees it on the next list.
        deps.logger?.warn({ err, kind: input.kind }, 'notification push failed');
      }
      return v;
    },
    async list(userId, opts) {
      let q = db.selectFrom('notifications').selectAll().where('user_id', '=', userId);
      if (opts.unreadOnly) q = q.where('read_at', 'is', null);
      if (opts.after) {
        const { k, id } = opts.after;
        q = q.where((eb) => eb(eb.refTuple('created_at', 'id'), '<', eb.tuple(k, id)));
      }
      const rows = await q.orderBy('created_at', 'desc').orderBy('id', 'desc').limit(opts.limit).execute();
      return rows.map(view);
    },
    async markRead(userId, id) {
      const row = await db.selectFrom('notifications').selectAll().where('id', '=', id).where('user_id', '=', userId).executeTakeFirst();
      if (!row) throw errors.notFound('Notification', id);
      if (row.read_at === null) {
        row.read_at = nowIso();
        await db.updateTable('notifications').set({ read_at: row.read_at }).where('id', '=', id).execute();
      }
      return view(row);
    },
    async markAllRead(userId) {
      const r = await db.updateTable('notifications').set({ read_at: nowIso() }).where('user_id', '=', userId).where('read_at', 'is', null).executeTakeFirst();
      return Number(r.numUpdatedRows ?? 0);
    },
  };
}
