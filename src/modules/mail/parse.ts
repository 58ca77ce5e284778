// MIME parsing with postal-mime (chosen over mailparser on bench/mail-parse.ts: faster and no
// stream machinery per message). A message that postal-mime cannot parse still gets a minimal
// header parse so it can be stored raw, listed and marked `parse_error`; it is never retried.
import { createHash } from 'node:crypto';
import PostalMime, { decodeWords, type Address, type Email } from 'postal-mime';

export interface MailAddress {
  name: string;
  address: string;
}

export interface ParsedAttachment {
  filename: string;
  contentType: string;
  contentId: string | null;
  inline: boolean;
  content: Uint8Array;
}

export interface ParsedMail {
  messageId: string | null;
  inReplyTo: string | null;
  references: string[];
  subject: string;
  from: MailAddress | null;
  to: MailAddress[];
  cc: MailAddress[];
  bcc: MailAddress[];
  replyTo: MailAddress[];
  /** ISO date from the Date header; null when missing or unparseable. */
  date: string | null;
  headers: { key: string; value: string }[];
  text: string | null;
  html: string | null;
  attachments: ParsedAttachment[];
  parseError: string | null;
}

// Bounds against hostile input: a real message never nests 50 deep or carries 1 MB of headers.
export const LIMITS = { maxNestingDepth: 50, maxHeadersSize: 1024 * 1024 };
const MAX_HEADERS_KEPT = 200;
const MAX_HEADER_VALUE = 4000;

/** "<Abc@Host>" → "abc@host" (the cross-server join key; case folded so copies always match). */
export function normaliseMessageId(v: string | null | undefined): string | null {
  if (!v) return null;
  const m = /<([^<>\s]+)>/.exec(v);
  const id = (m ? m[1] : v.trim().split(/\s+/)[0] ?? '').replace(/^<|>$/g, '').trim().toLowerCase();
  return id.length > 0 && id.length <= 900 ? id : null;
}

export function messageIdList(v: string | null | undefined): string[] {
  if (!v) return [];
  const out: string[] = [];
  for (const m of v.matchAll(/<([^<>\s]+)>/g)) {
    const id = normaliseMessageId(m[1]);
    if (id && !out.includes(id)) out.push(id);
  }
  if (out.length === 0) {
    for (const tok of v.split(/[\s,]+/)) {
      const id = normaliseMessageId(tok);
      if (id && id.includes('@') && !out.includes(id)) out.push(id);
    }
  }
  return out;
}

function flatten(list: Address[] | Address | undefined): MailAddress[] {
  if (!list) return [];
  const arr = Array.isArray(list) ? list : [list];
  const out: MailAddress[] = [];
  for (const a of arr) {
    if (a.group) for (const g of a.group) out.push({ name: g.name ?? '', address: (g.address ?? '').toLowerCase() });
    else if (a.address) out.push({ name: a.name ?? '', address: a.address.toLowerCase() });
  }
  return out.filter((a) => a.address.length > 0 && a.address.length <= 320);
}

function isoDate(v: string | undefined | null): string | null {
  if (!v) return null;
  const d = new Date(v);
  if (Number.isNaN(d.getTime())) return null;
  const y = d.getUTCFullYear();
  if (y < 1970 || y > 2200) return null;
  return d.toISOString();
}

function cleanText(s: string | undefined | null): string | null {
  if (s == null) return null;
  // NUL bytes are invalid in PostgreSQL text.
  return s.includes('\u0000') ? s.replace(/\u0000/g, '') : s;
}

/**
 * Removes NUL from every string of a parsed message. PostgreSQL rejects NUL in text, and one such
 * value fails the whole batch's transaction — on every retry, so the folder never gets past it.
 * A NUL reaches us from anywhere a sender controls: an RFC 2047 encoded-word with =00 in a display
 * name or attachment filename, a raw 0x00 in a Content-Type or Message-ID, a header the fallback
 * parser copies as latin1. Cleaning the whole result (not field by field) keeps a field added
 * later from reintroducing the failure. Attachment bytes (Uint8Array) are content, not text.
 */
export function scrubNul<T>(v: T): T {
  if (typeof v === 'string') return cleanText(v) as T;
  if (v == null || typeof v !== 'object' || v instanceof Uint8Array) return v;
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) v[i] = scrubNul(v[i]);
    return v;
  }
  const o = v as Record<string, unknown>;
  for (const k of Object.keys(o)) o[k] = scrubNul(o[k]);
  return v;
}

export function fromPostal(e: Email): ParsedMail {
  return scrubNul(mapPostal(e));
}

