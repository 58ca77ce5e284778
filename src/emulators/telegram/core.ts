// The emulator's behaviour, independent of HTTP: Bot API methods and the test/customer controls.
import {
  ApiFailure,
  FileStore,
  MAX_DOWNLOAD_BYTES,
  UNAUTHORIZED,
  badRequest,
  botUser,
  documentOf,
  ensureChat,
  isAllowed,
  newBot,
  newToken,
  nowSeconds,
  purgeExpired,
  storeDocument,
  storePhoto,
  updateType,
  type BotRecord,
  type PendingPoll,
  type StoredFile,
} from './store.js';
import { bool, int, isUpload, str, stringList, type Params, type UploadedFile } from './params.js';
import { DEFAULT_RETRY_DELAYS_MS, kickDelivery, postUpdate, resetDelivery, type DeliveryResult } from './webhook.js';
import type { TgBotUser, TgFile, TgMessage, TgUpdate, TgUser, TgWebhookInfo } from './types.js';

export interface CoreOptions {
  /** Enforce real Telegram's webhook URL rules: HTTPS and ports 443/80/88/8443 only. */
  strictWebhookUrls?: boolean;
  /** Delays between webhook retries. */
  webhookRetryDelaysMs?: number[];
  /**
   * Telegram-like flood control on sendMessage/sendPhoto/sendDocument (off by default): more than
   * perChatPerSecond sends to one chat, or perBotPerSecond in total, within one second → 429 with
   * the seconds until the window frees up.
   */
  floodControl?: { perChatPerSecond?: number; perBotPerSecond?: number };
}

export interface CustomerMessageInput {
  chatId?: number;
  from: { id: number; first_name: string; last_name?: string; username?: string; language_code?: string };
  text?: string;
  photo?: { bytes: Buffer; caption?: string };
  document?: { bytes: Buffer; fileName: string; mimeType: string; caption?: string };
}

const SECRET_RE = /^[A-Za-z0-9_-]{1,256}$/;
const STRICT_PORTS = new Set(['443', '80', '88', '8443']);
const MAX_PHOTO_UPLOAD = 10 * 1024 * 1024;
const MAX_DOCUMENT_UPLOAD = 50 * 1024 * 1024;
const WEBHOOK_CONFLICT = "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete the webhook first";
const POLL_CONFLICT = 'Conflict: terminated by other getUpdates request; make sure that only one bot instance is running';

export class TelegramEmulatorCore {
  readonly files = new FileStore();
  private readonly byToken = new Map<string, BotRecord>();
  private readonly bots: BotRecord[] = [];
  private readonly attemptListeners = new Map<string, Array<(r: DeliveryResult) => void>>();
  private readonly retryDelaysMs: number[];
  private readonly sendTimes = new Map<string, number[]>();
  /** Bot API calls answered, per token as sent (a revoked token keeps its own log), newest last. */
  private readonly callLog = new Map<string, { method: string; status: number; at: number }[]>();
  /** Public origin → where deliveries for it really go (see routeOrigin). */
  private readonly origins = new Map<string, string>();

  constructor(private readonly options: CoreOptions = {}) {
    this.retryDelaysMs = options.webhookRetryDelaysMs ?? DEFAULT_RETRY_DELAYS_MS;
  }

  // ---- bots and tokens ----------------------------------------------------------------------

  createBot(input: { username: string; firstName?: string; token?: string }): { token: string; id: number } {
    const bot = newBot(input.username, input.firstName ?? input.username);
    if (input.token !== undefined) {
      // A fixed token keeps a sandbox's configured channel working across emulator restarts.
      const m = /^(\d{1,15}):[A-Za-z0-9_-]{20,}$/.exec(input.token);
      if (!m) throw new Error('createBot: token must look like "<digits>:<at least 20 of A-Za-z0-9_->"');
      if (this.byToken.has(input.token)) throw new Error('createBot: a bot with this token exists');
      bot.id = Number(m[1]);
      bot.token = input.token;
    }
    this.bots.push(bot);
    this.byToken.set(bot.token, bot);
    return { token: bot.token, id: bot.id };
  }

