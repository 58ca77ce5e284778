/**
 * Telegram Bot API emulator — a local, stateful stand-in for api.telegram.org used by tests and by
 * `switchboard sandbox`. It does not import product code.
 *
 * ```ts
 * const tg = await startTelegramEmulator({ port: 0, host: '127.0.0.1', strictWebhookUrls: false });
 * tg.url                                  // API root, e.g. "http://127.0.0.1:8081" → client uses `${url}/bot<TOKEN>/<method>`
 * const { token, id } = tg.createBot({ username: 'acme_bot', firstName: 'Acme', token?: '123:fixed…' });
 * const update = await tg.customerSends(token, {
 *   from: { id: 1111111, first_name: 'Ann', last_name?: 'Lee', username?: 'ann', language_code?: 'en' },
 *   chatId?: 1111111,                     // defaults to from.id (private chat)
 *   text?: 'hello',                       // exactly one of text / photo / document
 *   photo?: { bytes, caption? },          // → message.photo = PhotoSize[] smallest→largest (original bytes in every size)
 *   document?: { bytes, fileName, mimeType, caption? },
 * });                                     // → the Update (update_id increases per bot)
 * await tg.customerEdits(token, { chatId, messageId, text })   // → edited_message update
 * tg.enqueueRaw(token, { callback_query: {...} })               // → any other update type, queued like the rest
 * tg.sentMessages(token, chatId?)         // Message[] the bot sent (sendMessage/sendPhoto/sendDocument), oldest first
 * await tg.waitForSent(token, (m) => m.text === 'hi', 5000)     // already-sent messages count too; rejects on timeout
 * tg.fileBytes(fileId)                    // Buffer of any stored file (e.g. a photo the bot sent), or undefined
 * tg.webhookInfo(token)                   // same object as getWebhookInfo
 * tg.pendingUpdates(token)                // Update[] not yet confirmed/delivered
 * tg.inject429(token, { method?: 'sendMessage', chatId?: 1111111, retryAfter: 3, times: 1 })
 *                                         // next matching calls → 429 + parameters.retry_after + Retry-After header
 * tg.blockByUser(token, chatId, { notify?: true })  // sends to that chat → 403 "Forbidden: bot was blocked by the user";
 *                                         // notify queues the my_chat_member (status "kicked") update Telegram sends
 * tg.unblockByUser(token, chatId)         // (a customer message also unblocks)
 * const newToken = tg.revokeToken(token)  // old token → 401 on every method; returns the replacement token
 * await tg.pushRaw(token, update, { secret: 'wrong' | null })  // POST straight to the webhook; null = no header,
 *                                         // omitted = the right secret → { ok, status?, body?, error? }
 * tg.calls(token)                        // Bot API calls made with this token: [{ method: 'getupdates', status: 401, at }]
 * const hold = tg.holdMethod(token, 'deleteWebhook')  // its next calls wait…; hold.waiting() → how many; hold.release()
 * tg.routeOrigin('https://crm.example.com', 'http://127.0.0.1:3000')  // "DNS": webhooks under the public origin are
 *                                         // delivered to the actual one; a closed port = unreachable; null unmaps
 * await tg.close()
 * ```
 *
 * Wire behaviour (see the protocol note): `/bot<TOKEN>/<method>` with case-insensitive methods,
 * GET/POST, query/JSON/form/multipart params; unknown token → 401 `Unauthorized`; unknown method →
 * 404. getMe, getUpdates (offset confirmation, negative offset, limit 1–100, long-poll `timeout` with
 * early return on a new update, 409 while a webhook is set, 409 "terminated by other getUpdates
 * request" to the older of two polls), setWebhook (url "" removes; secret_token 1–256 [A-Za-z0-9_-];
 * max_connections 1–100; drop_pending_updates; allowed_updates), deleteWebhook, getWebhookInfo
 * (url, pending_update_count, last_error_date, last_error_message). Webhook delivery: real HTTP POST
 * of one Update with `X-Telegram-Bot-Api-Secret-Token`, strictly in order per bot, retried after
 * 0.2 s, 0.5 s, 1 s, 2 s (configurable `webhookRetryDelaysMs`) and then kept pending until the next
 * update or setWebhook; a JSON method call in a 2xx answer is executed. `customerSends` resolves in
 * webhook mode once that update was delivered or its first attempt failed (at most 10 s).
 * sendMessage (text 1–4096 else 400), sendPhoto / sendDocument (multipart upload, `attach://`,
 * file_id reuse or HTTP URL; caption ≤1024), getFile (>20 MB → 400 "file is too big") and
 * `GET /file/bot<TOKEN>/<file_path>`. Sending to a chat that never wrote to the bot → 400
 * "chat not found". `strictWebhookUrls: true` enforces HTTPS on ports 443/80/88/8443.
 * `floodControl: { perChatPerSecond: 1, perBotPerSecond: 30 }` turns on Telegram-like 429s for send*.
 *
 * For people: `GET /` is a customer page (pick a bot, write as a Telegram user, see the replies);
 * `tsx src/emulators/cli.ts telegram --port 8081 [--bot-token T]` starts one with a ready-made bot
 * (`switchboard sandbox` calls `startSandbox` from src/emulators/index.ts).
 *
 * Control API over HTTP (for the page, and for tests driving an emulator in another process):
 *   GET  /_emulator/bots                          → [{ id, username, firstName, token, webhook: WebhookInfo, chats }]
 *   POST /_emulator/bots {username, firstName?}   → 201 { token, id }
 *   POST /_emulator/bots/:botId/messages          JSON {fromId, firstName, lastName?, username?, text}
 *                                                  or multipart with `file` (+ `text` as caption; images → photo,
 *                                                  `asDocument=true` to force a document) → 201 Update
 *   GET  /_emulator/bots/:botId/sent?chatId=      → Message[] the bot sent
 *   GET  /_emulator/bots/:botId/chats/:chatId/transcript → [{ direction: 'in'|'out', message }]
 *   GET  /_emulator/files/:fileId                 → the file's bytes
 */
