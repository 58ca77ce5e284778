// Contact suggestions from mail (B5 "unknown senders can enrich contacts"): addresses the caller
// corresponds with that match no CRM contact, and creating a contact from one — which also links
// every already-stored email with that address (in mailboxes the caller may read) to it.
import { sql } from 'kysely';
import type { Kysely } from 'kysely';
import type { Database } from '../../schema.js';
import { fromJson, nowIso, type Dialect } from '../../platform/db/index.js';
import { errors } from '../../platform/http/errors.js';
import { decodeCursor, toPage, type Page } from '../../platform/http/paging.js';
import type { MailboxDirectory } from '../mailboxes/types.js';
import type { AuthUser } from '../../platform/http/auth.js';
import type { MailCrmLink } from './store.js';
import type { MailAddress } from './parse.js';

/** CRM calls creating a contact needs (CrmService satisfies it). */
export interface SuggestionCrm extends MailCrmLink {
  createContact?(actor: string, input: unknown): Promise<{ id: string; accountId?: string | null }>;
  canAccess?(user: AuthUser, recordType: 'contact', recordId: string): Promise<boolean>;
}

export interface ContactSuggestion {
  email: string;
  name: string | null;
  messageCount: number;
  lastSeenAt: string;
}

// Suggestions count the people you correspond with; bcc/reply-to are not "seen" in the message.
const SUGGEST_ROLES = ['from', 'to', 'cc'];