function mapPostal(e: Email): ParsedMail {
  const headers = e.headers.slice(0, MAX_HEADERS_KEPT).map((h) => ({ key: h.key, value: cleanText(h.value.slice(0, MAX_HEADER_VALUE)) ?? '' }));
  return {
    messageId: normaliseMessageId(e.messageId),
    inReplyTo: normaliseMessageId(e.inReplyTo),
    references: messageIdList(e.references),
    subject: cleanText(e.subject ?? '')!.slice(0, 1000),
    from: flatten(e.from)[0] ?? null,
    to: flatten(e.to),
    cc: flatten(e.cc),
    bcc: flatten(e.bcc),
    replyTo: flatten(e.replyTo),
    date: isoDate(e.date),
    headers,
    text: cleanText(e.text),
    html: cleanText(e.html),
    attachments: e.attachments.map((a) => {
      const content = typeof a.content === 'string' ? new TextEncoder().encode(a.content) : a.content instanceof Uint8Array ? a.content : new Uint8Array(a.content);
      return {
        filename: (a.filename ?? '').slice(0, 255) || (a.mimeType === 'message/rfc822' ? 'message.eml' : 'attachment'),
        contentType: (a.mimeType || 'application/octet-stream').slice(0, 200),
        contentId: a.contentId ? a.contentId.replace(/^<|>$/g, '').slice(0, 300) : null,
        inline: a.disposition === 'inline' || (!!a.contentId && a.disposition !== 'attachment' && !!a.related),
        content,
      };
    }),
    parseError: null,
  };
}

/** Header-only fallback for messages the MIME parser rejects. */
export function fallbackParse(raw: Buffer, reason: string): ParsedMail {
  return scrubNul(fallbackFields(raw, reason));
}

function fallbackFields(raw: Buffer, reason: string): ParsedMail {
  const head = raw.subarray(0, Math.min(raw.length, 256 * 1024)).toString('latin1');
  const end = head.search(/\r?\n\r?\n/);
  const block = (end >= 0 ? head.slice(0, end) : head).replace(/\r?\n[ \t]+/g, ' ');
  const headers: { key: string; value: string }[] = [];
  for (const line of block.split(/\r?\n/)) {
    const i = line.indexOf(':');
    if (i <= 0) continue;
    if (headers.length >= MAX_HEADERS_KEPT) break;
    headers.push({ key: line.slice(0, i).trim().toLowerCase(), value: line.slice(i + 1).trim().slice(0, MAX_HEADER_VALUE) });
  }
  const get = (k: string) => headers.find((h) => h.key === k)?.value ?? null;
  const decode = (v: string | null) => {
    if (!v) return '';
    try {
      return decodeWords(v);
    } catch {
      return v;
    }
  };
  const addr = (v: string | null): MailAddress[] => {
    if (!v) return [];
    return [...v.matchAll(/([^\s<>,;"]+@[^\s<>,;"]+)/g)].map((m) => ({ name: '', address: m[1].toLowerCase() }));
  };
  return {
    messageId: normaliseMessageId(get('message-id')),
    inReplyTo: normaliseMessageId(get('in-reply-to')),
    references: messageIdList(get('references')),
    subject: decode(get('subject')).slice(0, 1000),
    from: addr(get('from'))[0] ?? null,
    to: addr(get('to')),
    cc: addr(get('cc')),
    bcc: [],
    replyTo: addr(get('reply-to')),
    date: isoDate(get('date')),
    headers,
    text: null,
    html: null,
    attachments: [],
    parseError: reason.slice(0, 500) || 'unparseable message',
  };
}

export async function parseMessage(raw: Buffer | Uint8Array): Promise<ParsedMail> {
  const buf = Buffer.isBuffer(raw) ? raw : Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength);
  try {
    const email = await PostalMime.parse(buf, { ...LIMITS, attachmentEncoding: 'arraybuffer' });
    return fromPostal(email);
  } catch (err) {
    return fallbackParse(buf, (err as Error)?.message ?? String(err));
  }
}

/**
 * The per-mailbox identity of a message stored from now on: its normalised Message-ID, or — when
 * it has none — a hash of its raw bytes. Copies of one message (another folder, a move, a re-fetch
 * after a restart or a UIDVALIDITY change) are byte-identical on the server, so they share the key;
 * two different messages without a Message-ID differ in some byte and stay two emails. The raw
 * hash is the full SHA-256 (64 hex), so it never equals a legacy key (40 hex).
 */
export function identityKey(p: Pick<ParsedMail, 'messageId'>, raw: Uint8Array): string {
  if (p.messageId) return `mid:${p.messageId}`;
  return `h:${createHash('sha256').update(raw).digest('hex')}`;
}

/**
 * The identity rows without a Message-ID were stored under before identityKey: a hash of from,
 * Date, subject and size. It merged different messages that share those four values, so new rows
 * no longer use it; the store still looks it up so that re-fetching a message stored under it
 * re-matches that row instead of adding a second one (see store.ts, ingest).
 */
export function messageKey(p: Pick<ParsedMail, 'messageId' | 'from' | 'date' | 'subject'>, size: number, dateHeader?: string | null): string {
  if (p.messageId) return `mid:${p.messageId}`;
  const h = createHash('sha256')
    .update(`${p.from?.address ?? ''}\n${dateHeader ?? p.date ?? ''}\n${p.subject}\n${size}`)
    .digest('hex');
  return `h:${h.slice(0, 40)}`;
}
