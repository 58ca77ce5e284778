// Sending (B4): from a mailbox the caller may send from, with default sender, alias, signature
// (data: images become inline cid: parts), threading headers on replies, a generated Message-ID.
// The first submission is tried inline so the user gets an answer at once: 2xx → stored as an
// outgoing email and APPENDed to the server's \Sent folder (unless the provider files it itself);
// 4xx/connection trouble → stored, queued as job `mail.send` with exponential backoff;
// 5xx → refused with the server's reason in plain words, nothing stored.
// Header values that come from users or from received mail (subject, alias, attachment names,
// parent Message-IDs) are reduced to one clean line here, whatever the caller validated, so no
// input can add a header line.
import { randomUUID } from 'node:crypto';
import type Mail from 'nodemailer/lib/mailer/index.js';
import type { Platform } from '../../platform/index.js';
import { fromJson, newId, nowIso, toJson } from '../../platform/db/index.js';
import { AppError, errors } from '../../platform/http/errors.js';
import { PermanentJobError } from '../../platform/jobs/types.js';
import type { MailConnectorError } from '../../connectors/mail/index.js';
import { composeMessage } from '../../connectors/smtp/index.js';
import type { MailboxConnection, MailboxDirectory } from '../mailboxes/types.js';
import type { MailStore } from './store.js';
import { parseMessage } from './parse.js';
import type { MailAccess } from './sync.js';

export const JOB_SEND = 'mail.send';

export interface SendAttachment {
  filename: string;
  contentType: string;
  content: Buffer;
}

export interface SendInput {
  mailboxId: string;
  to: string[];
  cc?: string[];
  bcc?: string[];
  subject?: string;
  text?: string;
  html?: string;
  inReplyToEmailId?: string;
  attachments?: SendAttachment[];
}

export interface SendResult {
  emailId: string;
  messageId: string;
  threadId: string;
  status: 'sent' | 'queued';
  savedToSent: boolean;
  /** Recipients the server refused while accepting the others (absent when none). */
  rejectedRecipients?: string[];
}

const MAX_REFERENCES = 20;

/** References of a reply: parent's References (or its In-Reply-To) + parent id, trimmed from the middle. */
export function replyReferences(parent: { message_id: string | null; in_reply_to: string | null; references_json: string }): string[] {
  const refs = fromJson<string[]>(parent.references_json, []);
  const chain = refs.length ? [...refs] : parent.in_reply_to ? [parent.in_reply_to] : [];
  if (parent.message_id) chain.push(parent.message_id);
  const uniq = [...new Set(chain)];
  if (uniq.length <= MAX_REFERENCES) return uniq;
  return [uniq[0], ...uniq.slice(uniq.length - (MAX_REFERENCES - 1))];
}

/** One header line: CR, LF and other control characters become spaces. */
export function oneLine(s: string): string {
  return s.replace(/[\u0000-\u001f\u007f]+/g, ' ').trim();
}

// A msg-id between < and >: printable ASCII without spaces, "<" or ">". Anything else from a
// received message (it is attacker-controlled) is left out of our threading headers.
const MSG_ID = /^[!-;=?-~]{1,900}$/;

/** Our stored ids are case-folded (the join key); other clients compare them exactly, so replies use
 * the parent's own spelling, found in its stored Message-ID / In-Reply-To / References headers. */
function originalSpelling(headersJson: string): Map<string, string> {
  const map = new Map<string, string>();
  for (const h of fromJson<{ key: string; value: string }[]>(headersJson, [])) {
    if (!['message-id', 'in-reply-to', 'references'].includes(String(h.key).toLowerCase())) continue;
    for (const m of String(h.value).matchAll(/<([^<>\s]+)>/g)) if (!map.has(m[1].toLowerCase())) map.set(m[1].toLowerCase(), m[1]);
  }
  return map;
}

