// HTTP routes of the chat module: queues and channels (CanManageChats), the operator's workspace
// (H10), chat settings for clients (H9) and the public Telegram webhook (outside /api).
import { z } from 'zod';
import type { FastifyRequest } from 'fastify';
import type { App } from '../../platform/http/app.js';
import { hasOperation, requireOperation, requireUser } from '../../platform/http/auth.js';
import { errors } from '../../platform/http/errors.js';
import { findNul } from '../../platform/http/nul.js';
import { decodeCursor, pageQuery, pageSchema, toPage } from '../../platform/http/paging.js';
import type { ChatModuleService } from './service.js';
import { TELEGRAM_WARNING } from './channels.js';

const id = z.string().uuid();
const idParams = z.object({ id });
const name = z.string().trim().min(1).max(200);
const routingRule = z.enum(['to-all', 'least-busy']);
const timeout = z.number().int().min(1).max(525_600).nullable();

const queueView = z.object({
  id: z.string(),
  name: z.string(),
  routingRule,
  completionTimeoutMinutes: z.number().nullable(),
  userIds: z.array(z.string()),
  roleIds: z.array(z.string()),
  createdAt: z.string(),
  updatedAt: z.string(),
});
const queueCreate = z.object({
  name,
  routingRule,
  completionTimeoutMinutes: timeout.optional(),
  userIds: z.array(id).max(1000).optional(),
  roleIds: z.array(id).max(1000).optional(),
});

const delivery = z.enum(['auto', 'webhook', 'polling']);
const botToken = z.string().trim().min(1).max(200).regex(/^\d+:[A-Za-z0-9_-]+$/, 'a bot token looks like 123456789:AA… (from @BotFather)');
const channelView = z.object({
  id: z.string(),
  kind: z.enum(['telegram']),
  name: z.string(),
  isActive: z.boolean(),
  queueId: z.string(),
  delivery,
  mode: z.enum(['webhook', 'polling']).nullable(),
  botId: z.string().nullable(),
  botUsername: z.string().nullable(),
  hasToken: z.boolean(),
  lastError: z.string().nullable(),
  lastCheckedAt: z.string().nullable(),
  createdAt: z.string(),
  updatedAt: z.string(),
});
const diagnosticsView = z.object({
  mode: z.enum(['webhook', 'polling']).nullable(),
  /** The channel's state in one word (see ChannelHealthState) and in plain words. */
  state: z.enum(['ok', 'webhook-missing', 'webhook-other-url', 'webhook-failing', 'polling', 'polling-blocked', 'token-revoked', 'inactive', 'not-configured', 'unreachable']),
  explanation: z.string(),
  webhookUrl: z.string().nullable(),
  expectedWebhookUrl: z.string().nullable(),
  pendingUpdateCount: z.number().nullable(),
  lastErrorAt: z.string().nullable(),
  lastError: z.string().nullable(),
  pollingHolder: z.string().nullable(),
});

const operatorView = z.object({
  userId: z.string(),
  status: z.enum(['active', 'inactive']),
  statusReason: z.string(),
  chatsInProgress: z.number(),
  pendingOffers: z.number(),
  limit: z.number(),
  lastAssignedAt: z.string().nullable(),
});

