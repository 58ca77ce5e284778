// In-memory state of the Telegram emulator: bots, their tokens, chats, update queues, files and
// what the bots sent. Pure data + small helpers; HTTP and webhook delivery live elsewhere.
import { createHash, randomBytes } from 'node:crypto';
import type { TgChat, TgMessage, TgPhotoSize, TgDocument, TgUpdate, TgUser } from './types.js';

/** A Bot API failure: becomes `{ ok:false, error_code, description, parameters? }` with that HTTP status. */
export class ApiFailure extends Error {
  constructor(
    readonly code: number,
    readonly description: string,
    readonly parameters?: { retry_after?: number },
  ) {
    super(description);
  }
}

export const UNAUTHORIZED = (): ApiFailure => new ApiFailure(401, 'Unauthorized');
export const badRequest = (what: string): ApiFailure => new ApiFailure(400, `Bad Request: ${what}`);

/** Telegram keeps unconfirmed updates at most 24 hours. */
export const UPDATE_RETENTION_MS = 24 * 3600 * 1000;
/** Bots may download files up to 20 MB through getFile. */
export const MAX_DOWNLOAD_BYTES = 20 * 1024 * 1024;

export interface StoredFile {
  fileId: string;
  fileUniqueId: string;
  botId: number;
  kind: 'photo' | 'document';
  bytes: Buffer;
  filePath: string;
  fileName?: string;
  mimeType?: string;
  width?: number;
  height?: number;
}

export interface ChatRecord {
  chat: TgChat;
  user: TgUser;
  nextMessageId: number;
  /** Both directions, in order; serves the HTML customer page. */
  transcript: Array<{ direction: 'in' | 'out'; message: TgMessage }>;
}

export interface WebhookState {
  url: string;
  secretToken?: string;
  maxConnections: number;
  /** Bumped on every setWebhook/deleteWebhook so a running delivery loop notices the change. */
  generation: number;
}

export interface RateRule {
  method?: string;
  chatId?: number;
  retryAfter: number;
  times: number;
}

export interface PendingPoll {
  /** Answer the held request (with updates, [] on timeout, or a failure). */
  finish: (result: TgUpdate[] | ApiFailure) => void;
  /** A new update arrived: answer with what is available now. */
  wake: () => void;
}

export interface BotRecord {
  id: number;
  username: string;
  firstName: string;
  token: string;
  queue: Array<{ update: TgUpdate; at: number }>;
  nextUpdateId: number;
  allowedUpdates: string[];
  webhook: WebhookState | null;
  webhookGeneration: number;
  lastErrorDate?: number;
  lastErrorMessage?: string;
  chats: Map<number, ChatRecord>;
  sent: TgMessage[];
  blocked: Set<number>;
  rateRules: RateRule[];
  poll: PendingPoll | null;
  sentListeners: Set<(m: TgMessage) => void>;
}

let botCounter = 0;

export function newToken(botId: number): string {
  // Real tokens: "<bot id>:<35 chars of [A-Za-z0-9_-]>".
  return `${botId}:${randomBytes(27).toString('base64url').slice(0, 35)}`;
}

export function newBot(username: string, firstName: string): BotRecord {
  botCounter += 1;
  const id = 7_000_000_000 + Math.floor(Math.random() * 900_000) * 100 + botCounter;
  return {
    id,
    username,
    firstName,
    token: newToken(id),
    queue: [],
    // Real update ids start at an arbitrary point; tests must not assume 1.
    nextUpdateId: 100_000_000 + Math.floor(Math.random() * 1_000_000),
    allowedUpdates: [],
    webhook: null,
    webhookGeneration: 0,
    chats: new Map(),
    sent: [],
    blocked: new Set(),
    rateRules: [],
    poll: null,
    sentListeners: new Set(),
  };
}

export function botUser(bot: BotRecord): TgUser {
  return { id: bot.id, is_bot: true, first_name: bot.firstName, username: bot.username };
}

export const nowSeconds = (): number => Math.floor(Date.now() / 1000);

/** Drops updates older than the retention window (Telegram forgets them after 24 h). */
export function purgeExpired(bot: BotRecord, now = Date.now()): void {
  while (bot.queue.length > 0 && now - bot.queue[0].at > UPDATE_RETENTION_MS) bot.queue.shift();
}

/** Which payload an update carries ("message", "edited_message", "callback_query", …). */
export function updateType(update: TgUpdate): string {
  return Object.keys(update).find((k) => k !== 'update_id') ?? 'unknown';
}

/** Default allowed_updates (empty list) = everything except these three. */
const NOT_DEFAULT = new Set(['chat_member', 'message_reaction', 'message_reaction_count']);

export function isAllowed(bot: BotRecord, type: string): boolean {
  if (bot.allowedUpdates.length === 0) return !NOT_DEFAULT.has(type);
  return bot.allowedUpdates.includes(type);
}

