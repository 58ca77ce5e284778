// Turns a raw Update into the shape the chat module works with. Only private-chat style messages
// (message / edited_message with a sender) become 'message'/'edited'; everything else is 'other'
// with its payload type named, so the caller can log or ignore it without parsing wire objects.
import type { TelegramPhotoSize, TelegramUpdate } from './types.js';

export interface NormalizedFile {
  kind: 'photo' | 'document';
  fileId: string;
  fileUniqueId: string;
  fileName?: string;
  mimeType?: string;
  size?: number;
}

export interface NormalizedMessageUpdate {
  updateId: number;
  kind: 'message' | 'edited';
  chatId: number;
  chatType: string;
  from: { id: number; firstName: string; lastName?: string; username?: string; languageCode?: string };
  messageId: number;
  /** Unix seconds, as sent by Telegram (edit time for edits). */
  date: number;
  text?: string;
  caption?: string;
  files: NormalizedFile[];
  /** Payloads we do not carry (sticker, voice, location, …): named so the operator can be told. */
  unsupported?: string[];
}

export interface NormalizedOtherUpdate {
  updateId: number;
  kind: 'other';
  /** The update's payload field, e.g. "callback_query", "my_chat_member", "channel_post". */
  updateType: string;
}

export type NormalizedUpdate = NormalizedMessageUpdate | NormalizedOtherUpdate;

const KNOWN_MESSAGE_FIELDS = new Set([
  'message_id', 'message_thread_id', 'date', 'chat', 'from', 'sender_chat', 'edit_date', 'text', 'entities',
  'caption', 'caption_entities', 'photo', 'document', 'reply_to_message', 'forward_origin', 'forward_from',
  'forward_from_chat', 'forward_date', 'forward_signature', 'forward_sender_name', 'forward_from_message_id',
  'has_protected_content', 'is_automatic_forward', 'is_topic_message', 'author_signature', 'link_preview_options',
  'reply_markup', 'via_bot', 'media_group_id', 'quote', 'external_reply', 'is_from_offline', 'sender_boost_count',
  'show_caption_above_media', 'has_media_spoiler', 'effect_id', 'business_connection_id', 'sender_business_bot',
]);

/** The full-size photo: Telegram lists sizes smallest→largest; take the biggest area, last on ties. */
export function largestPhoto(sizes: TelegramPhotoSize[]): TelegramPhotoSize | undefined {
  let best: TelegramPhotoSize | undefined;
  for (const s of sizes) {
    if (!best || s.width * s.height >= best.width * best.height) best = s;
  }
  return best;
}

/** A copy with NUL characters removed from every string: a customer can send one, and PostgreSQL text cannot hold it. */
export function withoutNul<T>(v: T): T {
  if (typeof v === 'string') return (v.includes('\u0000') ? v.replace(/\u0000/g, '') : v) as T;
  if (Array.isArray(v)) return v.map(withoutNul) as T;
  if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [withoutNul(k), withoutNul(x)])) as T;
  return v;
}

export function normalizeUpdate(raw: TelegramUpdate): NormalizedUpdate {
  const update = withoutNul(raw);
  const edited = update.edited_message !== undefined;
  const msg = update.message ?? update.edited_message;
  if (!msg || !msg.from || !msg.chat) {
    const updateType = Object.keys(update).find((k) => k !== 'update_id') ?? 'unknown';
    return { updateId: update.update_id, kind: 'other', updateType };
  }
  const files: NormalizedFile[] = [];
  if (Array.isArray(msg.photo) && msg.photo.length > 0) {
    const p = largestPhoto(msg.photo)!;
    files.push({ kind: 'photo', fileId: p.file_id, fileUniqueId: p.file_unique_id, ...(p.file_size !== undefined && { size: p.file_size }) });
  }
  if (msg.document) {
    const d = msg.document;
    files.push({
      kind: 'document',
      fileId: d.file_id,
      fileUniqueId: d.file_unique_id,
      ...(d.file_name !== undefined && { fileName: d.file_name }),
      ...(d.mime_type !== undefined && { mimeType: d.mime_type }),
      ...(d.file_size !== undefined && { size: d.file_size }),
    });
  }
  const from = msg.from;
  const out: NormalizedMessageUpdate = {
    updateId: update.update_id,
    kind: edited ? 'edited' : 'message',
    chatId: msg.chat.id,
    chatType: msg.chat.type,
    from: {
      id: from.id,
      firstName: from.first_name,
      ...(from.last_name !== undefined && { lastName: from.last_name }),
      ...(from.username !== undefined && { username: from.username }),
      ...(from.language_code !== undefined && { languageCode: from.language_code }),
    },
    messageId: msg.message_id,
    date: edited && msg.edit_date ? msg.edit_date : msg.date,
    files,
  };
  if (typeof msg.text === 'string') out.text = msg.text;
  if (typeof msg.caption === 'string') out.caption = msg.caption;
  const unsupported = Object.keys(msg).filter((k) => !KNOWN_MESSAGE_FIELDS.has(k));
  if (unsupported.length > 0) out.unsupported = unsupported;
  return out;
}