const chatState = z.enum(['queued', 'offered', 'in-progress', 'completed']);
const chatView = z.object({
  id: z.string(),
  channelId: z.string(),
  queueId: z.string(),
  contactId: z.string().nullable(),
  customerName: z.string(),
  customerUsername: z.string().nullable(),
  state: chatState,
  operatorId: z.string().nullable(),
  offeredToMe: z.boolean(),
  createdAt: z.string(),
  offeredAt: z.string().nullable(),
  acceptedAt: z.string().nullable(),
  completedAt: z.string().nullable(),
  completedBy: z.string().nullable(),
  lastMessageAt: z.string(),
  lastIncomingAt: z.string().nullable(),
  lastOutgoingAt: z.string().nullable(),
  channelName: z.string().optional(),
  channelKind: z.string().optional(),
});
const fileView = z.object({ id: z.string(), name: z.string(), mimeType: z.string(), size: z.number(), kind: z.enum(['photo', 'document']) });
const messageView = z.object({
  id: z.string(),
  chatId: z.string(),
  direction: z.enum(['in', 'out']),
  authorUserId: z.string().nullable(),
  text: z.string().nullable(),
  files: z.array(fileView),
  createdAt: z.string(),
});
const chatDetail = chatView.extend({
  messages: z.array(messageView),
  contact: z
    .object({
      id: z.string(),
      name: z.string(),
      /** The customer's identities in the channels: kind ('telegram'…), the id there, the @username (null when none). */
      channels: z.array(z.object({ channel: z.string(), externalId: z.string(), username: z.string().nullable() })),
    })
    .nullable(),
  channel: z.object({ id: z.string(), name: z.string(), kind: z.string() }),
});
const messageBody = z.object({ text: z.string().min(1).max(4096) });
const MAX_UPLOAD_FILES = 10;

