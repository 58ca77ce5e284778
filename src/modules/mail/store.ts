// Writes fetched messages into the CRM tables, idempotently: a message is one `emails` row per
// mailbox (unique message_key); every server copy is an `email_locations` row (unique folder +
// UIDVALIDITY + UID). Re-fetching after a crash, a restart, a UIDVALIDITY change or a folder move
// therefore only adds/keeps locations — never a second email.
import type { Insertable, Kysely, Transaction } from 'kysely';
import type { EmailsTable } from './tables.js';
import type { Database } from '../../schema.js';
import type { Dialect } from '../../platform/db/index.js';
import { fromJson, newId, nowIso, toJson } from '../../platform/db/index.js';
import type { FileStore } from '../../platform/files/index.js';
import type { Logger } from '../../platform/logger.js';
import { identityKey, messageKey, type MailAddress, type ParsedMail } from './parse.js';
import { resolveThreads } from './threads.js';

/** The slice of the CRM the mail module needs (see src/modules/crm/index.ts). */
export interface MailCrmLink {
  findContactsByEmails(emails: string[]): Promise<{ email: string; contactId: string; accountId: string | null }[]>;
}

export interface IncomingMessage {
  folder: string;
  uidvalidity: number;
  uid: number;
  flags: string[];
  internalDate: Date | null;
  size: number;
  raw: Buffer;
  parsed: ParsedMail;
}

export interface StoredEmailSummary {
  id: string;
  mailboxId: string;
  threadId: string;
  subject: string;
  from: MailAddress | null;
  date: string;
  folder: string | null;
  direction: 'in' | 'out';
}

export interface StoreDeps {
  db: Kysely<Database>;
  dialect: Dialect;
  files: FileStore;
  logger: Logger;
  crm?: MailCrmLink;
}

const collapse = (t: string) => t.replace(/\s+/g, ' ').trim();

function snippetOf(p: ParsedMail): string {
  let t = p.text ?? '';
  if (!t && p.html) t = p.html.replace(/<style[\s\S]*?<\/style>|<script[\s\S]*?<\/script>/gi, ' ').replace(/<[^>]+>/g, ' ');
  // Collapsing a prefix gives a prefix of the collapsed whole, so when it already holds more
  // than 200 characters the snippet is the same — without running the regex over a long body.
  if (t.length > 1000) {
    const head = t.slice(0, 1000).replace(/\s+/g, ' ').trimStart();
    if (head.length > 200) return head.slice(0, 200);
  }
  return collapse(t).slice(0, 200);
}

function headerValue(p: ParsedMail, key: string): string | null {
  return p.headers.find((h) => h.key === key)?.value ?? null;
}

export interface NewEmailInput {
  parsed: ParsedMail;
  raw: Buffer;
  direction: 'in' | 'out';
  internalDate: Date | null;
  /** Where it sits on the server (absent for a sent message not yet seen in Sent). */
  location?: { folder: string; uidvalidity: number; uid: number; flags: string[] };
  /** Re-matching after a UIDVALIDITY change: add the location to the stored email, never store a new one. */
  onlyIfKnown?: boolean;
}