export function createContactSuggestions(deps: { db: Kysely<Database>; dialect: Dialect; directory: MailboxDirectory; crm?: SuggestionCrm }) {
  const { db, directory } = deps;

  /** Own addresses: the mailbox addresses (and custom senders) of the mailboxes the user reads. */
  async function ownAddresses(mailboxIds: string[]): Promise<string[]> {
    if (mailboxIds.length === 0) return [];
    const rows = await db.selectFrom('mailboxes').select(['email', 'default_sender']).where('id', 'in', mailboxIds).execute();
    const out = new Set<string>();
    for (const r of rows) {
      out.add(r.email.toLowerCase());
      if (r.default_sender) out.add(r.default_sender.toLowerCase());
    }
    return [...out];
  }

  /**
   * The most recent display name of each address, from its latest few messages — one query per
   * page, in the form each engine plans well (measured with 20k emails / 60k participants):
   * PostgreSQL: a window over the page's addresses; SQLite: a UNION ALL of one index-driven
   * "latest 5 messages of this address" branch per address (the window form took ~0.9 s there,
   * and the branch form ~7 s on PostgreSQL while its statistics lag behind a big first sync).
   */
  async function latestNames(mailboxIds: string[], addresses: string[]): Promise<Map<string, string>> {
    const names = new Map<string, string>();
    if (addresses.length === 0 || mailboxIds.length === 0) return names;
    const base = () =>
      db
        .selectFrom('email_participants as p')
        .innerJoin('emails as e', 'e.id', 'p.email_id')
        .where('p.role', 'in', SUGGEST_ROLES)
        .where('e.mailbox_id', 'in', mailboxIds)
        .where('e.is_deleted', '=', 0);
    type Row = { address: string; date: string; id: string; from_address: string | null; from_name: string | null; to_json: string; cc_json: string };
    let rows: Row[];
    if (deps.dialect === 'postgres') {
      const ranked = base()
        .select(['p.address', 'e.date', 'e.id', 'e.from_address', 'e.from_name', 'e.to_json', 'e.cc_json', sql<number>`row_number() over (partition by p.address order by e.date desc, e.id desc)`.as('rn')])
        .where('p.address', 'in', addresses)
        .as('r');
      rows = await db.selectFrom(ranked).select(['r.address', 'r.date', 'r.id', 'r.from_address', 'r.from_name', 'r.to_json', 'r.cc_json']).where('r.rn', '<=', 5).execute();
    } else {
      const branch = (address: string) =>
        db
          .selectFrom(
            base()
              .select(['p.address', 'e.date', 'e.id', 'e.from_address', 'e.from_name', 'e.to_json', 'e.cc_json'])
              .where('p.address', '=', address)
              .orderBy('e.date', 'desc')
              .orderBy('e.id', 'desc')
              .limit(5)
              .as('x'),
          )
          .selectAll();
      let q = branch(addresses[0]);
      for (const a of addresses.slice(1)) q = q.unionAll(branch(a));
      rows = await q.execute();
    }
    // Newest first overall, so the first name found per address is its most recent one.
    rows.sort((a, b) => (a.date === b.date ? (a.id < b.id ? 1 : -1) : a.date < b.date ? 1 : -1));
    for (const r of rows) {
      if (names.has(r.address)) continue;
      const name = nameIn(r, r.address);
      if (name) names.set(r.address, name);
    }
    return names;
  }

  function nameIn(r: { from_address: string | null; from_name: string | null; to_json: string; cc_json: string }, address: string): string | null {
    if (r.from_address?.toLowerCase() === address && r.from_name?.trim()) return r.from_name.trim();
    for (const list of [r.to_json, r.cc_json]) {
      const found = fromJson<MailAddress[]>(list, []).find((a) => a.address?.toLowerCase() === address && a.name?.trim());
      if (found) return found.name.trim();
    }
    return null;
  }

  async function list(user: AuthUser, query: { limit: number; cursor?: string }): Promise<Page<ContactSuggestion>> {
    const after = decodeCursor(query.cursor);
    const mailboxIds = await directory.readableBy(user.id);
    if (mailboxIds.length === 0) return { items: [], nextCursor: null };
    const own = await ownAddresses(mailboxIds);
    // One grouped query: participants of readable mail minus contacts, own and dismissed addresses;
    // most frequent first, keyset on (count desc, address asc).
    let q = db
      .selectFrom('email_participants as p')
      .innerJoin('emails as e', 'e.id', 'p.email_id')
      .select((eb) => ['p.address', eb.fn.count<number | string>('e.id').distinct().as('cnt'), eb.fn.max('e.date').as('last_seen')])
      .where('e.mailbox_id', 'in', mailboxIds)
      .where('e.is_deleted', '=', 0)
      .where('p.role', 'in', SUGGEST_ROLES)
      .where((eb) => eb.not(eb.exists(eb.selectFrom('contact_emails as ce').select('ce.id').whereRef('ce.email_lower', '=', 'p.address'))))
      .where((eb) =>
        eb.not(eb.exists(eb.selectFrom('mail_suggestion_dismissals as d').select('d.address').where('d.user_id', '=', user.id).whereRef('d.address', '=', 'p.address'))),
      )
      .groupBy('p.address');
    if (own.length) q = q.where('p.address', 'not in', own);
    if (after) {
      const k = Number(after.k);
      // A forged cursor must not reach PostgreSQL's bigint comparison as 1.5 or 1e308 (a 500).
      if (!Number.isSafeInteger(k) || k < 0) throw errors.validation([{ field: 'cursor', message: 'Invalid cursor; use nextCursor from the previous page.' }]);
      q = q.having((eb) => {
        const cnt = eb.fn.count('e.id').distinct();
        return eb.or([eb(cnt, '<', k), eb.and([eb(cnt, '=', k), eb('p.address', '>', after.id)])]);
      });
    }
    const rows = await q
      .orderBy(sql`count(distinct e.id)`, 'desc')
      .orderBy('p.address', 'asc')
      .limit(query.limit + 1)
      .execute();
    const page = toPage(rows, query.limit, (r) => ({ k: Number(r.cnt), id: r.address }));
    const names = await latestNames(mailboxIds, page.items.map((r) => r.address));
    return {
      items: page.items.map((r) => ({ email: r.address, name: names.get(r.address) ?? null, messageCount: Number(r.cnt), lastSeenAt: String(r.last_seen) })),
      nextCursor: page.nextCursor,
    };
  }

  /**
   * Links every stored email (in the given mailboxes) with `address` as a participant to the
   * contact and its account. INSERT … SELECT DISTINCT with ON CONFLICT DO NOTHING: running it
   * again, or racing mail sync's own linking, never duplicates a link. Returns rows inserted.
   */
  async function linkAddress(address: string, mailboxIds: string[], records: { contactId: string; accountId: string | null }): Promise<number> {
    if (mailboxIds.length === 0) return 0;
    let inserted = 0;
    for (const [type, id] of [['contact', records.contactId], ['account', records.accountId]] as const) {
      if (!id) continue;
      const r = await db
        .insertInto('email_links')
        .columns(['email_id', 'record_type', 'record_id'])
        .expression((eb) =>
          eb
            .selectFrom('email_participants as p')
            .innerJoin('emails as e', 'e.id', 'p.email_id')
            .select(['p.email_id', sql.lit(type).as('record_type'), sql<string>`cast(${id} as varchar(36))`.as('record_id')])
            .distinct()
            .where('p.address', '=', address)
            .where('e.mailbox_id', 'in', mailboxIds),
        )
        .onConflict((oc) => oc.doNothing())
        .executeTakeFirst();
      inserted += Number(r.numInsertedOrUpdatedRows ?? 0);
    }
    return inserted;
  }

  async function create(user: AuthUser, input: { email: string; name?: string }): Promise<{ contactId: string; accountId: string | null; linked: number }> {
    const crm = deps.crm;
    if (!crm?.createContact) throw errors.unprocessable('CRM_UNAVAILABLE', 'Contacts cannot be created here.');
    const email = input.email.trim().toLowerCase();
    const existing = await crm.findContactsByEmails([email]);
    for (const m of existing) {
      const visible = crm.canAccess ? await crm.canAccess(user, 'contact', m.contactId) : true;
      if (visible) throw errors.conflict('A contact with this email already exists.', { contactId: m.contactId });
    }
    const mailboxIds = await directory.readableBy(user.id);
    const name = input.name?.trim() || (await latestNames(mailboxIds, [email])).get(email) || email;
    const contact = await crm.createContact(user.id, { name: name.slice(0, 200), emails: [{ email }] });
    const accountId = contact.accountId ?? null;
    const linked = await linkAddress(email, mailboxIds, { contactId: contact.id, accountId });
    return { contactId: contact.id, accountId, linked };
  }

  async function dismiss(user: AuthUser, emailRaw: string): Promise<void> {
    const address = emailRaw.trim().toLowerCase();
    await db
      .insertInto('mail_suggestion_dismissals')
      .values({ user_id: user.id, address, created_at: nowIso() })
      .onConflict((oc) => oc.columns(['user_id', 'address']).doNothing())
      .execute();
  }

  /**
   * For the reading view: which of these addresses already belong to a contact the caller can see,
   * and which are the caller's own (no "Add to contacts" next to either). At most 50 addresses.
   */
  async function lookup(user: AuthUser, emailsRaw: string[]): Promise<{ email: string; contactId: string | null; own: boolean }[]> {
    const emails = [...new Set(emailsRaw.map((e) => e.trim().toLowerCase()).filter(Boolean))].slice(0, 50);
    if (emails.length === 0) return [];
    const own = new Set(await ownAddresses(await directory.readableBy(user.id)));
    const matches = deps.crm ? await deps.crm.findContactsByEmails(emails) : [];
    const found = new Map<string, string>();
    for (const m of matches) {
      if (found.has(m.email)) continue;
      if (!deps.crm?.canAccess || (await deps.crm.canAccess(user, 'contact', m.contactId))) found.set(m.email, m.contactId);
    }
    return emails.map((email) => ({ email, contactId: found.get(email) ?? null, own: own.has(email) }));
  }

  return { list, create, dismiss, linkAddress, lookup };
}

export type ContactSuggestions = ReturnType<typeof createContactSuggestions>;