export function registerChatRoutes(app: App, svc: ChatModuleService) {
  const manage = requireOperation('CanManageChats');
  const queuesTag = ['chat-queues'];
  const channelsTag = ['chat-channels'];
  const chatsTag = ['chats'];

  // --- queues (H1) ---
  app.get('/api/chat-queues', { schema: { tags: queuesTag, querystring: z.object(pageQuery), response: { 200: pageSchema(queueView) } } }, async (request) => {
    const { limit, cursor } = request.query;
    const after = decodeCursor(cursor);
    const rows = await svc.queues.list({ limit, after: after ? { k: String(after.k), id: after.id } : null });
    return toPage(rows, limit, (q) => ({ k: q.name, id: q.id }));
  });
  app.get('/api/chat-queues/:id', { schema: { tags: queuesTag, params: idParams, response: { 200: queueView } } }, async (request) => svc.queues.get(request.params.id));
  app.post('/api/chat-queues', { preHandler: manage, schema: { tags: queuesTag, body: queueCreate, response: { 201: queueView } } }, async (request, reply) => {
    return reply.status(201).send(await svc.queues.create(request.body));
  });
  app.patch(
    '/api/chat-queues/:id',
    { preHandler: manage, schema: { tags: queuesTag, params: idParams, body: queueCreate.partial(), response: { 200: queueView } } },
    async (request) => svc.queues.update(request.params.id, request.body),
  );
  app.delete('/api/chat-queues/:id', { preHandler: manage, schema: { tags: queuesTag, params: idParams } }, async (request, reply) => {
    await svc.queues.remove(request.params.id);
    return reply.status(204).send();
  });

  // --- channels (H6) ---
  app.get('/api/chat-channels', { preHandler: manage, schema: { tags: channelsTag, querystring: z.object(pageQuery), response: { 200: pageSchema(channelView) } } }, async (request) => {
    const { limit, cursor } = request.query;
    const after = decodeCursor(cursor);
    const rows = await svc.channels.list({ limit, after: after ? { k: String(after.k), id: after.id } : null });
    return toPage(rows, limit, (c) => ({ k: c.name, id: c.id }));
  });
  app.get(
    '/api/chat-channels/:id',
    { preHandler: manage, schema: { tags: channelsTag, params: idParams, response: { 200: channelView.extend({ diagnostics: diagnosticsView }) } } },
    async (request) => {
      const c = await svc.channels.load(request.params.id);
      return { ...(await svc.channels.view(c)), diagnostics: await svc.channels.diagnostics(c) };
    },
  );
  app.post(
    '/api/chat-channels',
    {
      preHandler: manage,
      schema: {
        tags: channelsTag,
        body: z.object({ kind: z.literal('telegram'), name: name.optional(), queueId: id, token: botToken, isActive: z.boolean().optional(), delivery: delivery.optional() }),
        response: { 201: channelView.extend({ warning: z.string() }) },
      },
    },
    async (request, reply) => reply.status(201).send({ ...(await svc.channels.create(request.body)), warning: TELEGRAM_WARNING }),
  );
  app.patch(
    '/api/chat-channels/:id',
    {
      preHandler: manage,
      schema: {
        tags: channelsTag,
        params: idParams,
        body: z.object({ name: name.optional(), queueId: id.optional(), token: botToken.optional(), isActive: z.boolean().optional(), delivery: delivery.optional() }),
        response: { 200: channelView },
      },
    },
    async (request) => svc.channels.update(request.params.id, request.body),
  );
  app.delete('/api/chat-channels/:id', { preHandler: manage, schema: { tags: channelsTag, params: idParams } }, async (request, reply) => {
    await svc.channels.remove(request.params.id);
    return reply.status(204).send();
  });

  // --- operators: the chat manager's overview and picker (H1, H3) ---
  app.get(
    '/api/operators',
    {
      preHandler: manage,
      schema: {
        tags: ['operators'],
        querystring: z.object({ q: z.string().trim().max(200).optional(), limit: z.coerce.number().int().min(1).max(500).default(200) }),
        response: { 200: z.object({ items: z.array(operatorView.extend({ name: z.string(), email: z.string() })) }) },
      },
    },
    async (request) => ({ items: await svc.listOperators({ q: request.query.q || undefined, limit: request.query.limit }) }),
  );

  // --- operator (H3, H10) ---
  app.get('/api/operators/me', { schema: { tags: ['operators'], response: { 200: operatorView } } }, async (request) => svc.routing.operatorView(requireUser(request).id));
  app.put(
    '/api/operators/me/status',
    { schema: { tags: ['operators'], body: z.object({ status: z.enum(['active', 'inactive']) }), response: { 200: operatorView } } },
    async (request) => svc.routing.setStatus(requireUser(request).id, request.body.status),
  );

  app.get(
    '/api/chat-settings',
    { schema: { tags: chatsTag, response: { 200: z.object({ notificationSoundUrl: z.string(), simultaneousChats: z.number(), acceptTimeoutMinutes: z.number() }) } } },
    async (request) => svc.clientSettings(requireUser(request).id),
  );

  // --- chats (H10) ---
  app.get(
    '/api/chats',
    {
      schema: {
        tags: chatsTag,
        querystring: z.object({ ...pageQuery, state: chatState.optional(), mine: z.enum(['true', 'false']).optional(), queueId: id.optional(), contactId: id.optional() }),
        response: { 200: pageSchema(chatView) },
      },
    },
    async (request) => {
      const user = requireUser(request);
      const q = request.query;
      const after = decodeCursor(q.cursor);
      const all = q.mine !== 'true' && hasOperation(request, 'CanManageChats');
      const rows = await svc.listChats(user.id, { state: q.state, queueId: q.queueId, contactId: q.contactId, all, limit: q.limit, after: after ? { k: String(after.k), id: after.id } : null });
      return toPage(rows, q.limit, (c) => ({ k: c.createdAt, id: c.id }));
    },
  );

  async function visibleChat(request: FastifyRequest, chatId: string) {
    const user = requireUser(request);
    const chat = await svc.chatView(chatId, user.id);
    if (!hasOperation(request, 'CanManageChats') && !(await svc.canSee(chatId, user.id))) throw errors.notFound('Chat', chatId);
    return chat;
  }

  app.get('/api/chats/:id', { schema: { tags: chatsTag, params: idParams, response: { 200: chatDetail } } }, async (request) => {
    await visibleChat(request, request.params.id);
    return svc.chatDetail(request.params.id, requireUser(request).id);
  });
  app.post('/api/chats/:id/accept', { schema: { tags: chatsTag, params: idParams, response: { 200: chatView } } }, async (request) => {
    const user = requireUser(request);
    await visibleChat(request, request.params.id);
    await svc.routing.accept(request.params.id, user.id);
    return svc.chatView(request.params.id, user.id);
  });
  app.post('/api/chats/:id/complete', { schema: { tags: chatsTag, params: idParams, response: { 200: chatView } } }, async (request) => {
    const user = requireUser(request);
    await visibleChat(request, request.params.id);
    const c = await svc.chatView(request.params.id, user.id);
    // The operator completes their chat; a chat manager may close any chat (e.g. one left behind).
    if (c.operatorId !== user.id && hasOperation(request, 'CanManageChats')) await svc.routing.complete(request.params.id, { kind: 'system', reason: 'manager' });
    else await svc.routing.complete(request.params.id, { kind: 'operator', userId: user.id });
    return svc.chatView(request.params.id, user.id);
  });
  app.post(
    '/api/chats/:id/messages',
    {
      schema: {
        tags: chatsTag,
        params: idParams,
        // JSON { text } or multipart/form-data with a "text" field and up to 10 files; multipart is checked by hand below.
        body: z.unknown(),
        response: { 201: messageView },
      },
    },
    async (request, reply) => {
      const user = requireUser(request);
      await visibleChat(request, request.params.id);
      let text: string | null = null;
      const files: { bytes: Buffer; fileName: string; mimeType: string }[] = [];
      if (request.isMultipart()) {
        for await (const part of request.parts()) {
          if (part.type === 'file') {
            if (files.length >= MAX_UPLOAD_FILES) throw errors.validation([{ field: 'files', message: `At most ${MAX_UPLOAD_FILES} files per message.` }]);
            const bytes = await part.toBuffer();
            files.push({ bytes, fileName: (part.filename || 'file').slice(0, 200), mimeType: part.mimetype || 'application/octet-stream' });
          } else if (part.fieldname === 'text') {
            text = String(part.value);
          }
        }
        if (text !== null && text.length > 4096) throw errors.validation([{ field: 'text', message: 'At most 4096 characters.' }]);
        // The NUL check the JSON body gets (platform/http/app.ts), for the parts: PostgreSQL text cannot hold NUL.
        const nul = findNul(text, 'text') ?? findNul(files.map((f) => ({ filename: f.fileName })), 'files');
        if (nul) throw errors.validation([{ field: nul, message: 'must not contain the NUL character (\\u0000)' }]);
        if (!text?.trim() && files.length === 0) throw errors.validation([{ field: 'text', message: 'Write a message or attach a file.' }]);
      } else {
        const parsed = messageBody.safeParse(request.body);
        if (!parsed.success) throw errors.validation(parsed.error.issues.map((i) => ({ field: i.path.join('.') || 'body', message: i.message })));
        text = parsed.data.text;
      }
      const msg = await svc.conversations.send(request.params.id, user.id, { text, files });
      return reply.status(201).send(msg);
    },
  );
  app.get('/api/chats/:id/files/:fileId', { schema: { tags: chatsTag, params: z.object({ id, fileId: id }) } }, async (request, reply) => {
    await visibleChat(request, request.params.id);
    const f = await svc.file(request.params.id, request.params.fileId);
    return reply
      .header('content-type', f.mimeType)
      .header('content-length', String(f.size))
      .header('content-disposition', `${f.mimeType.startsWith('image/') ? 'inline' : 'attachment'}; filename*=UTF-8''${encodeURIComponent(f.name)}`)
      .header('x-content-type-options', 'nosniff')
      .send(f.stream);
  });

  // --- public webhook (no /api prefix, so no session/token auth: the secret header authenticates) ---
  app.post(
    '/webhooks/telegram/:channelId',
    { config: { public: true, skipCsrf: true, acceptsNul: true }, schema: { tags: ['webhooks'], params: z.object({ channelId: z.string().max(100) }), body: z.unknown() } },
    async (request, reply) => {
      const channelId = request.params.channelId;
      if (!id.safeParse(channelId).success) return reply.status(404).send({ ok: false });
      const status = await svc.channels.acceptWebhook('telegram', channelId, request.headers, request.body);
      if (status === 401) return reply.status(401).send({ error: { code: 'UNAUTHORIZED', message: 'Missing or wrong X-Telegram-Bot-Api-Secret-Token.', details: {} } });
      if (status === 404) return reply.status(404).send({ error: { code: 'NOT_FOUND', message: 'No such channel.', details: {} } });
      if (status === 400) return reply.status(400).send({ error: { code: 'BAD_REQUEST', message: 'Not a Telegram update.', details: {} } });
      return reply.status(200).send({ ok: true });
    },
  );
}
