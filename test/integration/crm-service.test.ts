// CRM core at the service level on both dialects: record access (P5), tag visibility, the hot
// email lookup, channel-contact idempotency under concurrency, case numbering, timeline merging.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { KyselyPlugin } from 'kysely';
import { createIdentityService, type IdentityService } from '../../src/modules/identity/index.js';
import { createCrmService, type AccessUser, type CrmService, type TimelineSource } from '../../src/modules/crm/index.js';
import { createTestDb, dialects, type TestDb } from '../helpers/db.js';

const DIALECTS = await dialects();

describe.each(DIALECTS)('CRM service on %s', (dialect) => {
  let t: TestDb;
  let identity: IdentityService;
  let crm: CrmService;
  let admin: AccessUser;
  let alice: AccessUser;
  let bob: AccessUser;
  let carol: AccessUser;
  let salesRoleId: string;

  beforeAll(async () => {
    t = await createTestDb(dialect);
    identity = createIdentityService(t.db);
    crm = createCrmService({ db: t.db, dialect, identity });
    const a = await identity.createAdmin('admin@example.test', 'admin-password-1');
    // Nested roles: bob is in "EU Sales", which is contained in "Sales"; a share with "Sales" reaches bob.
    const sales = await identity.createRole({ name: 'Sales' });
    const euSales = await identity.createRole({ name: 'EU Sales' });
    await identity.updateRole(sales.id, { childRoleIds: [euSales.id] });
    salesRoleId = sales.id;
    const al = await identity.createUser({ email: 'alice@example.test', name: 'Alice' });
    const bo = await identity.createUser({ email: 'bob@example.test', name: 'Bob', roleIds: [euSales.id] });
    const ca = await identity.createUser({ email: 'carol@example.test', name: 'Carol' });
    admin = await crm.accessUser(a.id);
    alice = await crm.accessUser(al.id);
    bob = await crm.accessUser(bo.id);
    carol = await crm.accessUser(ca.id);
  });
  afterAll(async () => {
    await t?.destroy();
  });

  it('shows a record to its owner, to users and roles it is shared with, and to administrators only', async () => {
    const c = await crm.createContact(alice, { name: 'Zed Private', emails: [{ email: 'zed@corp.test' }] });
    expect(c.ownerId).toBe(alice.id);
    const names = async (u: AccessUser) => (await crm.listContacts(u, { q: 'Zed Private', limit: 50 })).items.map((x) => x.id);

    expect(await names(alice)).toEqual([c.id]);
    expect(await names(admin)).toEqual([c.id]);
    expect(await names(bob)).toEqual([]);
    expect(await names(carol)).toEqual([]);
    await expect(crm.getContact(c.id, bob)).rejects.toMatchObject({ statusCode: 404 });
    await expect(crm.updateContact(bob, c.id, { name: 'Hacked' })).rejects.toMatchObject({ statusCode: 404 });

    // Shared read with a parent role: bob (member through the nested role) reads but may not edit.
    await crm.setShares(alice, 'contact', c.id, { shares: [{ roleId: salesRoleId, access: 'read' }] });
    expect(await names(bob)).toEqual([c.id]);
    expect((await crm.getContact(c.id, bob)).name).toBe('Zed Private');
    await expect(crm.updateContact(bob, c.id, { name: 'Hacked' })).rejects.toMatchObject({ statusCode: 403 });
    await expect(crm.setShares(bob, 'contact', c.id, { shares: [] })).rejects.toMatchObject({ statusCode: 403 });
    expect(await names(carol)).toEqual([]);

    // Edit share for carol directly.
    await crm.setShares(alice, 'contact', c.id, { shares: [{ roleId: salesRoleId, access: 'read' }, { userId: carol.id, access: 'edit' }] });
    expect((await crm.updateContact(carol, c.id, { jobTitle: 'CTO' })).jobTitle).toBe('CTO');
    expect(await crm.canAccess(carol, 'contact', c.id, 'edit')).toBe(true);
    expect(await crm.canAccess(bob, 'contact', c.id, 'edit')).toBe(false);
    expect(await crm.canAccess(bob, 'contact', c.id, 'read')).toBe(true);
    // Only the owner (or an administrator) hands the record to someone else.
    await expect(crm.updateContact(carol, c.id, { ownerId: carol.id })).rejects.toMatchObject({ statusCode: 403 });

    // Handing a record to someone else succeeds and returns it; afterwards the new owner has it.
    const handed = await crm.createContact(alice, { name: 'Handed Over', ownerId: bob.id });
    expect(handed.ownerId).toBe(bob.id);
    await expect(crm.getContact(handed.id, alice)).rejects.toMatchObject({ statusCode: 404 });
    expect((await crm.updateContact(bob, handed.id, { ownerId: carol.id })).ownerId).toBe(carol.id);
    expect((await crm.getContact(handed.id, carol)).name).toBe('Handed Over');

    // Unsharing takes the access away again.
    await crm.setShares(alice, 'contact', c.id, { shares: [] });
    expect(await names(bob)).toEqual([]);
    expect(await names(carol)).toEqual([]);
    expect(await crm.getShares(admin, 'contact', c.id)).toEqual([]);
  });

  it('validates references: unknown or invisible ids are 400 naming the field', async () => {
    const acc = await crm.createAccount(alice, { name: 'Alice Co' });
    await expect(crm.createContact(bob, { name: 'X', accountId: acc.id })).rejects.toMatchObject({
      statusCode: 400,
      details: { fields: [expect.objectContaining({ field: 'accountId' })] },
    });
    await expect(crm.createContact(alice, { name: 'X', emails: [{ email: 'not-an-email' }] })).rejects.toMatchObject({ statusCode: 400 });
    await expect(crm.createActivity(alice, { title: 'M', start: '2026-01-02T10:00:00Z', end: '2026-01-02T09:00:00Z' })).rejects.toMatchObject({
      statusCode: 400,
      details: { fields: [expect.objectContaining({ field: 'end' })] },
    });
    const ok = await crm.createContact(alice, { name: 'Y', accountId: acc.id });
    expect(ok.accountId).toBe(acc.id);
  });

  it('keeps personal tags visible to their owner only; corporate tags are for administrators to create', async () => {
    const personal = await crm.createTag(alice, { name: 'VIP', scope: 'personal' });
    const pub = await crm.createTag(alice, { name: 'Newsletter', scope: 'public' });
    await expect(crm.createTag(alice, { name: 'Key account', scope: 'corporate' })).rejects.toMatchObject({ statusCode: 403, details: { operation: 'CanManageAdministration' } });
    const corp = await crm.createTag(admin, { name: 'Key account', scope: 'corporate' });
    // Same personal name for another user is fine; duplicates in one scope are 409 (case-insensitive).
    await crm.createTag(bob, { name: 'vip', scope: 'personal' });
    await expect(crm.createTag(alice, { name: 'vip', scope: 'personal' })).rejects.toMatchObject({ statusCode: 409 });
    await expect(crm.createTag(bob, { name: 'NEWSLETTER', scope: 'public' })).rejects.toMatchObject({ statusCode: 409 });

    const c = await crm.createContact(alice, { name: 'Tagged One', tagIds: [personal.id, pub.id, corp.id] });
    expect(c.tags.map((x) => x.name).sort()).toEqual(['Key account', 'Newsletter', 'VIP']);
    await crm.setShares(alice, 'contact', c.id, { shares: [{ userId: bob.id, access: 'edit' }] });

    const seenByBob = await crm.getContact(c.id, bob);
    expect(seenByBob.tags.map((x) => x.name).sort()).toEqual(['Key account', 'Newsletter']);
    // Administrators do not see other users' personal tags either.
    expect((await crm.getContact(c.id, admin)).tags.map((x) => x.id)).not.toContain(personal.id);
    expect((await crm.listTags(bob, { limit: 500 })).items.map((x) => x.id)).not.toContain(personal.id);
    await expect(crm.getTag(bob, personal.id)).rejects.toMatchObject({ statusCode: 404 });
    // Bob cannot apply Alice's personal tag, nor filter by it to learn which records carry it.
    await expect(crm.updateContact(bob, c.id, { tagIds: [personal.id] })).rejects.toMatchObject({ statusCode: 400 });
    // Bob replaces the tags he sees; Alice's personal tag stays.
    await crm.updateContact(bob, c.id, { tagIds: [corp.id] });
    expect((await crm.getContact(c.id, alice)).tags.map((x) => x.name).sort()).toEqual(['Key account', 'VIP']);
    // Non-admins cannot rename corporate tags; the public tag's creator can rename it.
    await expect(crm.updateTag(bob, corp.id, { name: 'x' })).rejects.toMatchObject({ statusCode: 403 });
    await expect(crm.updateTag(bob, pub.id, { name: 'x' })).rejects.toMatchObject({ statusCode: 403 });
    expect((await crm.updateTag(alice, pub.id, { name: 'Newsletter 2' })).name).toBe('Newsletter 2');
    // Personal tag events never reach the shared timeline.
    const tl = await crm.timeline(bob, 'contact', c.id, { limit: 100 });
    expect(JSON.stringify(tl.items)).not.toContain('VIP');
    expect(tl.items.some((i) => i.kind === 'tag-added' && i.data.name === 'Key account')).toBe(true);
  });

  it('finds contacts by many email addresses, case-insensitively, in one query', async () => {
    const acc = await crm.createAccount(alice, { name: 'Lookup Inc' });
    const a = await crm.createContact(alice, {
      name: 'Multi Mail',
      accountId: acc.id,
      emails: [
        { email: 'Multi.Mail@Example.COM', label: 'work', isPrimary: true },
        { email: 'multi@home.test', label: 'home' },
      ],
    });
    const b = await crm.createContact(bob, { name: 'Other', emails: [{ email: 'other@example.com' }] });
    expect(a.emails).toEqual([
      { email: 'Multi.Mail@Example.COM', label: 'work', isPrimary: true },
      { email: 'multi@home.test', label: 'home', isPrimary: false },
    ]);

    let queries = 0;
    const counting: KyselyPlugin = {
      transformQuery(args) {
        queries++;
        return args.node;
      },
      async transformResult(args) {
        return args.result;
      },
    };
    const counted = createCrmService({ db: t.db.withPlugin(counting), dialect, identity });
    const asked = ['MULTI.MAIL@example.com', ' multi@HOME.test ', 'OTHER@example.com', 'nobody@nowhere.test'];
    for (let i = 0; i < 1500; i++) asked.push(`stranger${i}@example.net`);
    const found = await counted.findContactsByEmails(asked);
    expect(queries).toBe(1);
    expect(found).toHaveLength(3);
    expect(found).toEqual(
      expect.arrayContaining([
        { email: 'multi.mail@example.com', contactId: a.id, accountId: acc.id },
        { email: 'multi@home.test', contactId: a.id, accountId: acc.id },
        { email: 'other@example.com', contactId: b.id, accountId: null },
      ]),
    );
    // The list lookup respects access: bob's contact is not alice's to see.
    expect((await crm.listContacts(alice, { email: 'OTHER@example.com', limit: 10 })).items).toEqual([]);
    expect((await crm.listContacts(bob, { email: 'OTHER@example.com', limit: 10 })).items.map((x) => x.id)).toEqual([b.id]);
    // Changing the emails re-indexes them.
    await crm.updateContact(alice, a.id, { emails: [{ email: 'new@example.org' }] });
    expect(await crm.findContactsByEmails(['multi@home.test'])).toEqual([]);
    expect((await crm.findContactsByEmails(['NEW@example.org'])).map((x) => x.contactId)).toEqual([a.id]);
  });

  it('creates exactly one contact for 20 concurrent deliveries of the same channel identity', async () => {
    const results = await Promise.all(
      Array.from({ length: 20 }, () => crm.findOrCreateContactByChannel({ channel: 'telegram', externalId: '987654321', name: 'Tg User', username: 'tguser', ownerId: alice.id })),
    );
    const ids = new Set(results.map((r) => r.contact.id));
    expect(ids.size).toBe(1);
    expect(results.filter((r) => r.created)).toHaveLength(1);
    const rows = await t.db.selectFrom('crm_contacts').select('id').where('name', '=', 'Tg User').execute();
    expect(rows).toHaveLength(1);
    // Same id on another channel is another person.
    const fb = await crm.findOrCreateContactByChannel({ channel: 'facebook', externalId: '987654321', name: 'Fb User' });
    expect(fb.created).toBe(true);
    expect(fb.contact.id).not.toBe(results[0].contact.id);
    expect(fb.contact.ownerId).toBe(admin.id);
    // Strangers' names are cleaned, never refused: a webhook must not fail forever on one.
    const odd = await crm.findOrCreateContactByChannel({ channel: 'telegram', externalId: '555', name: ' \u0000\u0007 ', username: 'odd\u0000user', ownerId: alice.id });
    expect(odd.contact.name).toBe('odd user');
    const long = await crm.findOrCreateContactByChannel({ channel: 'telegram', externalId: '556', name: 'n'.repeat(5000), ownerId: alice.id });
    expect(long.contact.name).toHaveLength(200);
  });

  it('numbers cases sequentially even when created concurrently', async () => {
    const created = await Promise.all(Array.from({ length: 10 }, (_, i) => crm.createCase(alice, { subject: `Case ${i}` })));
    const numbers = created.map((c) => c.number).sort((x, y) => x - y);
    expect(new Set(numbers).size).toBe(10);
    expect(numbers[9] - numbers[0]).toBe(9);
    const listed = await crm.listCases(alice, { limit: 4 });
    expect(listed.items.map((c) => c.number)).toEqual([numbers[9], numbers[8], numbers[7], numbers[6]]);
    const next = await crm.listCases(alice, { limit: 4, cursor: listed.nextCursor! });
    expect(next.items[0].number).toBe(numbers[5]);
    const changed = await crm.updateCase(alice, created[0].id, { status: 'closed' });
    expect(changed.closedAt).not.toBeNull();
  });

  it('merges timeline sources newest first and pages through them without gaps or repeats', async () => {
    const c = await crm.createContact(alice, { name: 'Timeline Person' });
    await crm.updateContact(alice, c.id, { jobTitle: 'Engineer' });
    await crm.updateContact(alice, c.id, { type: 'customer' });
    // A fake "mail" source with entries around the CRM's own events, including a tie in time.
    const own = await crm.timeline(alice, 'contact', c.id, { limit: 100 });
    expect(own.items.map((i) => i.kind)).toEqual(['updated', 'updated', 'created']);
    const created = own.items[2].at;
    const fake: TimelineEntryLike[] = [
      { id: 'm1', at: '2000-01-01T00:00:00.000Z', kind: 'email', title: 'old mail' },
      { id: 'm2', at: created, kind: 'email', title: 'same-time mail' },
      { id: 'm3', at: '2999-01-01T00:00:00.000Z', kind: 'email', title: 'future mail' },
      { id: 'm4', at: '2999-01-01T00:00:00.000Z', kind: 'email', title: 'future mail 2' },
    ];
    const source: TimelineSource = {
      name: 'mail',
      async list(type, id, _user, { limit, before }) {
        if (type !== 'contact' || id !== c.id) return [];
        return fake
          .filter((e) => !before || e.at < before.at || (e.at === before.at && e.id < before.id))
          .sort((x, y) => (x.at === y.at ? (x.id < y.id ? 1 : -1) : x.at < y.at ? 1 : -1))
          .slice(0, limit);
      },
    };
    crm.registerTimelineSource(source);
    expect(() => crm.registerTimelineSource(source)).toThrow();

    const all: { id: string; at: string }[] = [];
    let cursor: string | undefined;
    for (let guard = 0; guard < 10; guard++) {
      const page = await crm.timeline(alice, 'contact', c.id, { limit: 2, cursor });
      all.push(...page.items);
      if (!page.nextCursor) break;
      cursor = page.nextCursor;
    }
    expect(all).toHaveLength(7);
    expect(new Set(all.map((i) => i.id)).size).toBe(7);
    const ats = all.map((i) => i.at);
    expect([...ats].sort().reverse()).toEqual(ats);
    expect(all[0].id).toBe('mail:m4');
    expect(all[6].id).toBe('mail:m1');
    // Invisible record → 404 before any source is asked.
    await expect(crm.timeline(carol, 'contact', c.id, { limit: 10 })).rejects.toMatchObject({ statusCode: 404 });
  });

  it('tags and untags one record at a time, idempotently, and never leaks personal tags through filters', async () => {
    const mine = await crm.createTag(bob, { name: 'bob-sync', scope: 'personal' });
    const pub = await crm.createTag(bob, { name: 'single-public', scope: 'public' });
    const c = await crm.createContact(alice, { name: 'Single Tag Target' });
    await crm.setShares(alice, 'contact', c.id, { shares: [{ userId: bob.id, access: 'read' }] });
    // A personal tag is the user's own note: read access is enough; a public tag changes the record: edit needed.
    await crm.tagRecord(bob, 'contact', c.id, mine.id);
    await crm.tagRecord(bob, 'contact', c.id, mine.id);
    await expect(crm.tagRecord(bob, 'contact', c.id, pub.id)).rejects.toMatchObject({ statusCode: 403 });
    await expect(crm.tagRecord(alice, 'contact', c.id, mine.id)).rejects.toMatchObject({ statusCode: 404 });
    expect((await crm.getContact(c.id, bob)).tags.map((x) => x.id)).toEqual([mine.id]);
    expect((await crm.getContact(c.id, alice)).tags).toEqual([]);
    const links = await t.db.selectFrom('record_tags').selectAll().where('record_id', '=', c.id).execute();
    expect(links).toHaveLength(1);
    // Filtering by someone else's personal tag finds nothing, even on records one can see.
    expect((await crm.listContacts(bob, { tagId: mine.id, limit: 10 })).items.map((x) => x.id)).toEqual([c.id]);
    expect((await crm.listContacts(alice, { tagId: mine.id, limit: 10 })).items).toEqual([]);
    expect((await crm.listContacts(admin, { tagId: mine.id, limit: 10 })).items).toEqual([]);
    await crm.untagRecord(bob, 'contact', c.id, mine.id);
    await crm.untagRecord(bob, 'contact', c.id, mine.id);
    expect((await crm.getContact(c.id, bob)).tags).toEqual([]);
    await crm.tagRecord(alice, 'contact', c.id, pub.id);
    const tl = await crm.timeline(alice, 'contact', c.id, { limit: 50 });
    expect(tl.items.filter((i) => i.kind === 'tag-added')).toHaveLength(1);
    expect(JSON.stringify(tl.items)).not.toContain('bob-sync');
  });

  it('links imported contacts to accounts by company name as C2 says', async () => {
    const only = await crm.createAccount(alice, { name: 'Unique Company LLC' });
    expect(await crm.accountForCompany(bob, 'unique company llc')).toBe(only.id);
    expect((await crm.getAccountByName(' UNIQUE company llc '))?.id).toBe(only.id);
    // Two accounts share a name: ambiguous unless the importer sees exactly one of them.
    const a1 = await crm.createAccount(alice, { name: 'Twin Corp' });
    const a2 = await crm.createAccount(bob, { name: 'twin corp' });
    expect(await crm.getAccountByName('Twin Corp')).toBeNull();
    expect((await crm.findAccountsByName('TWIN CORP')).map((a) => a.id).sort()).toEqual([a1.id, a2.id].sort());
    expect(await crm.accountForCompany(alice, 'Twin Corp')).toBe(a1.id);
    expect(await crm.accountForCompany(bob, 'Twin Corp')).toBe(a2.id);
    expect(await crm.accountForCompany(carol, 'Twin Corp')).toBeNull();
    expect(await crm.accountForCompany(admin, 'Twin Corp')).toBeNull();
    expect(await crm.accountForCompany(alice, 'No Such Co')).toBeNull();
    // The only account with the name links even when the importer cannot see it (C2); the sync says so explicitly.
    const hidden = await crm.createAccount(carol, { name: 'Hidden Only Inc' });
    const linked = await crm.accountForCompany(bob, 'Hidden Only Inc');
    expect(linked).toBe(hidden.id);
    await expect(crm.createContact(bob, { name: 'Imported', accountId: linked })).rejects.toMatchObject({ statusCode: 400 });
    expect((await crm.createContact(bob.id, { name: 'Imported', accountId: linked }, { anyAccount: true })).accountId).toBe(hidden.id);
  });

  it('lists contacts for exports by type, group and change time, and keeps tombstones of deletions', async () => {
    const since = new Date(Date.now() - 1).toISOString();
    const e1 = await crm.createContact(carol, { name: 'Export Employee', type: 'employee' });
    const c1 = await crm.createContact(carol, { name: 'Export Customer', type: 'customer' });
    const o1 = await crm.createContact(carol, { name: 'Export Other', type: 'other' });
    const names = async (q: Partial<Parameters<CrmService['listContacts']>[1]>) =>
      (await crm.listContacts(carol, { limit: 100, ...q })).items.map((x) => x.name).filter((n) => n.startsWith('Export'));
    expect(await names({ types: ['employee', 'customer'] })).toEqual(['Export Customer', 'Export Employee']);
    expect(await names({ types: [] })).toEqual([]);
    const g = await crm.createGroup(carol, { name: 'Export group', kind: 'contacts', memberIds: [o1.id] });
    expect(await names({ groupIds: [g.id] })).toEqual(['Export Other']);
    // Someone else's group gives nothing, even when its members are visible.
    const alicesGroup = await crm.createGroup(alice, { name: 'Not for carol', kind: 'contacts' });
    expect(await names({ groupIds: [alicesGroup.id] })).toEqual([]);
    expect(await names({ updatedSince: since })).toEqual(['Export Customer', 'Export Employee', 'Export Other']);
    const later = new Date(Date.now() + 5).toISOString();
    await new Promise((r) => setTimeout(r, 10));
    await crm.updateContact(carol, c1.id, { jobTitle: 'Buyer' });
    expect(await names({ updatedSince: later })).toEqual(['Export Customer']);

    await crm.deleteContact(carol, e1.id);
    const gone = await crm.listDeletedSince('contact', since);
    expect(gone.map((d) => d.id)).toContain(e1.id);
    expect(gone.find((d) => d.id === e1.id)?.ownerId).toBe(carol.id);
    expect(await crm.listDeletedSince('contact', new Date(Date.now() + 60_000).toISOString())).toEqual([]);
  });

  it('keeps the timeline working when one source fails', async () => {
    const c = await crm.createContact(alice, { name: 'Resilient Timeline' });
    crm.registerTimelineSource({
      name: 'broken',
      async list() {
        throw new Error('storage down');
      },
    });
    const tl = await crm.timeline(alice, 'contact', c.id, { limit: 10 });
    expect(tl.items.map((i) => i.kind)).toContain('created');
  });

  it('keeps static groups of contacts and activities', async () => {
    const c1 = await crm.createContact(alice, { name: 'G One' });
    const c2 = await crm.createContact(alice, { name: 'G Two' });
    const hidden = await crm.createContact(bob, { name: 'G Hidden' });
    const act = await crm.createActivity(alice, { title: 'Kickoff', type: 'meeting', start: '2026-03-01T10:00:00+02:00', end: '2026-03-01T11:00:00+02:00', participants: { contactIds: [c1.id], userIds: [bob.id] } });
    expect(act.start).toBe('2026-03-01T08:00:00.000Z');
    expect(act.showInCalendar).toBe(true);
    expect(act.organizerId).toBe(alice.id);
    const g = await crm.createGroup(alice, { name: 'Prospects', kind: 'contacts', memberIds: [c1.id] });
    await expect(crm.createGroup(alice, { name: 'prospects', kind: 'contacts' })).rejects.toMatchObject({ statusCode: 409 });
    await expect(crm.addGroupMembers(alice, g.id, { recordIds: [hidden.id] })).rejects.toMatchObject({ statusCode: 400 });
    await expect(crm.addGroupMembers(alice, g.id, { recordIds: [act.id] })).rejects.toMatchObject({ statusCode: 400 });
    expect((await crm.addGroupMembers(alice, g.id, { recordIds: [c2.id, c1.id] })).memberCount).toBe(2);
    const members = await crm.listGroupMembers(alice, g.id, { limit: 1 });
    expect(members.page.items).toHaveLength(1);
    const rest = await crm.listGroupMembers(alice, g.id, { limit: 10, cursor: members.page.nextCursor! });
    expect([...members.page.items, ...rest.page.items].map((x) => x.id).sort()).toEqual([c1.id, c2.id].sort());
    expect((await crm.removeGroupMembers(alice, g.id, { recordIds: [c1.id] })).memberCount).toBe(1);
    await expect(crm.getGroup(bob, g.id)).rejects.toMatchObject({ statusCode: 404 });
    const ag = await crm.createGroup(alice, { name: 'Prospects', kind: 'activities', memberIds: [act.id] });
    expect(ag.memberCount).toBe(1);
    // Deleting a contact removes it from groups.
    await crm.deleteContact(alice, c2.id);
    expect((await crm.getGroup(alice, g.id)).memberCount).toBe(0);
    const inRange = await crm.listActivities(alice, { from: '2026-03-01T08:30:00Z', to: '2026-03-02T00:00:00Z', limit: 10 });
    expect(inRange.items.map((x) => x.id)).toEqual([act.id]);
    const outOfRange = await crm.listActivities(alice, { from: '2026-03-01T09:00:00Z', limit: 10 });
    expect(outOfRange.items).toEqual([]);
  });
});

interface TimelineEntryLike {
  id: string;
  at: string;
  kind: string;
  title: string;
}
