// Reading stored mail and sync status, always scoped to the mailboxes the caller may read.
import type { Readable } from 'node:stream';
import type { Platform } from '../../platform/index.js';
import { containsCi, fromBool, fromJson, nowIso, toJson } from '../../platform/db/index.js';
import { errors } from '../../platform/http/errors.js';
import { decodeCursor, toPage, type Page } from '../../platform/http/paging.js';
import type { MailboxDirectory } from '../mailboxes/types.js';
import type { MailAddress } from './parse.js';
import { sanitizeEmailHtml } from './sanitize.js';
import type { MailSession } from '../../connectors/mail/index.js';
import type { MailAccess } from './sync.js';

export interface EmailListQuery {
  mailboxId?: string;
  contactId?: string;
  accountId?: string;
  folder?: string;
  q?: string;
  threadId?: string;
  includeDeleted?: boolean;
  limit: number;
  cursor?: string;
}

export interface EmailSummaryView {
  id: string;
  mailboxId: string;
  threadId: string;
  messageId: string | null;
  direction: 'in' | 'out';
  subject: string;
  from: MailAddress | null;
  to: MailAddress[];
  cc: MailAddress[];
  date: string;
  snippet: string;
  flags: string[];
  folders: string[];
  hasAttachments: boolean;
  parseError: string | null;
  isDeleted: boolean;
}

export interface EmailDetailView extends EmailSummaryView {
  bcc: MailAddress[];
  replyTo: MailAddress[];
  inReplyTo: string | null;
  references: string[];
  headers: { key: string; value: string }[];
  text: string | null;
  html: string | null;
  blockedImages: number;
  attachments: { id: string; filename: string; contentType: string; size: number; contentId: string | null; inline: boolean }[];
  links: { recordType: string; recordId: string }[];
}

export interface SyncStatusView {
  mailboxId: string;
  state: 'idle' | 'syncing' | 'error' | 'needs-reauth';
  lastSuccessAt: string | null;
  lastError: string | null;
  lastErrorAt: string | null;
  nextAttemptAt: string | null;
  /** A worker holds the mailbox's live connection (IDLE) right now. */
  live: boolean;
  folders: { path: string; specialUse: string | null; selected: boolean; done: number; total: number; lastSyncedAt: string | null }[];
  totals: { done: number; total: number; emails: number };
}