export function ensureChat(bot: BotRecord, chatId: number, from: TgUser): ChatRecord {
  let rec = bot.chats.get(chatId);
  const chat: TgChat = { id: chatId, type: 'private', first_name: from.first_name };
  if (from.last_name) chat.last_name = from.last_name;
  if (from.username) chat.username = from.username;
  if (!rec) {
    rec = { chat, user: from, nextMessageId: 1, transcript: [] };
    bot.chats.set(chatId, rec);
  } else {
    // People rename themselves; the latest message carries the current names.
    rec.chat = chat;
    rec.user = from;
  }
  return rec;
}

// ---- files ----------------------------------------------------------------------------------

export class FileStore {
  private readonly files = new Map<string, StoredFile>();
  private counter = 0;

  add(input: Omit<StoredFile, 'fileId' | 'fileUniqueId' | 'filePath'>, ext: string): StoredFile {
    this.counter += 1;
    const n = this.counter;
    const prefix = input.kind === 'photo' ? 'AgAC' : 'BQAC';
    const fileId = `${prefix}${randomBytes(24).toString('base64url')}`;
    // file_unique_id is stable for the same content (Telegram: same file for every bot).
    const fileUniqueId = `AQAD${createHash('sha256').update(input.bytes).update(String(input.width ?? '')).digest('base64url').slice(0, 16)}`;
    const folder = input.kind === 'photo' ? 'photos' : 'documents';
    const stored: StoredFile = { ...input, fileId, fileUniqueId, filePath: `${folder}/file_${n}${ext}` };
    this.files.set(fileId, stored);
    return stored;
  }

  get(fileId: string): StoredFile | undefined {
    return this.files.get(fileId);
  }

  byPath(botId: number, filePath: string): StoredFile | undefined {
    for (const f of this.files.values()) if (f.filePath === filePath && f.botId === botId) return f;
    return undefined;
  }
}

export function extensionFor(fileName: string | undefined, mimeType: string | undefined, kind: 'photo' | 'document'): string {
  const m = fileName?.match(/\.[A-Za-z0-9]{1,8}$/);
  if (m) return m[0].toLowerCase();
  if (kind === 'photo') return '.jpg';
  if (mimeType === 'application/pdf') return '.pdf';
  return '';
}

/** Width/height from PNG, GIF or JPEG headers; the emulator does not decode images otherwise. */
export function imageSize(bytes: Buffer): { width: number; height: number } {
  if (bytes.length >= 24 && bytes.readUInt32BE(0) === 0x89504e47) {
    return { width: bytes.readUInt32BE(16), height: bytes.readUInt32BE(20) };
  }
  if (bytes.length >= 10 && bytes.toString('latin1', 0, 3) === 'GIF') {
    return { width: bytes.readUInt16LE(6), height: bytes.readUInt16LE(8) };
  }
  if (bytes.length >= 4 && bytes[0] === 0xff && bytes[1] === 0xd8) {
    let i = 2;
    while (i + 9 < bytes.length) {
      if (bytes[i] !== 0xff) {
        i += 1;
        continue;
      }
      const marker = bytes[i + 1];
      const len = bytes.readUInt16BE(i + 2);
      const isSof = marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc;
      if (isSof) return { width: bytes.readUInt16BE(i + 7), height: bytes.readUInt16BE(i + 5) };
      i += 2 + len;
    }
  }
  return { width: 1280, height: 960 };
}

/**
 * Stores an image as Telegram does: several PhotoSize entries, smallest first, the last one being
 * the original. The emulator does not resize, so every size serves the original bytes; sizes differ
 * in file_id and declared width/height.
 */
export function storePhoto(files: FileStore, botId: number, bytes: Buffer): TgPhotoSize[] {
  const { width, height } = imageSize(bytes);
  const sizes: TgPhotoSize[] = [];
  const longest = Math.max(width, height);
  for (const target of [90, 320]) {
    if (longest <= target) break;
    const scale = target / longest;
    const w = Math.max(1, Math.round(width * scale));
    const h = Math.max(1, Math.round(height * scale));
    const f = files.add({ kind: 'photo', botId, bytes, width: w, height: h }, '.jpg');
    sizes.push({ file_id: f.fileId, file_unique_id: f.fileUniqueId, width: w, height: h, file_size: bytes.length });
  }
  const f = files.add({ kind: 'photo', botId, bytes, width, height }, '.jpg');
  sizes.push({ file_id: f.fileId, file_unique_id: f.fileUniqueId, width, height, file_size: bytes.length });
  return sizes;
}

export function storeDocument(
  files: FileStore,
  botId: number,
  bytes: Buffer,
  fileName: string | undefined,
  mimeType: string | undefined,
): TgDocument {
  const f = files.add({ kind: 'document', botId, bytes, fileName, mimeType }, extensionFor(fileName, mimeType, 'document'));
  return documentOf(f);
}

export function documentOf(f: StoredFile): TgDocument {
  const doc: TgDocument = { file_id: f.fileId, file_unique_id: f.fileUniqueId, file_size: f.bytes.length };
  if (f.fileName) doc.file_name = f.fileName;
  if (f.mimeType) doc.mime_type = f.mimeType;
  return doc;
}