/** MIME type/subtype from a client's content type; anything odd becomes application/octet-stream. */
export function cleanMimeType(v: string | undefined): string {
  const t = (v ?? '').split(';')[0].trim().toLowerCase();
  return /^[a-z0-9][a-z0-9!#$&^_.+-]{0,126}\/[a-z0-9][a-z0-9!#$&^_.+-]{0,126}$/.test(t) ? t : 'application/octet-stream';
}

/** A file name without directories or control characters. */
function cleanFilename(v: string): string {
  return oneLine(v.split(/[\\/]/).pop() ?? '').slice(0, 255) || 'attachment';
}

function htmlToText(html: string): string {
  return html
    .replace(/<br\s*\/?>/gi, '\n')
    .replace(/<[^>]+>/g, '')
    .replace(/&nbsp;/g, ' ')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&amp;/g, '&')
    .trim();
}

export function replySubject(subject: string): string {
  return /^\s*(re|ответ|aw|sv)\s*:/i.test(subject) ? subject : `Re: ${subject}`;
}

function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

/** Moves data: images of the signature into inline parts referenced by cid:. */
export function signatureParts(html: string, domain: string): { html: string; attachments: Mail.Attachment[] } {
  const attachments: Mail.Attachment[] = [];
  const out = html.replace(/(<img\b[^>]*?\bsrc\s*=\s*)(["'])data:(image\/[a-z0-9.+-]+);base64,([a-z0-9+/=\s]+)\2/gi, (_m, pre, q, type, b64) => {
    const cid = `sig-${randomUUID()}@${domain}`;
    attachments.push({ cid, contentType: type, content: Buffer.from(String(b64).replace(/\s+/g, ''), 'base64'), filename: `signature-${attachments.length + 1}.${String(type).split('/')[1] ?? 'png'}`, contentDisposition: 'inline' });
    return `${pre}${q}cid:${cid}${q}`;
  });
  return { html: out, attachments };
}

export function createSender(platform: Platform, deps: { directory: MailboxDirectory; store: MailStore; access: MailAccess }) {
  const { db, logger, jobs, files } = platform;

  async function findSentFolder(conn: MailboxConnection): Promise<string | null> {
    const row = await db.selectFrom('mail_folders').select('path').where('mailbox_id', '=', conn.mailbox.id).where('special_use', '=', '\\Sent').where('on_server', '=', 1).executeTakeFirst();
    return row?.path ?? null;
  }

  /** APPEND to \Sent (special-use; common names only as a fallback). Failure is logged, not fatal. */
  async function appendToSent(conn: MailboxConnection, emailId: string, raw: Buffer): Promise<boolean> {
    if (conn.providerSavesSent) return false;
    let session;
    try {
      session = await deps.access.connect(conn);
      let path = await findSentFolder(conn);
      if (!path) {
        const folders = await session.listFolders();
        path =
          folders.find((f) => f.specialUse === '\\Sent')?.path ??
          folders.find((f) => ['sent', 'sent items', 'sent messages', 'sent mail'].includes(f.path.toLowerCase()))?.path ??
          null;
      }
      if (!path) {
        logger.warn({ mailboxId: conn.mailbox.id }, 'mail: no Sent folder found; sent copy not saved on the server');
        return false;
      }
      const res = await session.append(path, raw, ['\\Seen']);
      if (res.uid && res.uidValidity) {
        await db.transaction().execute(async (tx) => {
          await tx
            .insertInto('email_locations')
            .values({ id: newId(), email_id: emailId, mailbox_id: conn.mailbox.id, folder: path!, uidvalidity: res.uidValidity!, uid: res.uid!, flags_json: toJson(['\\Seen']), created_at: nowIso() })
            .onConflict((oc) => oc.doNothing())
            .execute();
        });
      }
      return true;
    } catch (err) {
      logger.warn({ mailboxId: conn.mailbox.id, err: (err as Error).message }, 'mail: APPEND to Sent failed');
      return false;
    } finally {
      await session?.close();
    }
  }

  /** 404 for no such mailbox, 403 with a reason the user can act on otherwise. */
  async function assertMaySend(userId: string, mailboxId: string) {
    if ((await deps.directory.sendableBy(userId)).includes(mailboxId)) return;
    const mb = await deps.directory.get(mailboxId);
    if (!mb) throw errors.notFound('Mailbox', mailboxId);
    if (mb.userId !== userId) throw errors.forbiddenRecord('You may not send from this mailbox: it is not yours.');
    if (mb.status === 'disabled') throw new AppError(403, 'MAILBOX_DISABLED', 'This mailbox is disabled, so it cannot send mail.');
    throw new AppError(403, 'SENDING_DISABLED', 'Sending is turned off for this mailbox. Turn on "Send mail" in its settings to send from it.');
  }

  async function send(userId: string, input: SendInput): Promise<SendResult> {
    await assertMaySend(userId, input.mailboxId);
    const conn = await deps.directory.connection(input.mailboxId);
    const s = conn.mailbox.settings;
    const fromAddress = s.defaultSender || conn.mailbox.email;
    const domain = fromAddress.split('@')[1] || 'switchboard.local';
    let subject = oneLine(input.subject ?? '');
    const headers: Record<string, string> = {};
    let inReplyTo: string | undefined;
    let references: string[] = [];
    if (input.inReplyToEmailId) {
      const parent = await db.selectFrom('emails').selectAll().where('id', '=', input.inReplyToEmailId).executeTakeFirst();
      const readable = parent ? (await deps.directory.readableBy(userId)).includes(parent.mailbox_id) : false;
      if (!parent || !readable) throw errors.validation([{ field: 'inReplyToEmailId', message: 'No such email.' }]);
      const spelling = originalSpelling(parent.headers_json);
      const own = (id: string) => spelling.get(id) ?? id;
      if (parent.message_id && MSG_ID.test(own(parent.message_id))) inReplyTo = `<${own(parent.message_id)}>`;
      references = replyReferences(parent).map(own).filter((id) => MSG_ID.test(id));
      subject = replySubject(subject || oneLine(parent.subject));
    }
    let html = input.html ?? (input.text != null ? `<div>${escapeHtml(input.text).replace(/\r?\n/g, '<br>')}</div>` : undefined);
    let text = input.text;
    const inline: Mail.Attachment[] = [];
    if (s.useSignature && s.signatureHtml) {
      const sig = signatureParts(s.signatureHtml, domain);
      html = `${html ?? ''}<br><div class="signature">${sig.html}</div>`;
      inline.push(...sig.attachments);
      if (text != null) text = `${text}\n\n-- \n${htmlToText(sig.html)}`;
    }
    const messageId = `<${randomUUID()}@${domain}>`;
    const mail: Mail.Options = {
      from: s.alias && oneLine(s.alias) ? { name: oneLine(s.alias), address: fromAddress } : fromAddress,
      to: input.to,
      cc: input.cc,
      subject,
      text,
      html,
      messageId,
      date: new Date(),
      inReplyTo,
      references: references.length ? references.map((r) => `<${r}>`).join(' ') : undefined,
      headers,
      attachments: [...inline, ...(input.attachments ?? []).map((a) => ({ filename: cleanFilename(a.filename), contentType: cleanMimeType(a.contentType), content: a.content }))],
    };
    const raw = await composeMessage(mail);
    const envelope = { from: fromAddress, to: [...new Set([...input.to, ...(input.cc ?? []), ...(input.bcc ?? [])])] };

    let status: 'sent' | 'queued' = 'sent';
    let firstError: MailConnectorError | null = null;
    let rejectedRecipients: string[] = [];
    try {
      rejectedRecipients = (await deps.access.submit(conn, envelope, raw)).rejected;
    } catch (e) {
      const err = e as MailConnectorError;
      if (err.kind !== 'transient' && err.kind !== 'rate-limited') {
        throw errors.unprocessable('SEND_REJECTED', err.message, { kind: err.kind });
      }
      status = 'queued';
      firstError = err;
    }
    const parsed = await parseMessage(raw);
    // Bcc is not in the headers; keep it on the stored copy so the sender sees who got it.
    parsed.bcc = (input.bcc ?? []).map((a) => ({ name: '', address: a.toLowerCase() }));
    const [stored] = await deps.store.ingest(conn.mailbox.id, [{ parsed, raw, direction: 'out', internalDate: new Date() }]);
    const emailRow = stored ?? (await db.selectFrom('emails').select(['id', 'thread_id as threadId']).where('mailbox_id', '=', conn.mailbox.id).where('message_id', '=', parsed.messageId).executeTakeFirstOrThrow());
    const emailId = emailRow.id;
    let savedToSent = false;
    if (status === 'sent') {
      savedToSent = await appendToSent(conn, emailId, raw);
    } else {
      const outboxId = newId();
      await db
        .insertInto('mail_outbox')
        .values({ id: outboxId, email_id: emailId, mailbox_id: conn.mailbox.id, user_id: userId, envelope_json: toJson(envelope), state: 'queued', attempts: 1, last_error: firstError?.message ?? null, created_at: nowIso(), updated_at: nowIso() })
        .execute();
      await jobs.enqueue(JOB_SEND, { outboxId }, { jobKey: `mail.send:${outboxId}`, delayMs: 2000, attempts: 6, backoff: { type: 'exponential', delayMs: 5000 } });
    }
    return { emailId, messageId, threadId: emailRow.threadId, status, savedToSent, ...(rejectedRecipients.length ? { rejectedRecipients } : {}) };
  }

  jobs.define<{ outboxId: string }>(JOB_SEND, async (data, ctx) => {
    const ob = await db.selectFrom('mail_outbox').selectAll().where('id', '=', data.outboxId).executeTakeFirst();
    if (!ob || ob.state !== 'queued') return;
    const email = await db.selectFrom('emails').select(['raw_file_key']).where('id', '=', ob.email_id).executeTakeFirst();
    if (!email?.raw_file_key) return;
    const raw = await files.get(email.raw_file_key);
    // Sending may have been turned off, or the mailbox removed, while the message waited.
    const mb = await deps.directory.get(ob.mailbox_id);
    if (!mb || !mb.settings.sendEnabled || mb.status === 'disabled') {
      const why = !mb ? 'The mailbox was removed before the message could be sent.' : 'Sending was turned off for this mailbox before the message could be sent.';
      await db.updateTable('mail_outbox').set({ state: 'failed', last_error: why, updated_at: nowIso() }).where('id', '=', ob.id).execute();
      await platform.realtime.notifyUsers([ob.user_id], { type: 'notification', data: { kind: 'mail.send-failed', emailId: ob.email_id, message: why } }).catch(() => {});
      return;
    }
    const conn = await deps.directory.connection(ob.mailbox_id);
    try {
      await deps.access.submit(conn, fromJson(ob.envelope_json, { from: '', to: [] as string[] }), raw);
    } catch (e) {
      const err = e as MailConnectorError;
      const permanent = err.kind !== 'transient' && err.kind !== 'rate-limited';
      await db
        .updateTable('mail_outbox')
        .set({ attempts: ob.attempts + 1, last_error: err.message, state: permanent || ctx.isLastAttempt ? 'failed' : 'queued', updated_at: nowIso() })
        .where('id', '=', ob.id)
        .execute();
      if (permanent || ctx.isLastAttempt) {
        await platform.realtime.notifyUsers([ob.user_id], { type: 'notification', data: { kind: 'mail.send-failed', emailId: ob.email_id, message: err.message } }).catch(() => {});
        if (permanent) throw new PermanentJobError(err.message);
        return;
      }
      throw err;
    }
    await db.updateTable('mail_outbox').set({ state: 'sent', attempts: ob.attempts + 1, last_error: null, updated_at: nowIso() }).where('id', '=', ob.id).execute();
    await appendToSent(conn, ob.email_id, raw);
  });

  async function outboxState(emailId: string) {
    const r = await db.selectFrom('mail_outbox').select(['state', 'attempts', 'last_error']).where('email_id', '=', emailId).orderBy('created_at', 'desc').executeTakeFirst();
    return r ? { state: r.state, attempts: r.attempts, lastError: r.last_error } : null;
  }

  return { send, outboxState, appendToSent };
}

export type Sender = ReturnType<typeof createSender>;