export function createMailStore(deps: StoreDeps) {
  const { db, files, logger } = deps;

  // The raw source is kept in the file store only when we may not be able to get it again from
  // the server: unparseable messages (B5: "stored raw and marked") and mail we sent ourselves.
  // For everything else GET /api/emails/{id}/raw fetches it from a server location; writing a
  // file per message was the dominant cost of a first sync (see bench/mail.ts).
  async function writeFiles(p: ParsedMail, raw: Buffer, keepRaw: boolean) {
    const rawFile = keepRaw ? await files.put(raw, 'mail-raw') : null;
    const atts = [];
    for (const a of p.attachments) {
      const f = await files.put(Buffer.from(a.content.buffer, a.content.byteOffset, a.content.byteLength), 'mail-att');
      atts.push({ a, key: f.key, size: f.size });
    }
    return { rawKey: rawFile?.key ?? null, atts };
  }

  async function deleteFiles(keys: string[]) {
    for (const k of keys) await files.delete(k).catch(() => {});
  }

  /** Runs `fn` over items with at most `limit` in flight (file writes go to libuv's thread pool). */
  async function mapLimit<T, R>(items: T[], limit: number, fn: (t: T) => Promise<R>): Promise<R[]> {
    const out: R[] = new Array(items.length);
    let next = 0;
    const run = async () => {
      while (next < items.length) {
        const i = next++;
        out[i] = await fn(items[i]);
      }
    };
    await Promise.all(Array.from({ length: Math.min(limit, items.length) }, run));
    return out;
  }

  /**
   * Stores a batch; returns the emails that are new (first time seen in this mailbox).
   * Files are written before the transaction and removed again when a racing writer won.
   * Statements are batched (multi-row inserts, one thread lookup for the whole batch) so a batch
   * costs a handful of round trips whatever its size.
   */
  async function ingest(mailboxId: string, items: NewEmailInput[]): Promise<StoredEmailSummary[]> {
    if (items.length === 0) return [];
    // A message without a Message-ID may have been stored under the legacy key (see parse.ts): look
    // both up and keep using the stored row, so a re-fetch (cursor rewound, UIDVALIDITY change,
    // copy in another folder) of such a message never becomes a second email. New rows only ever
    // get the raw-bytes key.
    const candidates = items.map((it) => ({
      it,
      key: identityKey(it.parsed, it.raw),
      legacy: it.parsed.messageId ? null : messageKey(it.parsed, it.raw.length, headerValue(it.parsed, 'date')),
    }));
    const lookup = [...new Set(candidates.flatMap((c) => (c.legacy ? [c.key, c.legacy] : [c.key])))];
    const existing = new Map<string, string>();
    for (let i = 0; i < lookup.length; i += 300) {
      const rows = await db.selectFrom('emails').select(['id', 'message_key']).where('mailbox_id', '=', mailboxId).where('message_key', 'in', lookup.slice(i, i + 300)).execute();
      for (const r of rows) existing.set(r.message_key, r.id);
    }
    const keyed = candidates.map(({ it, key, legacy }) => ({ it, key: !existing.has(key) && legacy && existing.has(legacy) ? legacy : key }));
    // First occurrence of each key that is not stored yet: these become new emails.
    const fresh: { it: NewEmailInput; key: string }[] = [];
    const freshKeys = new Set<string>();
    for (const k of keyed) {
      if (existing.has(k.key) || freshKeys.has(k.key) || k.it.onlyIfKnown) continue;
      freshKeys.add(k.key);
      fresh.push(k);
    }
    const prepared = await mapLimit(fresh, 16, (k) => writeFiles(k.it.parsed, k.it.raw, !!k.it.parsed.parseError || k.it.direction === 'out' || !k.it.location));
    const created: (StoredEmailSummary & { participants: string[] })[] = [];
    const orphanFiles: string[] = [];
    await db.transaction().execute(async (tx) => {
      // The mailbox may have been removed while this batch was fetched, perhaps on another worker.
      // Its row is share-locked (PostgreSQL), so a DELETE waits for this batch and the purge that
      // follows sees every row we write; once it is gone, nothing more is stored for it.
      const owner = tx.selectFrom('mailboxes').select('id').where('id', '=', mailboxId);
      const alive = await (deps.dialect === 'postgres' ? owner.forShare() : owner).executeTakeFirst();
      if (!alive) {
        for (const f of prepared) orphanFiles.push(...(f.rawKey ? [f.rawKey] : []), ...f.atts.map((a) => a.key));
        return;
      }
      const idOf = new Map(existing);
      const now = nowIso();
      const emailRows: Insertable<EmailsTable>[] = [];
      const meta: { key: string; id: string; f: (typeof prepared)[number]; it: NewEmailInput; threadId: string; date: string; participants: Map<string, string> }[] = [];
      // In order, so a reply in the same batch as its parent joins the parent's thread.
      const threadIds = await resolveThreads(
        tx,
        mailboxId,
        fresh.map(({ it: { parsed: p } }) => ({ ownId: p.messageId, referenced: [...p.references, ...(p.inReplyTo ? [p.inReplyTo] : [])] })),
      );
      for (let i = 0; i < fresh.length; i++) {
        const { it, key } = fresh[i];
        const p = it.parsed;
        const f = prepared[i];
        const threadId = threadIds[i];
        const snippet = snippetOf(p);
        const date = p.date ?? (it.internalDate ? it.internalDate.toISOString() : now);
        const id = newId();
        const parts = new Map<string, string>();
        const add = (role: string, list: MailAddress[]) => {
          for (const x of list) parts.set(`${role}\u0000${x.address}`, x.address);
        };
        if (p.from) add('from', [p.from]);
        add('to', p.to);
        add('cc', p.cc);
        add('bcc', p.bcc);
        add('reply-to', p.replyTo);
        meta.push({ key, id, f, it, threadId, date, participants: parts });
        emailRows.push({
          id,
          mailbox_id: mailboxId,
          message_key: key,
          message_id: p.messageId,
          in_reply_to: p.inReplyTo,
          references_json: toJson(p.references),
          thread_id: threadId,
          direction: it.direction,
          subject: p.subject,
          from_address: p.from?.address ?? null,
          from_name: p.from?.name || null,
          to_json: toJson(p.to),
          cc_json: toJson(p.cc),
          bcc_json: toJson(p.bcc),
          reply_to_json: toJson(p.replyTo),
          date,
          headers_json: toJson(p.headers),
          text_body: p.text,
          html_body: p.html,
          snippet,
          size: it.raw.length,
          has_attachments: p.attachments.some((a) => !a.inline) ? 1 : 0,
          raw_file_key: f.rawKey,
          parse_error: p.parseError,
          flags_json: toJson(it.location ? [...it.location.flags].sort() : []),
          is_deleted: 0,
          search_lower: [p.subject, p.from?.name ?? '', p.from?.address ?? '', ...p.to.map((a) => `${a.name} ${a.address}`), snippet].join(' ').toLowerCase().slice(0, 4000),
          created_at: now,
          updated_at: now,
        });
      }
      const inserted = new Set<string>();
      for (let i = 0; i < emailRows.length; i += 50) {
        const rows = await tx
          .insertInto('emails')
          .values(emailRows.slice(i, i + 50))
          .onConflict((oc) => oc.columns(['mailbox_id', 'message_key']).doNothing())
          .returning('id')
          .execute();
        for (const r of rows) inserted.add(r.id);
      }
      const attRows: { id: string; email_id: string; filename: string; content_type: string; size: number; file_key: string; content_id: string | null; inline: number; position: number }[] = [];
      const partRows: { email_id: string; role: string; address: string }[] = [];
      for (const m of meta) {
        if (!inserted.has(m.id)) {
          // Another writer stored the same message between our lookup and now.
          const row = await tx.selectFrom('emails').select('id').where('mailbox_id', '=', mailboxId).where('message_key', '=', m.key).executeTakeFirstOrThrow();
          idOf.set(m.key, row.id);
          orphanFiles.push(...(m.f.rawKey ? [m.f.rawKey] : []), ...m.f.atts.map((a) => a.key));
          continue;
        }
        idOf.set(m.key, m.id);
        m.f.atts.forEach((a, pos) =>
          attRows.push({ id: newId(), email_id: m.id, filename: a.a.filename, content_type: a.a.contentType, size: a.size, file_key: a.key, content_id: a.a.contentId, inline: a.a.inline ? 1 : 0, position: pos }),
        );
        for (const k of m.participants.keys()) {
          const [role, address] = k.split('\u0000');
          partRows.push({ email_id: m.id, role, address });
        }
        const p = m.it.parsed;
        created.push({ id: m.id, mailboxId, threadId: m.threadId, subject: p.subject, from: p.from, date: m.date, folder: m.it.location?.folder ?? null, direction: m.it.direction, participants: [...new Set(m.participants.values())] });
      }
      for (let i = 0; i < attRows.length; i += 100) await tx.insertInto('email_attachments').values(attRows.slice(i, i + 100)).execute();
      for (let i = 0; i < partRows.length; i += 300) await tx.insertInto('email_participants').values(partRows.slice(i, i + 300)).onConflict((oc) => oc.doNothing()).execute();
      // Locations: new emails got their flags at insert; known ones are revived and re-flagged.
      const locRows: { id: string; email_id: string; mailbox_id: string; folder: string; uidvalidity: number; uid: number; flags_json: string; created_at: string }[] = [];
      const seenLoc = new Set<string>();
      for (const { it, key } of keyed) {
        if (!it.location) continue;
        const sig = `${it.location.folder}\u0000${it.location.uidvalidity}\u0000${it.location.uid}`;
        if (seenLoc.has(sig)) continue;
        seenLoc.add(sig);
        const emailId = idOf.get(key);
        if (!emailId) continue; // onlyIfKnown and not stored: not ours to keep
        const flags = toJson([...it.location.flags].sort());
        locRows.push({ id: newId(), email_id: emailId, mailbox_id: mailboxId, folder: it.location.folder, uidvalidity: it.location.uidvalidity, uid: it.location.uid, flags_json: flags, created_at: now });
        if (!inserted.has(emailId)) {
          await tx.updateTable('emails').set({ flags_json: flags, is_deleted: 0, updated_at: now }).where('id', '=', emailId).execute();
        }
      }
      for (let i = 0; i < locRows.length; i += 100) {
        await tx
          .insertInto('email_locations')
          .values(locRows.slice(i, i + 100))
          .onConflict((oc) => oc.columns(['mailbox_id', 'folder', 'uidvalidity', 'uid']).doUpdateSet((eb) => ({ flags_json: eb.ref('excluded.flags_json') })))
          .execute();
      }
    });
    if (orphanFiles.length) await deleteFiles(orphanFiles);
    if (created.length && deps.crm) await linkToCrm(created).catch((err) => logger.warn({ err }, 'mail: linking to CRM contacts failed'));
    return created.map(({ participants: _p, ...s }) => s);
  }

  async function linkToCrm(emails: { id: string; participants: string[] }[]) {
    const all = [...new Set(emails.flatMap((e) => e.participants))];
    if (all.length === 0 || !deps.crm) return;
    const matches = await deps.crm.findContactsByEmails(all);
    if (matches.length === 0) return;
    const byEmail = new Map<string, typeof matches>();
    for (const m of matches) byEmail.set(m.email, [...(byEmail.get(m.email) ?? []), m]);
    const rows: { email_id: string; record_type: string; record_id: string }[] = [];
    for (const e of emails) {
      const seen = new Set<string>();
      for (const addr of e.participants) {
        for (const m of byEmail.get(addr) ?? []) {
          for (const [t, rid] of [['contact', m.contactId], ['account', m.accountId]] as const) {
            if (!rid || seen.has(`${t}:${rid}`)) continue;
            seen.add(`${t}:${rid}`);
            rows.push({ email_id: e.id, record_type: t, record_id: rid });
          }
        }
      }
    }
    for (let i = 0; i < rows.length; i += 200) {
      await db.insertInto('email_links').values(rows.slice(i, i + 200)).onConflict((oc) => oc.doNothing()).execute();
    }
  }

  /** Known UIDs of a folder at its current UIDVALIDITY. */
  async function knownUids(mailboxId: string, folder: string, uidvalidity: number): Promise<Map<number, string>> {
    const rows = await db.selectFrom('email_locations').select(['uid', 'email_id']).where('mailbox_id', '=', mailboxId).where('folder', '=', folder).where('uidvalidity', '=', uidvalidity).execute();
    return new Map(rows.map((r) => [Number(r.uid), r.email_id]));
  }

  async function markOrphansDeleted(tx: Kysely<Database> | Transaction<Database>, emailIds: string[]) {
    for (let i = 0; i < emailIds.length; i += 300) {
      const chunk = emailIds.slice(i, i + 300);
      await tx
        .updateTable('emails')
        .set({ is_deleted: 1, updated_at: nowIso() })
        .where('id', 'in', chunk)
        .where((eb) => eb.not(eb.exists(eb.selectFrom('email_locations').select('email_locations.id').whereRef('email_locations.email_id', '=', 'emails.id'))))
        .execute();
    }
  }

  /** Deleted on the server: drops those locations; emails left without any location are marked deleted. */
  async function removeLocations(mailboxId: string, folder: string, uidvalidity: number, uids: number[]): Promise<number> {
    if (uids.length === 0) return 0;
    let removed = 0;
    await db.transaction().execute(async (tx) => {
      const affected: string[] = [];
      for (let i = 0; i < uids.length; i += 300) {
        const chunk = uids.slice(i, i + 300);
        const rows = await tx.deleteFrom('email_locations').where('mailbox_id', '=', mailboxId).where('folder', '=', folder).where('uidvalidity', '=', uidvalidity).where('uid', 'in', chunk).returning('email_id').execute();
        affected.push(...rows.map((r) => r.email_id));
        removed += rows.length;
      }
      await markOrphansDeleted(tx, [...new Set(affected)]);
    });
    return removed;
  }

  /**
   * Stored mail a folder still lists under another UIDVALIDITY, i.e. a UIDVALIDITY change whose
   * resync has not completed: their Message-IDs (to find them again among the new UIDs) and
   * whether any has none (those can only be matched by fetching them whole).
   */
  async function staleLocations(mailboxId: string, folder: string, uidvalidity: number): Promise<{ count: number; messageIds: Set<string>; withoutMessageId: boolean }> {
    // Almost always there are none, and this runs on every pass (also each IDLE-triggered one):
    // two index seeks (below / above the current value) answer that without reading the folder.
    const probe = (op: '<' | '>') =>
      db.selectFrom('email_locations').select('id').where('mailbox_id', '=', mailboxId).where('folder', '=', folder).where('uidvalidity', op, uidvalidity).limit(1).executeTakeFirst();
    if (!(await probe('<')) && !(await probe('>'))) return { count: 0, messageIds: new Set(), withoutMessageId: false };
    const rows = await db
      .selectFrom('email_locations')
      .innerJoin('emails', 'emails.id', 'email_locations.email_id')
      .select('emails.message_id')
      .where('email_locations.mailbox_id', '=', mailboxId)
      .where('email_locations.folder', '=', folder)
      .where('email_locations.uidvalidity', '!=', uidvalidity)
      .execute();
    const messageIds = new Set<string>();
    let withoutMessageId = false;
    for (const r of rows) {
      if (r.message_id) messageIds.add(r.message_id);
      else withoutMessageId = true;
    }
    return { count: rows.length, messageIds, withoutMessageId };
  }

  /** After a UIDVALIDITY change has been fully resynced, or when a folder vanished: drop stale locations. */
  async function dropFolderLocations(mailboxId: string, folder: string, keepUidvalidity: number | null): Promise<number> {
    let removed = 0;
    await db.transaction().execute(async (tx) => {
      let q = tx.deleteFrom('email_locations').where('mailbox_id', '=', mailboxId).where('folder', '=', folder);
      if (keepUidvalidity != null) q = q.where('uidvalidity', '!=', keepUidvalidity);
      const rows = await q.returning('email_id').execute();
      removed = rows.length;
      await markOrphansDeleted(tx, [...new Set(rows.map((r) => r.email_id))]);
    });
    return removed;
  }

  async function updateFlags(mailboxId: string, folder: string, uidvalidity: number, updates: { uid: number; flags: string[] }[]): Promise<number> {
    if (updates.length === 0) return 0;
    let changed = 0;
    await db.transaction().execute(async (tx) => {
      for (const u of updates) {
        const flags = toJson([...u.flags].sort());
        const rows = await tx
          .updateTable('email_locations')
          .set({ flags_json: flags })
          .where('mailbox_id', '=', mailboxId)
          .where('folder', '=', folder)
          .where('uidvalidity', '=', uidvalidity)
          .where('uid', '=', u.uid)
          .where('flags_json', '!=', flags)
          .returning('email_id')
          .execute();
        for (const r of rows) {
          changed++;
          await tx.updateTable('emails').set({ flags_json: flags, updated_at: nowIso() }).where('id', '=', r.email_id).execute();
        }
      }
    });
    return changed;
  }

  /** Purges all stored mail of a mailbox (mailbox removed with "delete mail"). */
  async function purgeMailbox(mailboxId: string): Promise<void> {
    for (;;) {
      const batch = await db.selectFrom('emails').select(['id', 'raw_file_key']).where('mailbox_id', '=', mailboxId).limit(200).execute();
      if (batch.length === 0) break;
      const ids = batch.map((b) => b.id);
      const atts = await db.selectFrom('email_attachments').select('file_key').where('email_id', 'in', ids).execute();
      await db.transaction().execute(async (tx) => {
        for (const t of ['email_links', 'email_participants', 'email_attachments', 'email_locations'] as const) {
          await tx.deleteFrom(t).where('email_id', 'in', ids).execute();
        }
        await tx.deleteFrom('emails').where('id', 'in', ids).execute();
      });
      await deleteFiles([...batch.map((b) => b.raw_file_key).filter((k): k is string => !!k), ...atts.map((a) => a.file_key)]);
    }
    await db.deleteFrom('email_thread_refs').where('mailbox_id', '=', mailboxId).execute();
    await db.deleteFrom('mail_folders').where('mailbox_id', '=', mailboxId).execute();
    await db.deleteFrom('mail_sync_state').where('mailbox_id', '=', mailboxId).execute();
  }

  return { ingest, knownUids, staleLocations, removeLocations, dropFolderLocations, updateFlags, purgeMailbox, linkToCrm, fromJson };
}

export type MailStore = ReturnType<typeof createMailStore>;