import type { Server } from 'node:http';
import { TelegramEmulatorCore, type CustomerMessageInput } from './core.js';
import { listen } from './server.js';
import type { DeliveryResult } from './webhook.js';
import type { TgMessage, TgUpdate, TgWebhookInfo } from './types.js';

export type { CustomerMessageInput } from './core.js';
export type { DeliveryResult } from './webhook.js';
export * from './types.js';

export interface TelegramEmulatorOptions {
  /** 0 (default) picks a free port. */
  port?: number;
  host?: string;
  /** Enforce real Telegram's webhook URL rules (HTTPS, ports 443/80/88/8443). Default false. */
  strictWebhookUrls?: boolean;
  /** Delays between webhook delivery retries; default [200, 500, 1000, 2000]. */
  webhookRetryDelaysMs?: number[];
  /** Telegram-like 429s on send* beyond these rates (per one-second window). Default: off. */
  floodControl?: { perChatPerSecond?: number; perBotPerSecond?: number };
}

export interface TelegramEmulator {
  readonly url: string;
  /** `token` (optional) fixes the token, e.g. for a sandbox that must survive restarts. */
  createBot(input: { username: string; firstName?: string; token?: string }): { token: string; id: number };
  customerSends(token: string, input: CustomerMessageInput): Promise<TgUpdate>;
  customerEdits(token: string, input: { chatId: number; messageId: number; text: string }): Promise<TgUpdate>;
  enqueueRaw(token: string, payload: Record<string, unknown>): Promise<TgUpdate>;
  sentMessages(token: string, chatId?: number): TgMessage[];
  waitForSent(token: string, predicate: (m: TgMessage) => boolean, timeoutMs: number): Promise<TgMessage>;
  fileBytes(fileId: string): Buffer | undefined;
  webhookInfo(token: string): TgWebhookInfo;
  pendingUpdates(token: string): TgUpdate[];
  inject429(token: string, rule: { method?: string; chatId?: number; retryAfter: number; times: number }): void;
  blockByUser(token: string, chatId: number, opts?: { notify?: boolean }): void;
  unblockByUser(token: string, chatId: number): void;
  revokeToken(token: string): string;
  pushRaw(token: string, update: unknown, opts?: { secret?: string | null }): Promise<DeliveryResult>;
  routeOrigin(publicOrigin: string, actualOrigin: string | null): void;
  calls(token: string): { method: string; status: number; at: number }[];
  holdMethod(token: string, method: string): { release(): void; waiting(): number };
  close(): Promise<void>;
}

const DELIVERY_WAIT_MS = 10_000;

export async function startTelegramEmulator(options: TelegramEmulatorOptions = {}): Promise<TelegramEmulator> {
  const core = new TelegramEmulatorCore({
    strictWebhookUrls: options.strictWebhookUrls ?? false,
    webhookRetryDelaysMs: options.webhookRetryDelaysMs,
    floodControl: options.floodControl,
  });
  const { server, url } = await listen(core, options.port ?? 0, options.host ?? '127.0.0.1');

  // In webhook mode, wait until the emulator has tried to push this update (tests then know the
  // bot has seen it, or that the attempt failed and is visible in getWebhookInfo). Registering the
  // wait right after enqueueing is safe: the first attempt completes only after an await (fetch).
  const afterEnqueue = async (token: string, update: TgUpdate): Promise<TgUpdate> => {
    const bot = core.bot(token);
    if (bot.webhook && bot.queue.some((q) => q.update === update)) {
      await core.waitForAttempt(bot, update.update_id, DELIVERY_WAIT_MS);
    }
    return update;
  };

  return {
    url,
    createBot: (input) => core.createBot(input),
    customerSends: async (token, input) => afterEnqueue(token, core.customerMessage(token, input)),
    customerEdits: async (token, input) => afterEnqueue(token, core.customerEdit(token, input)),
    enqueueRaw: async (token, payload) => afterEnqueue(token, core.enqueue(core.bot(token), payload)),
    sentMessages: (token, chatId) => core.sentMessages(token, chatId),
    waitForSent: (token, predicate, timeoutMs) => core.waitForSent(token, predicate, timeoutMs),
    fileBytes: (fileId) => core.files.get(fileId)?.bytes,
    webhookInfo: (token) => core.webhookInfoOf(core.bot(token)),
    pendingUpdates: (token) => core.bot(token).queue.map((q) => q.update),
    inject429: (token, rule) => core.inject429(token, rule),
    blockByUser: (token, chatId, opts) => core.blockByUser(token, chatId, opts),
    unblockByUser: (token, chatId) => core.unblockByUser(token, chatId),
    revokeToken: (token) => core.revokeToken(token),
    pushRaw: (token, update, opts) => core.pushRaw(token, update, opts),
    routeOrigin: (publicOrigin, actualOrigin) => core.routeOrigin(publicOrigin, actualOrigin),
    calls: (token) => core.calls(token),
    holdMethod: (token, method) => core.holdMethod(token, method),
    close: () => closeServer(core, server),
  };
}

async function closeServer(core: TelegramEmulatorCore, server: Server): Promise<void> {
  core.close();
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
}