  listBots(): BotRecord[] {
    return [...this.bots];
  }

  botById(id: number): BotRecord | undefined {
    return this.bots.find((b) => b.id === id);
  }

  /** The bot for a token, or a 401 failure (unknown or revoked token). */
  bot(token: string): BotRecord {
    const bot = this.byToken.get(token);
    if (!bot) throw UNAUTHORIZED();
    return bot;
  }

  /** Revokes a token as @BotFather does: the old one gets 401 everywhere; returns the new token. */
  revokeToken(token: string): string {
    const bot = this.bot(token);
    this.byToken.delete(token);
    bot.token = newToken(bot.id);
    this.byToken.set(bot.token, bot);
    bot.poll?.finish(UNAUTHORIZED());
    return bot.token;
  }

  // ---- dispatch -------------------------------------------------------------------------------

  /** Methods whose calls wait for a test to let them through (see holdMethod), per bot. */
  private readonly holds = new Map<string, { waiting: (() => void)[]; released: boolean }>();

  /**
   * The next calls of `method` for this bot wait until `release()` (a test opens a window between
   * a client's request and its effect, e.g. to make something happen while deleteWebhook is under way).
   */
  holdMethod(token: string, method: string): { release(): void; waiting(): number } {
    const key = `${this.bot(token).id}:${method.toLowerCase()}`;
    const hold = { waiting: [] as (() => void)[], released: false };
    this.holds.set(key, hold);
    return {
      release: () => {
        hold.released = true;
        if (this.holds.get(key) === hold) this.holds.delete(key);
        for (const go of hold.waiting.splice(0)) go();
      },
      waiting: () => hold.waiting.length,
    };
  }

  private async passHold(bot: BotRecord, name: string): Promise<void> {
    const hold = this.holds.get(`${bot.id}:${name}`);
    if (hold && !hold.released) await new Promise<void>((resolve) => hold.waiting.push(resolve));
  }

  recordCall(token: string, method: string, status: number): void {
    let log = this.callLog.get(token);
    if (!log) this.callLog.set(token, (log = []));
    log.push({ method: method.toLowerCase(), status, at: Date.now() });
    if (log.length > 1000) log.splice(0, log.length - 1000);
  }

  /** The Bot API calls made with this token (method lower-cased, HTTP status), oldest first. */
  calls(token: string): { method: string; status: number; at: number }[] {
    return [...(this.callLog.get(token) ?? [])];
  }

  async call(token: string, method: string, params: Params): Promise<unknown> {
    const bot = this.bot(token);
    return this.callOnBot(bot, method, params);
  }

  async callOnBot(bot: BotRecord, method: string, params: Params): Promise<unknown> {
    const name = method.toLowerCase();
    const handler = this.methods[name];
    if (!handler) throw new ApiFailure(404, 'Not Found');
    await this.passHold(bot, name);
    this.checkRate(bot, name, params);
    return handler(bot, params);
  }

  private readonly methods: Record<string, (bot: BotRecord, p: Params) => Promise<unknown> | unknown> = {
    getme: (bot) => this.getMe(bot),
    getupdates: (bot, p) => this.getUpdates(bot, p),
    setwebhook: (bot, p) => this.setWebhook(bot, p),
    deletewebhook: (bot, p) => this.deleteWebhook(bot, bool(p, 'drop_pending_updates')),
    getwebhookinfo: (bot) => this.webhookInfoOf(bot),
    sendmessage: (bot, p) => this.sendMessage(bot, p),
    sendphoto: (bot, p) => this.sendMedia(bot, p, 'photo'),
    senddocument: (bot, p) => this.sendMedia(bot, p, 'document'),
    getfile: (bot, p) => this.getFile(bot, p),
  };

