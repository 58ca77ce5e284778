// Contacts: several emails and phones each, an account, a type, an owner; plus the hot email
// lookup used by mail sync and the channel identities used by chat.
import { sql, type SqlBool } from 'kysely';
import { containsCi, isUniqueViolation, newId, nowIso, fromBool, toBool } from '../../platform/db/index.js';
import { errors } from '../../platform/http/errors.js';
import { decodeCursor, toPage, type Page } from '../../platform/http/paging.js';
import type { CrmContactsTable } from './tables.js';
import { accessFilter, type AccessUser } from './access.js';
import {
  assertUsers,
  assertVisibleRecords,
  deleteRecordLinks,
  diffFields,
  loadApplicableTags,
  notFound,
  phoneDigits,
  recordEvent,
  requireAccess,
  taggedWith,
  inGroups,
  setRecordTags,
  tagsOf,
  withPrimary,
  type CrmContext,
} from './context.js';
import {
  contactCreate,
  contactPatch,
  parseInput,
  requiredText,
  toUtc,
  type ContactView,
  type EmailInput,
  type PhoneInput,
} from './schemas.js';
import type { DB } from '../../schema.js';
import { z } from 'zod';

export interface ContactListQuery {
  q?: string;
  email?: string;
  accountId?: string;
  type?: string;
  /** Any of these types (C3: employees and/or customers). */
  types?: string[];
  tagId?: string;
  /** Members of any of these groups (C3/A2 exports by group). */
  groupIds?: string[];
  /** Changed after this instant (delta sync). */
  updatedSince?: string;
  ownerId?: string;
  limit: number;
  cursor?: string;
}

export interface WriteOptions {
  /**
   * Link an account the acting user cannot see. Only for syncs that chose it by a rule of their
   * own — C2 links an imported contact to the one account with its company name, visible or not.
   */
  anyAccount?: boolean;
}

export interface EmailMatch {
  email: string;
  contactId: string;
  accountId: string | null;
}

export interface ChannelContactInput {
  channel: 'telegram' | 'facebook';
  externalId: string;
  name: string;
  username?: string | null;
  ownerId?: string | null;
  /** The name this identity had before (e.g. the customer's previous Telegram name): see findOrCreateByChannel. */
  previousName?: string | null;
}

const channelInput = z.object({
  channel: z.enum(['telegram', 'facebook']),
  externalId: requiredText(200),
  // Names and usernames come from strangers on Telegram/Facebook: cleaned, never refused.
  name: z.string().max(10_000),
  username: z.string().max(10_000).nullable().optional(),
  ownerId: z.string().uuid().nullable().optional(),
  previousName: z.string().max(10_000).nullable().optional(),
});

/** Caller used for system lookups (other modules without a user): sees no personal tags. */
const NOBODY: AccessUser = { id: '', roleIds: [], operations: [] };

// Large IN lists are split so no single statement exceeds the drivers' parameter limits
// (SQLite 32766, PostgreSQL 65535); anything a mail sync batch sends fits in one query.
const EMAIL_LOOKUP_CHUNK = 5000;

