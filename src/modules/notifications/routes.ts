import { z } from 'zod';
import type { App } from '../../platform/http/app.js';
import { requireUser } from '../../platform/http/auth.js';
import { decodeCursor, pageQuery, pageSchema, toPage } from '../../platform/http/paging.js';
import type { NotificationsService } from './service.js';

const linkView = z.object({ rel: z.string(), label: z.string(), href: z.string() });
export const notificationView = z.object({
  id: z.string(),
  kind: z.string(),
  title: z.string(),
  body: z.string().nullable(),
  links: z.array(linkView),
  read: z.boolean(),
  readAt: z.string().nullable(),
  createdAt: z.string(),
});

export function registerNotificationsRoutes(app: App, service: NotificationsService) {
  app.get(
    '/api/notifications',
    {
      schema: {
        tags: ['notifications'],
        querystring: z.object({ unread: z.enum(['true', 'false']).optional(), ...pageQuery }),
        response: { 200: pageSchema(notificationView) },
      },
    },
    async (request) => {
      const user = requireUser(request);
      const { limit, cursor, unread } = request.query;
      const after = decodeCursor(cursor);
      const rows = await service.list(user.id, { unreadOnly: unread === 'true', limit: limit + 1, after: after ? { k: String(after.k), id: after.id } : null });
      return toPage(rows, limit, (n) => ({ k: n.createdAt, id: n.id }));
    },
  );

  app.post(
    '/api/notifications/:id/read',
    { schema: { tags: ['notifications'], params: z.object({ id: z.string().uuid() }), response: { 200: notificationView } } },
    async (request) => service.markRead(requireUser(request).id, request.params.id),
  );

  app.post(
    '/api/notifications/read-all',
    { schema: { tags: ['notifications'], response: { 200: z.object({ updated: z.number() }) } } },
    async (request) => ({ updated: await service.markAllRead(requireUser(request).id) }),
  );
}
