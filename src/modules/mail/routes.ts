import { z } from 'zod';
import type { App } from '../../platform/http/app.js';
import { requireUser } from '../../platform/http/auth.js';
import { errors } from '../../platform/http/errors.js';
import { pageQuery, pageSchema } from '../../platform/http/paging.js';
import type { MailService } from './index.js';
import { registerSuggestionRoutes } from './suggestion-routes.js';

const id = z.string().uuid();
const address = z.object({ name: z.string(), address: z.string() });
const summary = z.object({
  id: z.string(),
  mailboxId: z.string(),
  threadId: z.string(),
  messageId: z.string().nullable(),
  direction: z.enum(['in', 'out']),
  subject: z.string(),
  from: address.nullable(),
  to: z.array(address),
  cc: z.array(address),
  date: z.string(),
  snippet: z.string(),
  flags: z.array(z.string()),
  folders: z.array(z.string()),
  hasAttachments: z.boolean(),
  parseError: z.string().nullable(),
  isDeleted: z.boolean(),
});
const detail = summary.extend({
  bcc: z.array(address),
  replyTo: z.array(address),
  inReplyTo: z.string().nullable(),
  references: z.array(z.string()),
  headers: z.array(z.object({ key: z.string(), value: z.string() })),
  text: z.string().nullable(),
  html: z.string().nullable(),
  blockedImages: z.number(),
  attachments: z.array(z.object({ id: z.string(), filename: z.string(), contentType: z.string(), size: z.number(), contentId: z.string().nullable(), inline: z.boolean() })),
  links: z.array(z.object({ recordType: z.string(), recordId: z.string() })),
});
const syncStatus = z.object({
  mailboxId: z.string(),
  state: z.enum(['idle', 'syncing', 'error', 'needs-reauth']),
  lastSuccessAt: z.string().nullable(),
  lastError: z.string().nullable(),
  lastErrorAt: z.string().nullable(),
  nextAttemptAt: z.string().nullable(),
  live: z.boolean(),
  folders: z.array(z.object({ path: z.string(), specialUse: z.string().nullable(), selected: z.boolean(), done: z.number(), total: z.number(), lastSyncedAt: z.string().nullable() })),
  totals: z.object({ done: z.number(), total: z.number(), emails: z.number() }),
});
const folderView = z.object({ path: z.string(), specialUse: z.string().nullable(), selectable: z.boolean(), selected: z.boolean() });

function contentDisposition(kind: 'attachment' | 'inline', filename: string): string {
  const ascii = filename.replace(/[^\x20-\x7e]/g, '_').replace(/["\\]/g, '_');
  return `${kind}; filename="${ascii}"; filename*=UTF-8''${encodeURIComponent(filename)}`;
}

export function registerMailRoutes(app: App, mail: MailService) {
  app.get(
    '/api/mailboxes/:id/sync-status',
    { schema: { tags: ['mail'], params: z.object({ id }), response: { 200: syncStatus } } },
    async (request) => {
      const user = requireUser(request);
      await mail.queries.readable(user.id, request.params.id);
      return mail.syncStatus(request.params.id);
    },
  );

  app.post(
    '/api/mailboxes/:id/sync',
    { schema: { tags: ['mail'], params: z.object({ id }), response: { 202: z.object({ queued: z.boolean(), jobId: z.string() }) } } },
    async (request, reply) => {
      const user = requireUser(request);
      await mail.queries.readable(user.id, request.params.id);
      const jobId = await mail.syncNow(request.params.id);
      return reply.status(202).send({ queued: true, jobId });
    },
  );

  app.get(
    '/api/mailboxes/:id/folders',
    { schema: { tags: ['mail'], params: z.object({ id }), querystring: z.object({ refresh: z.enum(['0', '1', 'true', 'false']).optional() }), response: { 200: z.object({ items: z.array(folderView) }) } } },
    async (request) => {
      const user = requireUser(request);
      await mail.queries.readable(user.id, request.params.id);
      const refresh = request.query.refresh === '1' || request.query.refresh === 'true';
      return { items: await mail.folders(request.params.id, { refresh }) };
    },
  );

  app.get(
    '/api/emails',
    {
      schema: {
        tags: ['mail'],
        querystring: z.object({
          mailboxId: id.optional(),
          contactId: id.optional(),
          accountId: id.optional(),
          folder: z.string().min(1).max(1000).optional(),
          q: z.string().max(200).optional(),
          threadId: id.optional(),
          includeDeleted: z.enum(['0', '1', 'true', 'false']).optional(),
          ...pageQuery,
        }),
        response: { 200: pageSchema(summary) },
      },
    },
    async (request) => {
      const user = requireUser(request);
      const q = request.query;
      return mail.queries.list(user.id, { ...q, q: q.q?.trim() || undefined, includeDeleted: q.includeDeleted === '1' || q.includeDeleted === 'true' });
    },
  );

  app.get(
    '/api/emails/:id',
    { schema: { tags: ['mail'], params: z.object({ id }), querystring: z.object({ images: z.enum(['0', '1', 'true', 'false']).optional() }), response: { 200: detail } } },
    async (request) => {
      const user = requireUser(request);
      return mail.queries.get(user.id, request.params.id, { allowRemoteImages: request.query.images === '1' || request.query.images === 'true' });
    },
  );

  app.patch(
    '/api/emails/:id',
    {
      schema: {
        tags: ['mail'],
        params: z.object({ id }),
        // Read/unread is the one thing a reader changes on a message; it is set on the server too.
        body: z.object({ seen: z.boolean() }),
        response: { 200: summary },
      },
    },
    async (request) => {
      const user = requireUser(request);
      return mail.queries.setSeen(user.id, request.params.id, request.body.seen);
    },
  );

  app.get('/api/emails/:id/raw', { schema: { tags: ['mail'], params: z.object({ id }) } }, async (request, reply) => {
    const user = requireUser(request);
    const r = await mail.queries.raw(user.id, request.params.id);
    reply.header('content-type', 'message/rfc822');
    reply.header('content-disposition', contentDisposition('attachment', `${request.params.id}.eml`));
    reply.header('x-content-type-options', 'nosniff');
    return reply.send(r.stream ?? r.data);
  });

  app.get(
    '/api/emails/:id/attachments/:attachmentId',
    { schema: { tags: ['mail'], params: z.object({ id, attachmentId: id }) } },
    async (request, reply) => {
      const user = requireUser(request);
      const a = await mail.queries.attachment(user.id, request.params.id, request.params.attachmentId);
      // Never render attacker-controlled types inline on our origin.
      const safeInline = /^image\/(png|jpe?g|gif|webp)$/i.test(a.contentType);
      reply.header('content-type', safeInline ? a.contentType : 'application/octet-stream');
      reply.header('content-disposition', contentDisposition(safeInline ? 'inline' : 'attachment', a.filename));
      reply.header('x-content-type-options', 'nosniff');
      reply.header('content-security-policy', "default-src 'none'");
      return reply.send(a.stream);
    },
  );

  mail.registerSendRoutes?.(app);
  registerSuggestionRoutes(app, mail.suggestions);
  void errors;
}
