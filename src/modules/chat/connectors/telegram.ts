// The Telegram channel for the chat module, over src/connectors/telegram. Clients are cached per
// token (they are stateless fetch wrappers) so a busy channel does not rebuild one per message.
import {
  createTelegramClient,
  describeTelegramError,
  diagnoseWebhook,
  isTelegramError,
  normalizeUpdate,
  verifyWebhookSecret,
  SECRET_HEADER,
  type TelegramClient,
  type TelegramUpdate,
} from '../../../connectors/telegram/index.js';
import type { ChannelRuntime, ChatConnector, ParsedInbound } from './types.js';

export function createTelegramChatConnector(opts: { apiRoot: string; fetchImpl?: typeof fetch }): ChatConnector & { client(token: string): TelegramClient } {
  const clients = new Map<string, TelegramClient>();
  function client(token: string): TelegramClient {
    let c = clients.get(token);
    if (!c) {
      c = createTelegramClient({ apiRoot: opts.apiRoot, token, fetchImpl: opts.fetchImpl });
      if (clients.size > 1000) clients.clear();
      clients.set(token, c);
    }
    return c;
  }
  const of = (rt: ChannelRuntime) => client(rt.credentials.token);
  const isoOf = (unix?: number) => (unix ? new Date(unix * 1000).toISOString() : null);

  return {
    client,

    async verify(credentials) {
      const me = await client(credentials.token).getMe();
      return { externalId: String(me.id), username: me.username ?? null, displayName: me.first_name };
    },

    async registerWebhook(rt, url, secret) {
      // Only messages: Switchboard has nothing to do with other update types.
      await of(rt).setWebhook({ url, secretToken: secret, allowedUpdates: ['message', 'edited_message'] });
    },

    async unregisterWebhook(rt) {
      await of(rt).deleteWebhook({ dropPendingUpdates: false });
    },

    async webhookHealth(rt, expectedUrl, lastDeliveryAt) {
      const info = await of(rt).getWebhookInfo();
      const d = diagnoseWebhook(info, expectedUrl, new Date(), lastDeliveryAt);
      return {
        state: d.state,
        url: info.url || null,
        pending: info.pending_update_count ?? null,
        lastErrorAt: isoOf(info.last_error_date),
        lastError: info.last_error_message ?? null,
        explanation: d.explanation,
      };
    },

    parseInbound(payload): ParsedInbound {
      const u = payload as TelegramUpdate;
      if (!u || typeof u !== 'object' || typeof u.update_id !== 'number') return { kind: 'ignored', updateId: '', reason: 'not a Telegram update' };
      const n = normalizeUpdate(u);
      if (n.kind === 'other') return { kind: 'ignored', updateId: String(n.updateId), reason: `update type ${n.updateType}` };
      if (n.chatType !== 'private') return { kind: 'ignored', updateId: String(n.updateId), reason: `${n.chatType} chats are not handled` };
      const name = [n.from.firstName, n.from.lastName].filter(Boolean).join(' ');
      return {
        kind: 'message',
        message: {
          updateId: String(n.updateId),
          externalChatId: String(n.chatId),
          externalMessageId: String(n.messageId),
          customer: { externalUserId: String(n.from.id), name, username: n.from.username ?? null },
          text: n.text ?? n.caption ?? null,
          files: n.files.map((f) => ({ kind: f.kind, ref: f.fileId, fileName: f.fileName ?? null, mimeType: f.mimeType ?? null, size: f.size ?? null })),
          unsupported: n.unsupported ?? [],
          edited: n.kind === 'edited',
        },
      };
    },

    verifyWebhook(headers, secret) {
      return verifyWebhookSecret(headers[SECRET_HEADER], secret);
    },

    async downloadFile(rt, ref, maxBytes) {
      const f = await of(rt).getFile(ref);
      if (!f.file_path) throw new Error('Telegram gave no download path for the file (it may be larger than 20 MB).');
      return of(rt).downloadFile(f.file_path, { maxBytes });
    },

    async sendText(rt, externalChatId, text) {
      const m = await of(rt).sendMessage(externalChatId, text);
      return { externalMessageId: String(m.message_id) };
    },

    async sendFile(rt, externalChatId, file, caption) {
      const c = of(rt);
      const m =
        file.kind === 'photo'
          ? await c.sendPhoto(externalChatId, { bytes: file.bytes, fileName: file.fileName, mimeType: file.mimeType, caption })
          : await c.sendDocument(externalChatId, { bytes: file.bytes, fileName: file.fileName, mimeType: file.mimeType, caption });
      return { externalMessageId: String(m.message_id) };
    },

    describeError: describeTelegramError,
    isAuthError: (err) => isTelegramError(err) && err.kind === 'auth',
    retryAfter: (err) => (isTelegramError(err) && err.kind === 'rate-limited' ? (err.retryAfter ?? 1) : undefined),
  };
}