export function createMailQueries(platform: Platform, directory: MailboxDirectory, access: MailAccess) {
  const { db } = platform;

  async function readable(userId: string, mailboxId?: string): Promise<string[]> {
    const ids = await directory.readableBy(userId);
    if (mailboxId) {
      if (!ids.includes(mailboxId)) {
        const mb = await directory.get(mailboxId);
        if (!mb) throw errors.notFound('Mailbox', mailboxId);
        throw errors.forbiddenRecord('You may not read this mailbox.');
      }
      return [mailboxId];
    }
    return ids;
  }

  async function locationsOf(ids: string[]) {
    const map = new Map<string, string[]>();
    if (ids.length === 0) return map;
    const rows = await db.selectFrom('email_locations').select(['email_id', 'folder']).where('email_id', 'in', ids).execute();
    for (const r of rows) map.set(r.email_id, [...new Set([...(map.get(r.email_id) ?? []), r.folder])]);
    return map;
  }

  function summary(r: any, folders: string[]): EmailSummaryView {
    return {
      id: r.id,
      mailboxId: r.mailbox_id,
      threadId: r.thread_id,
      messageId: r.message_id,
      direction: r.direction === 'out' ? 'out' : 'in',
      subject: r.subject,
      from: r.from_address ? { name: r.from_name ?? '', address: r.from_address } : null,
      to: fromJson(r.to_json, []),
      cc: fromJson(r.cc_json, []),
      date: r.date,
      snippet: r.snippet,
      flags: fromJson(r.flags_json, []),
      folders,
      hasAttachments: fromBool(r.has_attachments),
      parseError: r.parse_error,
      isDeleted: fromBool(r.is_deleted),
    };
  }

  async function list(userId: string, q: EmailListQuery): Promise<Page<EmailSummaryView>> {
    const mailboxes = await readable(userId, q.mailboxId);
    if (mailboxes.length === 0) return { items: [], nextCursor: null };
    let qb = db
      .selectFrom('emails')
      .select(['id', 'mailbox_id', 'thread_id', 'message_id', 'direction', 'subject', 'from_address', 'from_name', 'to_json', 'cc_json', 'date', 'snippet', 'flags_json', 'has_attachments', 'parse_error', 'is_deleted'])
      .where('mailbox_id', 'in', mailboxes);
    if (!q.includeDeleted) qb = qb.where('is_deleted', '=', 0);
    if (q.threadId) qb = qb.where('thread_id', '=', q.threadId);
    if (q.contactId) qb = qb.where((eb) => eb.exists(eb.selectFrom('email_links').select('email_links.email_id').whereRef('email_links.email_id', '=', 'emails.id').where('record_type', '=', 'contact').where('record_id', '=', q.contactId!)));
    if (q.accountId) qb = qb.where((eb) => eb.exists(eb.selectFrom('email_links').select('email_links.email_id').whereRef('email_links.email_id', '=', 'emails.id').where('record_type', '=', 'account').where('record_id', '=', q.accountId!)));
    if (q.folder) qb = qb.where((eb) => eb.exists(eb.selectFrom('email_locations').select('email_locations.id').whereRef('email_locations.email_id', '=', 'emails.id').where('email_locations.folder', '=', q.folder!)));
    if (q.q) qb = qb.where(containsCi('search_lower', q.q.toLowerCase()));
    const c = decodeCursor(q.cursor);
    if (c) qb = qb.where((eb) => eb(eb.refTuple('date', 'id'), '<', eb.tuple(String(c.k), c.id)));
    const rows = await qb.orderBy('date', 'desc').orderBy('id', 'desc').limit(q.limit + 1).execute();
    const locs = await locationsOf(rows.map((r) => r.id));
    const page = toPage(rows, q.limit, (r) => ({ k: r.date, id: r.id }));
    return { items: page.items.map((r) => summary(r, locs.get(r.id) ?? [])), nextCursor: page.nextCursor };
  }

  async function rowFor(userId: string, id: string) {
    const r = await db.selectFrom('emails').selectAll().where('id', '=', id).executeTakeFirst();
    if (!r) throw errors.notFound('Email', id);
    const ids = await directory.readableBy(userId);
    if (!ids.includes(r.mailbox_id)) throw errors.notFound('Email', id);
    return r;
  }

  async function get(userId: string, id: string, opts: { allowRemoteImages?: boolean } = {}): Promise<EmailDetailView> {
    const r = await rowFor(userId, id);
    const atts = await db.selectFrom('email_attachments').selectAll().where('email_id', '=', id).orderBy('position').execute();
    const links = await db.selectFrom('email_links').select(['record_type', 'record_id']).where('email_id', '=', id).execute();
    const locs = await locationsOf([id]);
    const cidMap = new Map(atts.filter((a) => a.content_id).map((a) => [a.content_id!.toLowerCase(), a.id]));
    const s = r.html_body ? sanitizeEmailHtml(r.html_body, { emailId: id, cidMap, allowRemoteImages: !!opts.allowRemoteImages }) : null;
    return {
      ...summary(r, locs.get(id) ?? []),
      bcc: fromJson(r.bcc_json, []),
      replyTo: fromJson(r.reply_to_json, []),
      inReplyTo: r.in_reply_to,
      references: fromJson(r.references_json, []),
      headers: fromJson(r.headers_json, []),
      text: r.text_body,
      html: s ? s.html : null,
      blockedImages: s ? s.blockedImages : 0,
      attachments: atts.map((a) => ({ id: a.id, filename: a.filename, contentType: a.content_type, size: a.size, contentId: a.content_id, inline: fromBool(a.inline) })),
      links: links.map((l) => ({ recordType: l.record_type, recordId: l.record_id })),
    };
  }

  async function raw(userId: string, id: string): Promise<{ stream: Readable | null; data: Buffer | null; size: number }> {
    const r = await rowFor(userId, id);
    if (r.raw_file_key) return { stream: platform.files.stream(r.raw_file_key), data: null, size: r.size };
    // Not kept locally: fetch it from wherever the server still has it.
    const locs = await db.selectFrom('email_locations').select(['folder', 'uidvalidity', 'uid']).where('email_id', '=', id).execute();
    if (locs.length === 0) throw errors.notFound('Raw message (no longer on the mail server)', id);
    const conn = await directory.connection(r.mailbox_id);
    let session: MailSession;
    try {
      session = await access.connect(conn);
    } catch (err) {
      throw errors.upstream('MAIL_SERVER_UNAVAILABLE', (err as Error).message);
    }
    try {
      for (const l of locs) {
        try {
          const st = await session.open(l.folder);
          if (st.uidValidity !== Number(l.uidvalidity)) continue;
          for await (const m of session.fetchSources([Number(l.uid)])) {
            if (m.uid === Number(l.uid)) return { stream: null, data: m.source, size: m.source.length };
          }
        } catch {
          // try the next location
        }
      }
    } finally {
      await session.close();
    }
    throw errors.notFound('Raw message (no longer on the mail server)', id);
  }

  /**
   * Marks a message read or unread — on the server first (STORE on every folder holding it), then
   * here, so the CRM never shows a state the server does not have and the next flag sync agrees.
   * A message on no server folder (a sent copy the provider did not file) changes here only.
   */
  async function setSeen(userId: string, id: string, seen: boolean): Promise<EmailSummaryView> {
    const r = await rowFor(userId, id);
    const locs = await db.selectFrom('email_locations').select(['id', 'folder', 'uidvalidity', 'uid', 'flags_json']).where('email_id', '=', id).execute();
    const change = seen ? { add: ['\\Seen'] } : { remove: ['\\Seen'] };
    const applied = new Set<string>();
    if (locs.length > 0) {
      const conn = await directory.connection(r.mailbox_id);
      let session: MailSession;
      try {
        session = await access.connect(conn);
      } catch (err) {
        throw errors.upstream('MAIL_SERVER_UNAVAILABLE', `The mail server could not be reached to mark the message ${seen ? 'read' : 'unread'}: ${(err as Error).message}`);
      }
      try {
        const byFolder = new Map<string, typeof locs>();
        for (const l of locs) byFolder.set(`${l.folder}\u0000${l.uidvalidity}`, [...(byFolder.get(`${l.folder}\u0000${l.uidvalidity}`) ?? []), l]);
        for (const group of byFolder.values()) {
          const { folder, uidvalidity } = group[0];
          // A folder resynced under a new UIDVALIDITY holds stale UIDs: skip it (the resync re-reads flags).
          if (await session.storeFlags(folder, Number(uidvalidity), group.map((l) => Number(l.uid)), change)) for (const l of group) applied.add(l.id);
        }
      } catch (err) {
        throw errors.upstream('MAIL_SERVER_UNAVAILABLE', `The mail server did not accept the change: ${(err as Error).message}`);
      } finally {
        await session.close();
      }
    }
    const withFlag = (json: string) => {
      const set = new Set(fromJson<string[]>(json, []));
      if (seen) set.add('\\Seen');
      else set.delete('\\Seen');
      return toJson([...set].sort());
    };
    await db.transaction().execute(async (tx) => {
      for (const l of locs) if (applied.has(l.id)) await tx.updateTable('email_locations').set({ flags_json: withFlag(l.flags_json) }).where('id', '=', l.id).execute();
      await tx.updateTable('emails').set({ flags_json: withFlag(r.flags_json), updated_at: nowIso() }).where('id', '=', id).execute();
    });
    const fresh = await db.selectFrom('emails').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
    return summary(fresh, (await locationsOf([id])).get(id) ?? []);
  }

  async function attachment(userId: string, id: string, attachmentId: string) {
    await rowFor(userId, id);
    const a = await db.selectFrom('email_attachments').selectAll().where('id', '=', attachmentId).where('email_id', '=', id).executeTakeFirst();
    if (!a) throw errors.notFound('Attachment', attachmentId);
    return { stream: platform.files.stream(a.file_key), filename: a.filename, contentType: a.content_type, size: a.size };
  }

  async function syncStatus(mailboxId: string): Promise<SyncStatusView> {
    const st = await db.selectFrom('mail_sync_state').selectAll().where('mailbox_id', '=', mailboxId).executeTakeFirst();
    const folders = await db.selectFrom('mail_folders').selectAll().where('mailbox_id', '=', mailboxId).where('on_server', '=', 1).orderBy('path').execute();
    const count = await db.selectFrom('emails').select((eb) => eb.fn.countAll<number>().as('n')).where('mailbox_id', '=', mailboxId).where('is_deleted', '=', 0).executeTakeFirst();
    const mb = await directory.get(mailboxId);
    // Live = some worker holds the mailbox's connection lease (in queue mode that is usually not
    // the process answering this request).
    const holder = await platform.leases.holderOf(`mailbox:${mailboxId}`);
    let state = (st?.state ?? 'idle') as SyncStatusView['state'];
    if (mb?.status === 'needs-reauth') state = 'needs-reauth';
    const fv = folders.map((f) => ({ path: f.path, specialUse: f.special_use, selected: fromBool(f.selected), done: f.done, total: f.total, lastSyncedAt: f.last_synced_at }));
    return {
      mailboxId,
      state,
      lastSuccessAt: st?.last_success_at ?? null,
      lastError: st?.last_error ?? null,
      lastErrorAt: st?.last_error_at ?? null,
      nextAttemptAt: st?.next_attempt_at ?? null,
      live: holder != null,
      folders: fv,
      totals: { done: fv.filter((f) => f.selected).reduce((a, f) => a + f.done, 0), total: fv.filter((f) => f.selected).reduce((a, f) => a + f.total, 0), emails: Number(count?.n ?? 0) },
    };
  }

  return { readable, list, get, raw, setSeen, attachment, syncStatus, rowFor };
}

export type MailQueries = ReturnType<typeof createMailQueries>;