export function createContactsService(ctx: CrmContext) {
  const { db } = ctx;

  async function views(user: AccessUser, rows: CrmContactsTable[]): Promise<ContactView[]> {
    if (rows.length === 0) return [];
    const ids = rows.map((r) => r.id);
    const [emails, phones, tags] = await Promise.all([
      db.selectFrom('contact_emails').selectAll().where('contact_id', 'in', ids).orderBy('position').execute(),
      db.selectFrom('contact_phones').selectAll().where('contact_id', 'in', ids).orderBy('position').execute(),
      tagsOf(db, user, 'contact', ids),
    ]);
    return rows.map((r) => ({
      id: r.id,
      name: r.name,
      emails: emails.filter((e) => e.contact_id === r.id).map((e) => ({ email: e.email, label: e.label, isPrimary: fromBool(e.is_primary) })),
      phones: phones.filter((p) => p.contact_id === r.id).map((p) => ({ phone: p.phone, label: p.label, isPrimary: fromBool(p.is_primary) })),
      accountId: r.account_id,
      jobTitle: r.job_title,
      type: r.type as ContactView['type'],
      ownerId: r.owner_id,
      notes: r.notes,
      tags: tags.get(r.id) ?? [],
      createdAt: r.created_at,
      updatedAt: r.updated_at,
    }));
  }

  async function get(id: string, user?: AccessUser): Promise<ContactView> {
    if (user) await requireAccess(ctx, user, 'contact', id);
    return present(id, user);
  }

  /** The record as `user` sees it, without the access check: right after the user wrote it, even
   * when the write handed it to another owner (the writer must still get the result). */
  async function present(id: string, user?: AccessUser): Promise<ContactView> {
    const row = await db.selectFrom('crm_contacts').selectAll().where('id', '=', id).executeTakeFirst();
    if (!row) throw notFound('contact', id);
    return (await views(user?.id ? user : NOBODY, [row]))[0];
  }

  function normalizeEmails(list: EmailInput[]) {
    const seen = new Set<string>();
    for (const e of list) {
      const lower = e.email.toLowerCase();
      if (seen.has(lower)) throw errors.validation([{ field: 'emails', message: `Duplicate email ${e.email}` }]);
      seen.add(lower);
    }
    return withPrimary(list, 'emails');
  }

  async function writeEmails(trx: DB, contactId: string, list: (EmailInput & { isPrimary: boolean })[]) {
    await trx.deleteFrom('contact_emails').where('contact_id', '=', contactId).execute();
    if (list.length === 0) return;
    await trx
      .insertInto('contact_emails')
      .values(
        list.map((e, i) => ({
          id: newId(),
          contact_id: contactId,
          email: e.email,
          email_lower: e.email.toLowerCase(),
          label: e.label ?? null,
          is_primary: toBool(e.isPrimary),
          position: i,
        })),
      )
      .execute();
  }

  async function writePhones(trx: DB, contactId: string, list: (PhoneInput & { isPrimary: boolean })[]) {
    await trx.deleteFrom('contact_phones').where('contact_id', '=', contactId).execute();
    if (list.length === 0) return;
    await trx
      .insertInto('contact_phones')
      .values(
        list.map((p, i) => ({
          id: newId(),
          contact_id: contactId,
          phone: p.phone,
          phone_digits: phoneDigits(p.phone),
          label: p.label ?? null,
          is_primary: toBool(p.isPrimary),
          position: i,
        })),
      )
      .execute();
  }

  async function create(user: AccessUser, raw: unknown, opts: WriteOptions = {}, extra?: (trx: DB, contactId: string) => Promise<void>): Promise<ContactView> {
    const input = parseInput(contactCreate, raw);
    if (input.accountId) await assertVisibleRecords(db, user, 'account', [input.accountId], 'accountId', opts.anyAccount);
    if (input.ownerId) await assertUsers(db, [input.ownerId], 'ownerId');
    const tags = await loadApplicableTags(db, user, input.tagIds ?? []);
    const emails = normalizeEmails(input.emails ?? []);
    const phones = withPrimary(input.phones ?? [], 'phones');
    const id = newId();
    const now = nowIso();
    await db.transaction().execute(async (trx) => {
      await trx
        .insertInto('crm_contacts')
        .values({
          id,
          name: input.name,
          name_lower: input.name.toLowerCase(),
          account_id: input.accountId ?? null,
          job_title: input.jobTitle ?? null,
          type: input.type ?? 'other',
          notes: input.notes ?? null,
          owner_id: input.ownerId ?? user.id,
          created_by: user.id || null,
          created_at: now,
          updated_at: now,
        })
        .execute();
      await writeEmails(trx, id, emails);
      await writePhones(trx, id, phones);
      await setRecordTags(trx, user, 'contact', id, tags);
      await recordEvent(trx, 'contact', id, 'created', user.id || null, { name: input.name });
      if (extra) await extra(trx, id);
    });
    return present(id, user);
  }

  async function update(user: AccessUser, id: string, raw: unknown, opts: WriteOptions = {}): Promise<ContactView> {
    const patch = parseInput(contactPatch, raw);
    await requireAccess(ctx, user, 'contact', id, patch.ownerId !== undefined ? 'owner' : 'edit');
    const before = await db.selectFrom('crm_contacts').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
    if (patch.accountId) await assertVisibleRecords(db, user, 'account', [patch.accountId], 'accountId', opts.anyAccount);
    if (patch.ownerId) await assertUsers(db, [patch.ownerId], 'ownerId');
    const tags = patch.tagIds ? await loadApplicableTags(db, user, patch.tagIds) : null;
    const emails = patch.emails ? normalizeEmails(patch.emails) : null;
    const phones = patch.phones ? withPrimary(patch.phones, 'phones') : null;
    const beforeView = (await views(user, [before]))[0];
    await db.transaction().execute(async (trx) => {
      const set: Partial<CrmContactsTable> = { updated_at: nowIso() };
      if (patch.name !== undefined) Object.assign(set, { name: patch.name, name_lower: patch.name.toLowerCase() });
      if (patch.accountId !== undefined) set.account_id = patch.accountId;
      if (patch.jobTitle !== undefined) set.job_title = patch.jobTitle;
      if (patch.type !== undefined) set.type = patch.type;
      if (patch.notes !== undefined) set.notes = patch.notes;
      if (patch.ownerId !== undefined) set.owner_id = patch.ownerId;
      await trx.updateTable('crm_contacts').set(set).where('id', '=', id).execute();
      if (emails) await writeEmails(trx, id, emails);
      if (phones) await writePhones(trx, id, phones);
      if (tags) await setRecordTags(trx, user, 'contact', id, tags);
      const changes = diffFields(
        { name: before.name, accountId: before.account_id, jobTitle: before.job_title, type: before.type, notes: before.notes, ownerId: before.owner_id, emails: beforeView.emails.map((e) => e.email), phones: beforeView.phones.map((p) => p.phone) },
        { name: patch.name, accountId: patch.accountId, jobTitle: patch.jobTitle, type: patch.type, notes: patch.notes, ownerId: patch.ownerId, emails: emails?.map((e) => e.email), phones: phones?.map((p) => p.phone) },
        ['notes'],
      );
      if (changes.length) await recordEvent(trx, 'contact', id, 'updated', user.id, { changes });
    });
    return present(id, user);
  }

  async function remove(user: AccessUser, id: string) {
    await requireAccess(ctx, user, 'contact', id, 'edit');
    await db.transaction().execute(async (trx) => {
      await deleteRecordLinks(trx, 'contact', id, user.id);
      await trx.deleteFrom('activity_participants').where('participant_type', '=', 'contact').where('participant_id', '=', id).execute();
      await trx.deleteFrom('crm_contacts').where('id', '=', id).execute();
    });
  }

  async function list(user: AccessUser, query: ContactListQuery): Promise<Page<ContactView>> {
    const after = decodeCursor(query.cursor);
    let q = db
      .selectFrom('crm_contacts')
      .selectAll('crm_contacts')
      .where(accessFilter(user, 'contact', { id: 'crm_contacts.id', owner: 'crm_contacts.owner_id' }))
      .orderBy('crm_contacts.name_lower')
      .orderBy('crm_contacts.id')
      .limit(query.limit + 1);
    if (after) q = q.where((eb) => eb(eb.refTuple('crm_contacts.name_lower', 'crm_contacts.id'), '>', eb.tuple(String(after.k), after.id)));
    if (query.email) {
      const email = query.email.trim().toLowerCase();
      q = q.where('crm_contacts.id', 'in', (eb) => eb.selectFrom('contact_emails').select('contact_id').where('email_lower', '=', email));
    }
    if (query.accountId) q = q.where('crm_contacts.account_id', '=', query.accountId);
    if (query.type) q = q.where('crm_contacts.type', '=', query.type);
    if (query.types) q = query.types.length ? q.where('crm_contacts.type', 'in', query.types) : q.where(sql<SqlBool>`1 = 0`);
    if (query.ownerId) q = q.where('crm_contacts.owner_id', '=', query.ownerId);
    if (query.tagId) q = q.where(taggedWith(user, 'contact', query.tagId, 'crm_contacts.id'));
    if (query.groupIds) q = q.where(inGroups(user, query.groupIds, 'crm_contacts.id'));
    if (query.updatedSince) q = q.where('crm_contacts.updated_at', '>', toUtc(query.updatedSince));
    if (query.q) {
      const text = query.q.trim();
      const digits = phoneDigits(text);
      q = q.where((eb) =>
        eb.or([
          containsCi('crm_contacts.name_lower', text),
          eb('crm_contacts.id', 'in', eb.selectFrom('contact_emails').select('contact_id').where(containsCi('contact_emails.email_lower', text))),
          ...(digits.length >= 3
            ? [eb('crm_contacts.id', 'in', eb.selectFrom('contact_phones').select('contact_id').where(containsCi('contact_phones.phone_digits', digits)))]
            : []),
        ]),
      );
    }
    const rows = await q.execute();
    const page = toPage(rows, query.limit, (r) => ({ k: r.name_lower, id: r.id }));
    return { items: await views(user, page.items), nextCursor: page.nextCursor };
  }

  /** Mail sync's hot path: every address → the contacts holding it, in one indexed query. */
  async function findContactsByEmails(emails: string[]): Promise<EmailMatch[]> {
    const wanted = [...new Set(emails.map((e) => e.trim().toLowerCase()).filter((e) => e.length > 0 && e.length <= 320))];
    const out: EmailMatch[] = [];
    for (let i = 0; i < wanted.length; i += EMAIL_LOOKUP_CHUNK) {
      const chunk = wanted.slice(i, i + EMAIL_LOOKUP_CHUNK);
      const rows = await db
        .selectFrom('contact_emails')
        .innerJoin('crm_contacts', 'crm_contacts.id', 'contact_emails.contact_id')
        .select(['contact_emails.email_lower as email', 'contact_emails.contact_id as contactId', 'crm_contacts.account_id as accountId'])
        .where('contact_emails.email_lower', 'in', chunk)
        .execute();
      out.push(...rows);
    }
    return out;
  }

  async function contactIdByChannel(channel: string, externalId: string) {
    return (await channelIdentity(channel, externalId))?.contact_id ?? null;
  }

  function channelIdentity(channel: string, externalId: string) {
    return db.selectFrom('contact_channels').select(['contact_id', 'username']).where('channel', '=', channel).where('external_id', '=', externalId).executeTakeFirst();
  }

  /**
   * The contact behind a Telegram/Facebook identity, created on first contact. Duplicate webhook
   * deliveries race here: the (channel, external_id) primary key lets exactly one insert win; the
   * losers' transactions roll back (taking their half-made contact with them) and re-read the winner.
   */
  async function findOrCreateByChannel(raw: ChannelContactInput): Promise<{ contact: ContactView; created: boolean }> {
    const input = parseInput(channelInput, raw);
    const clean = (v: string | null | undefined) => (v ?? '').replace(/[\u0000-\u001f\u007f]+/g, ' ').trim();
    const username = clean(input.username).slice(0, 200) || null;
    const name = (clean(input.name) || username || `${input.channel} ${input.externalId}`).slice(0, 200).trim();
    const existing = await channelIdentity(input.channel, input.externalId);
    if (existing) {
      await followRename(existing.contact_id, input.channel, input.externalId, existing.username, username, name, clean(input.previousName).slice(0, 200).trim());
      return { contact: await get(existing.contact_id), created: false };
    }
    const ownerId = input.ownerId ?? (await defaultOwnerId());
    const owner: AccessUser = { id: ownerId, roleIds: [], operations: [] };
    try {
      const contact = await create(owner, { name, type: 'customer', ownerId }, {}, async (trx, contactId) => {
        await trx
          .insertInto('contact_channels')
          .values({ channel: input.channel, external_id: input.externalId, contact_id: contactId, username, created_at: nowIso() })
          .execute();
      });
      return { contact, created: true };
    } catch (e) {
      if (!isUniqueViolation(e)) throw e;
      const winner = await contactIdByChannel(input.channel, input.externalId);
      if (!winner) throw e;
      return { contact: await get(winner), created: false };
    }
  }

  /**
   * The customer changed their username or name in the channel: the identity keeps the current
   * username; the contact takes the new name only while it still carries the previous channel
   * name (a name somebody typed in the CRM wins).
   */
  async function followRename(contactId: string, channel: string, externalId: string, oldUsername: string | null, username: string | null, name: string, previousName: string) {
    if (oldUsername !== username) {
      await db.updateTable('contact_channels').set({ username }).where('channel', '=', channel).where('external_id', '=', externalId).execute();
    }
    if (!previousName || previousName === name) return;
    await db.transaction().execute(async (trx) => {
      const upd = await trx
        .updateTable('crm_contacts')
        .set({ name, name_lower: name.toLowerCase(), updated_at: nowIso() })
        .where('id', '=', contactId)
        .where('name', '=', previousName)
        .executeTakeFirst();
      if (Number(upd.numUpdatedRows) === 1) await recordEvent(trx, 'contact', contactId, 'updated', null, { changes: [{ field: 'name', from: previousName, to: name }] });
    });
  }

  /** Owner for contacts created by machines without one: the earliest administrator. */
  async function defaultOwnerId(): Promise<string> {
    const row = await db
      .selectFrom('users')
      .innerJoin('user_roles', 'user_roles.user_id', 'users.id')
      .innerJoin('operation_grants', 'operation_grants.role_id', 'user_roles.role_id')
      .select('users.id')
      .where('operation_grants.operation', '=', 'CanManageAdministration')
      .where('users.is_active', '=', 1)
      .orderBy('users.created_at')
      .limit(1)
      .executeTakeFirst();
    if (row) return row.id;
    const any = await db.selectFrom('users').select('id').where('is_active', '=', 1).orderBy('created_at').limit(1).executeTakeFirst();
    if (!any) throw errors.unprocessable('NO_OWNER', 'No user exists to own the new contact.');
    return any.id;
  }

  return { views, get, create, update, remove, list, findContactsByEmails, findOrCreateByChannel, defaultOwnerId };
}

export type ContactsService = ReturnType<typeof createContactsService>;