  /** Applies injected 429 rules (method is lower-case). */
  checkRate(bot: BotRecord, method: string, params: Params): void {
    const chatRaw = params.chat_id;
    const chatId = chatRaw === undefined ? undefined : Number(chatRaw);
    const idx = bot.rateRules.findIndex(
      (r) => (!r.method || r.method === method) && (r.chatId === undefined || r.chatId === chatId),
    );
    if (idx < 0) return;
    const rule = bot.rateRules[idx];
    rule.times -= 1;
    if (rule.times <= 0) bot.rateRules.splice(idx, 1);
    throw new ApiFailure(429, `Too Many Requests: retry after ${rule.retryAfter}`, { retry_after: rule.retryAfter });
  }

  // ---- methods --------------------------------------------------------------------------------

  private getMe(bot: BotRecord): TgBotUser {
    return {
      ...botUser(bot),
      can_join_groups: true,
      can_read_all_group_messages: false,
      supports_inline_queries: false,
    };
  }

  /**
   * getUpdates: confirms everything below `offset`, returns up to `limit` pending updates, and
   * with `timeout` > 0 holds the request until an update arrives or the time is up. A newer
   * getUpdates terminates a held older one with 409, as Telegram does.
   */
  getUpdates(bot: BotRecord, p: Params, onHold?: (cancel: () => void) => void): Promise<TgUpdate[]> | TgUpdate[] {
    if (bot.webhook) throw new ApiFailure(409, WEBHOOK_CONFLICT);
    const offset = int(p, 'offset') ?? 0;
    const limitRaw = int(p, 'limit') ?? 100;
    const limit = Math.min(100, Math.max(1, limitRaw));
    const timeout = Math.max(0, int(p, 'timeout') ?? 0);
    const allowed = stringList(p, 'allowed_updates');
    if (allowed !== undefined) bot.allowedUpdates = allowed;

    bot.poll?.finish(new ApiFailure(409, POLL_CONFLICT));
    purgeExpired(bot);
    if (offset > 0) {
      while (bot.queue.length > 0 && bot.queue[0].update.update_id < offset) bot.queue.shift();
    } else if (offset < 0) {
      // Negative offset: keep only the last |offset| updates, forget the rest.
      const keep = -offset;
      if (bot.queue.length > keep) bot.queue.splice(0, bot.queue.length - keep);
    }
    const available = (): TgUpdate[] => bot.queue.slice(0, limit).map((q) => q.update);
    const now = available();
    if (now.length > 0 || timeout === 0) return now;

    return new Promise<TgUpdate[]>((resolve, reject) => {
      let done = false;
      const finish = (result: TgUpdate[] | ApiFailure): void => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        if (bot.poll === poll) bot.poll = null;
        if (result instanceof ApiFailure) reject(result);
        else resolve(result);
      };
      const poll: PendingPoll = { finish, wake: () => finish(available()) };
      const timer = setTimeout(() => finish([]), timeout * 1000);
      bot.poll = poll;
      // If the client goes away, stop holding (no 409 for the next poll from a dead request).
      onHold?.(() => finish([]));
    });
  }

  private setWebhook(bot: BotRecord, p: Params): true {
    const url = str(p, 'url') ?? '';
    if (url === '') return this.deleteWebhook(bot, bool(p, 'drop_pending_updates'));
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      throw badRequest('invalid webhook URL specified');
    }
    if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') throw badRequest('unsupported URL protocol');
    if (this.options.strictWebhookUrls) {
      if (parsed.protocol !== 'https:') throw badRequest('bad webhook: An HTTPS URL must be provided for webhook');
      const port = parsed.port || '443';
      if (!STRICT_PORTS.has(port)) throw badRequest('bad webhook: Webhook can be set up only on ports 80, 88, 443 or 8443');
    }
    const secret = str(p, 'secret_token');
    if (secret !== undefined && secret !== '' && !SECRET_RE.test(secret)) {
      throw badRequest('secret token contains unallowed characters');
    }
    const maxConnections = int(p, 'max_connections') ?? 40;
    if (maxConnections < 1 || maxConnections > 100) throw badRequest('bad webhook: max_connections must be between 1 and 100');
    const allowed = stringList(p, 'allowed_updates');
    if (allowed !== undefined) bot.allowedUpdates = allowed;
    if (bool(p, 'drop_pending_updates')) bot.queue.length = 0;
    // A new registration starts with a fresh retry schedule for whatever is pending.
    resetDelivery(bot);
    bot.webhookGeneration += 1;
    bot.webhook = {
      url,
      secretToken: secret === '' ? undefined : secret,
      maxConnections,
      generation: bot.webhookGeneration,
    };
    // A held getUpdates cannot survive a webhook.
    bot.poll?.finish(new ApiFailure(409, WEBHOOK_CONFLICT));
    this.kick(bot);
    return true;
  }

  private deleteWebhook(bot: BotRecord, drop: boolean): true {
    if (drop) bot.queue.length = 0;
    resetDelivery(bot);
    if (bot.webhook) {
      bot.webhookGeneration += 1;
      bot.webhook = null;
    }
    return true;
  }

  webhookInfoOf(bot: BotRecord): TgWebhookInfo {
    purgeExpired(bot);
    const info: TgWebhookInfo = {
      url: bot.webhook?.url ?? '',
      has_custom_certificate: false,
      pending_update_count: bot.queue.length,
    };
    if (bot.webhook) {
      info.max_connections = bot.webhook.maxConnections;
      info.ip_address = '127.0.0.1';
      if (bot.allowedUpdates.length > 0) info.allowed_updates = [...bot.allowedUpdates];
    }
    if (bot.lastErrorDate !== undefined) {
      info.last_error_date = bot.lastErrorDate;
      info.last_error_message = bot.lastErrorMessage;
    }
    return info;
  }

  private targetChat(bot: BotRecord, p: Params): number {
    const raw = p.chat_id;
    if (raw === undefined || raw === null || raw === '') throw badRequest('chat_id is empty');
    const chatId = typeof raw === 'number' ? raw : Number(raw);
    if (!Number.isInteger(chatId) || !bot.chats.has(chatId)) throw badRequest('chat not found');
    if (bot.blocked.has(chatId)) throw new ApiFailure(403, 'Forbidden: bot was blocked by the user');
    return chatId;
  }

  /** Sliding one-second windows per chat and per bot; see CoreOptions.floodControl. */
  private checkFlood(bot: BotRecord, chatId: number): void {
    const flood = this.options.floodControl;
    if (!flood) return;
    const now = Date.now();
    const windows: Array<[string, number | undefined]> = [
      [`${bot.id}:${chatId}`, flood.perChatPerSecond],
      [`${bot.id}`, flood.perBotPerSecond],
    ];
    for (const [key, limit] of windows) {
      if (!limit) continue;
      const times = (this.sendTimes.get(key) ?? []).filter((t) => now - t < 1000);
      this.sendTimes.set(key, times);
      if (times.length >= limit) {
        const retryAfter = Math.max(1, Math.ceil((times[0] + 1000 - now) / 1000));
        throw new ApiFailure(429, `Too Many Requests: retry after ${retryAfter}`, { retry_after: retryAfter });
      }
    }
    for (const [key, limit] of windows) if (limit) this.sendTimes.get(key)!.push(now);
  }

  private sendMessage(bot: BotRecord, p: Params): TgMessage {
    const chatId = this.targetChat(bot, p);
    const text = str(p, 'text') ?? '';
    if (text.trim().length === 0) throw badRequest('message text is empty');
    if (text.length > 4096) throw badRequest('message is too long');
    this.checkFlood(bot, chatId);
    return this.recordSent(bot, chatId, { text });
  }

  private async sendMedia(bot: BotRecord, p: Params, kind: 'photo' | 'document'): Promise<TgMessage> {
    const chatId = this.targetChat(bot, p);
    const caption = str(p, 'caption');
    if (caption !== undefined && caption.length > 1024) throw badRequest('message caption is too long');
    const input = await this.resolveInputFile(bot, p, kind);
    this.checkFlood(bot, chatId);
    const extra: Partial<TgMessage> = {};
    if (caption) extra.caption = caption;
    if (kind === 'photo') {
      extra.photo = 'existing' in input ? [photoSizeOf(input.existing)] : storePhoto(this.files, bot.id, input.bytes);
    } else {
      extra.document =
        'existing' in input
          ? documentOf(input.existing)
          : storeDocument(this.files, bot.id, input.bytes, input.fileName, input.mimeType);
    }
    return this.recordSent(bot, chatId, extra);
  }

  /** photo/document: a multipart upload, "attach://<field>", an existing file_id, or an HTTP URL. */
  private async resolveInputFile(
    bot: BotRecord,
    p: Params,
    kind: 'photo' | 'document',
  ): Promise<{ existing: StoredFile } | { bytes: Buffer; fileName?: string; mimeType?: string }> {
    let value = p[kind];
    if (typeof value === 'string' && value.startsWith('attach://')) value = p[value.slice('attach://'.length)];
    const limit = kind === 'photo' ? MAX_PHOTO_UPLOAD : MAX_DOCUMENT_UPLOAD;
    if (isUpload(value)) {
      const up = value as UploadedFile;
      if (up.bytes.length === 0) throw badRequest('file must be non-empty');
      // Photos over 10 MB are refused as a bad request (wording not verified); documents over the
      // 50 MB upload limit as 413, like the real front end.
      if (up.bytes.length > limit) throw kind === 'photo' ? badRequest('file is too big') : new ApiFailure(413, 'Request Entity Too Large');
      return { bytes: up.bytes, fileName: up.fileName, mimeType: up.mimeType };
    }
    if (typeof value !== 'string' || value === '') throw badRequest(`there is no ${kind} in the request`);
    if (/^https?:\/\//i.test(value)) {
      try {
        const res = await fetch(value, { signal: AbortSignal.timeout(10_000) });
        if (!res.ok) throw new Error(String(res.status));
        const bytes = Buffer.from(await res.arrayBuffer());
        if (bytes.length > (kind === 'photo' ? 5 : 20) * 1024 * 1024) throw badRequest('failed to get HTTP URL content');
        const fileName = decodeURIComponent(new URL(value).pathname.split('/').pop() || kind);
        return { bytes, fileName, mimeType: res.headers.get('content-type')?.split(';')[0] ?? undefined };
      } catch (err) {
        if (err instanceof ApiFailure) throw err;
        throw badRequest('failed to get HTTP URL content');
      }
    }
    const existing = this.files.get(value);
    if (!existing || existing.botId !== bot.id) throw badRequest('wrong file identifier/HTTP URL specified');
    return { existing };
  }

  private getFile(bot: BotRecord, p: Params): TgFile {
    const fileId = str(p, 'file_id');
    if (!fileId) throw badRequest('file_id not specified');
    const f = this.files.get(fileId);
    if (!f || f.botId !== bot.id) throw badRequest('invalid file_id');
    if (f.bytes.length > MAX_DOWNLOAD_BYTES) throw badRequest('file is too big');
    return { file_id: f.fileId, file_unique_id: f.fileUniqueId, file_size: f.bytes.length, file_path: f.filePath };
  }

  downloadFile(token: string, filePath: string): StoredFile {
    const bot = this.bot(token);
    const f = this.files.byPath(bot.id, filePath);
    if (!f || f.bytes.length > MAX_DOWNLOAD_BYTES) throw new ApiFailure(404, 'Not Found');
    return f;
  }

  private recordSent(bot: BotRecord, chatId: number, content: Partial<TgMessage>): TgMessage {
    const rec = bot.chats.get(chatId)!;
    const message: TgMessage = {
      message_id: rec.nextMessageId++,
      from: botUser(bot),
      chat: { ...rec.chat },
      date: nowSeconds(),
      ...content,
    };
    rec.transcript.push({ direction: 'out', message });
    bot.sent.push(message);
    for (const listener of [...bot.sentListeners]) listener(message);
    return message;
  }

  // ---- customer side and test controls ---------------------------------------------------------

  /** A customer writes to the bot: builds the Message, enqueues the Update, wakes pollers/webhook. */
  customerMessage(token: string, input: CustomerMessageInput): TgUpdate {
    const bot = this.bot(token);
    const payloads = [input.text !== undefined, input.photo !== undefined, input.document !== undefined].filter(Boolean);
    if (payloads.length !== 1) throw new Error('customerSends: give exactly one of text, photo, document');
    const from: TgUser = { id: input.from.id, is_bot: false, first_name: input.from.first_name };
    if (input.from.last_name) from.last_name = input.from.last_name;
    if (input.from.username) from.username = input.from.username;
    if (input.from.language_code) from.language_code = input.from.language_code;
    const chatId = input.chatId ?? input.from.id;
    const rec = ensureChat(bot, chatId, from);
    // Writing to the bot again is how a person unblocks it.
    bot.blocked.delete(chatId);
    const message: TgMessage = { message_id: rec.nextMessageId++, from, chat: { ...rec.chat }, date: nowSeconds() };
    if (input.text !== undefined) message.text = input.text;
    if (input.photo) {
      message.photo = storePhoto(this.files, bot.id, input.photo.bytes);
      if (input.photo.caption) message.caption = input.photo.caption;
    }
    if (input.document) {
      const d = input.document;
      message.document = storeDocument(this.files, bot.id, d.bytes, d.fileName, d.mimeType);
      if (d.caption) message.caption = d.caption;
    }
    rec.transcript.push({ direction: 'in', message });
    return this.enqueue(bot, { message });
  }

  /** A customer edits an earlier message (edited_message update). */
  customerEdit(token: string, input: { chatId: number; messageId: number; text: string }): TgUpdate {
    const bot = this.bot(token);
    const rec = bot.chats.get(input.chatId);
    const original = rec?.transcript.find((t) => t.direction === 'in' && t.message.message_id === input.messageId);
    if (!rec || !original) throw new Error('customerEdit: no such customer message');
    const edited: TgMessage = { ...original.message, text: input.text, edit_date: nowSeconds() };
    return this.enqueue(bot, { edited_message: edited });
  }

  /** Appends an update (any payload) to the bot's queue, honouring allowed_updates. */
  enqueue(bot: BotRecord, payload: Omit<TgUpdate, 'update_id'>): TgUpdate {
    const update = { update_id: bot.nextUpdateId++, ...payload } as TgUpdate;
    if (!isAllowed(bot, updateType(update))) return update;
    bot.queue.push({ update, at: Date.now() });
    bot.poll?.wake();
    this.kick(bot);
    return update;
  }

  /** Resolves when the update was delivered to the webhook or an attempt failed (or after maxMs). */
  waitForAttempt(bot: BotRecord, updateId: number, maxMs: number): Promise<DeliveryResult | undefined> {
    return new Promise((resolve) => {
      const key = `${bot.id}:${updateId}`;
      const timer = setTimeout(() => done(undefined), maxMs);
      const done = (r: DeliveryResult | undefined): void => {
        clearTimeout(timer);
        const list = this.attemptListeners.get(key);
        if (list) {
          const rest = list.filter((l) => l !== done);
          if (rest.length) this.attemptListeners.set(key, rest);
          else this.attemptListeners.delete(key);
        }
        resolve(r);
      };
      const list = this.attemptListeners.get(key) ?? [];
      list.push(done);
      this.attemptListeners.set(key, list);
    });
  }

  kick(bot: BotRecord): void {
    if (!bot.webhook || bot.queue.length === 0) return;
    kickDelivery(bot, {
      retryDelaysMs: this.retryDelaysMs,
      onAttempt: (b, updateId, result) => {
        const list = this.attemptListeners.get(`${b.id}:${updateId}`);
        if (list) for (const l of [...list]) l(result);
      },
      onReplyMethod: async (b, body) => {
        const { method, ...params } = body;
        try {
          await this.callOnBot(b, String(method), params);
        } catch {
          // Telegram does not report errors of methods answered in a webhook response.
        }
      },
      resolveUrl: (url) => this.resolveUrl(url),
    });
  }

  /**
   * The emulator's DNS: webhooks registered under `publicOrigin` (e.g. https://crm.example.com) are
   * delivered to `actualOrigin` instead (e.g. http://127.0.0.1:3000), so a test can run a "public"
   * SiteUrl; pointing it at a closed port makes deliveries fail like an unreachable server; null
   * removes the mapping.
   */
  routeOrigin(publicOrigin: string, actualOrigin: string | null): void {
    const key = new URL(publicOrigin).origin;
    if (actualOrigin === null) this.origins.delete(key);
    else this.origins.set(key, new URL(actualOrigin).origin);
  }

  private resolveUrl(url: string): string {
    try {
      const u = new URL(url);
      const to = this.origins.get(u.origin);
      return to ? to + u.pathname + u.search : url;
    } catch {
      return url;
    }
  }

  /** Delivers an arbitrary update straight to the webhook with a chosen secret (null = no header). */
  async pushRaw(token: string, update: unknown, opts: { secret?: string | null } = {}): Promise<DeliveryResult> {
    const bot = this.bot(token);
    if (!bot.webhook) throw new Error('pushRaw: the bot has no webhook set');
    const secret = opts.secret === undefined ? bot.webhook.secretToken : (opts.secret ?? undefined);
    return postUpdate(this.resolveUrl(bot.webhook.url), update, secret);
  }

  inject429(token: string, rule: { method?: string; chatId?: number; retryAfter: number; times: number }): void {
    const bot = this.bot(token);
    bot.rateRules.push({ ...rule, method: rule.method?.toLowerCase() });
  }

  /**
   * The customer blocks the bot: sends to the chat get 403. With notify, also queue the
   * my_chat_member update (status "kicked") that real Telegram sends.
   */
  blockByUser(token: string, chatId: number, opts: { notify?: boolean } = {}): void {
    const bot = this.bot(token);
    bot.blocked.add(chatId);
    const rec = bot.chats.get(chatId);
    if (opts.notify && rec) {
      const me = botUser(bot);
      this.enqueue(bot, {
        my_chat_member: {
          chat: { ...rec.chat },
          from: rec.user,
          date: nowSeconds(),
          old_chat_member: { user: me, status: 'member' },
          new_chat_member: { user: me, status: 'kicked', until_date: 0 },
        },
      });
    }
  }

  unblockByUser(token: string, chatId: number): void {
    this.bot(token).blocked.delete(chatId);
  }

  sentMessages(token: string, chatId?: number): TgMessage[] {
    const bot = this.bot(token);
    return bot.sent.filter((m) => chatId === undefined || m.chat.id === chatId);
  }

  waitForSent(token: string, predicate: (m: TgMessage) => boolean, timeoutMs: number): Promise<TgMessage> {
    const bot = this.bot(token);
    const already = bot.sent.find(predicate);
    if (already) return Promise.resolve(already);
    return new Promise((resolve, reject) => {
      const listener = (m: TgMessage): void => {
        if (!predicate(m)) return;
        clearTimeout(timer);
        bot.sentListeners.delete(listener);
        resolve(m);
      };
      const timer = setTimeout(() => {
        bot.sentListeners.delete(listener);
        reject(new Error(`waitForSent: no matching message within ${timeoutMs} ms (bot sent ${bot.sent.length})`));
      }, timeoutMs);
      bot.sentListeners.add(listener);
    });
  }

  close(): void {
    // Nothing stays held once the emulator closes.
    for (const hold of this.holds.values()) for (const go of hold.waiting.splice(0)) go();
    this.holds.clear();
    for (const bot of this.bots) {
      bot.poll?.finish([]);
      resetDelivery(bot);
      bot.webhook = null;
      bot.webhookGeneration += 1;
    }
  }
}

function photoSizeOf(f: StoredFile) {
  return {
    file_id: f.fileId,
    file_unique_id: f.fileUniqueId,
    width: f.width ?? 0,
    height: f.height ?? 0,
    file_size: f.bytes.length,
  };
}
