// CRM routes end to end on a real server (both dialects): CRUD, email lookup, search, keyset
// paging, sharing, tags privacy, timeline, groups, activities' calendar filters, cases.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp, type TestUser } from '../helpers/app.js';
import { dialects } from '../helpers/db.js';

const DIALECTS = await dialects();

describe.each(DIALECTS)('CRM routes on %s', (dialect) => {
  let t: TestApp;
  let alice: TestUser;
  let bob: TestUser;

  beforeAll(async () => {
    t = await startTestApp({ dialect });
    alice = await t.createUser({ name: 'Alice' });
    bob = await t.createUser({ name: 'Bob' });
  });
  afterAll(async () => {
    await t?.close();
  });

  it('creates, reads, updates and deletes a contact with emails, phones and an account', async () => {
    const acc = await t.request('POST', '/api/accounts', { token: alice.token, body: { name: 'Acme', website: 'https://www.Acme.com/about', phones: [{ phone: '+1 555 0100' }] } });
    expect(acc.status).toBe(201);
    expect(acc.body.domain).toBe('acme.com');
    const c = await t.request('POST', '/api/contacts', {
      token: alice.token,
      body: {
        name: 'Jane Roe',
        accountId: acc.body.id,
        jobTitle: 'CFO',
        type: 'customer',
        emails: [{ email: 'Jane.Roe@Acme.com', label: 'work' }, { email: 'jane@home.test', label: 'home', isPrimary: true }],
        phones: [{ phone: '+1 (555) 010-2030', label: 'mobile' }],
      },
    });
    expect(c.status).toBe(201);
    expect(c.body).toMatchObject({ name: 'Jane Roe', accountId: acc.body.id, type: 'customer', ownerId: alice.id });
    expect(c.body.emails).toEqual([
      { email: 'Jane.Roe@Acme.com', label: 'work', isPrimary: false },
      { email: 'jane@home.test', label: 'home', isPrimary: true },
    ]);

    const byEmail = await t.request('GET', '/api/contacts?email=JANE.ROE%40acme.COM', { token: alice.token });
    expect(byEmail.status).toBe(200);
    expect(byEmail.body.items.map((x: any) => x.id)).toEqual([c.body.id]);
    const byPhone = await t.request('GET', '/api/contacts?q=5550102', { token: alice.token });
    expect(byPhone.body.items.map((x: any) => x.id)).toEqual([c.body.id]);
    const byAccount = await t.request('GET', `/api/contacts?accountId=${acc.body.id}`, { token: alice.token });
    expect(byAccount.body.items.map((x: any) => x.id)).toEqual([c.body.id]);

    const patched = await t.request('PATCH', `/api/contacts/${c.body.id}`, { token: alice.token, body: { jobTitle: 'CEO', accountId: null } });
    expect(patched.status).toBe(200);
    expect(patched.body).toMatchObject({ jobTitle: 'CEO', accountId: null, name: 'Jane Roe' });

    const tl = await t.request('GET', `/api/contacts/${c.body.id}/timeline?limit=10`, { token: alice.token });
    expect(tl.status).toBe(200);
    expect(tl.body.items.map((i: any) => i.kind)).toEqual(['updated', 'created']);
    expect(tl.body.items[0].data.changes.map((ch: any) => ch.field).sort()).toEqual(['accountId', 'jobTitle']);

    expect((await t.request('GET', `/api/contacts/${c.body.id}`, { token: bob.token })).status).toBe(404);
    expect((await t.request('DELETE', `/api/contacts/${c.body.id}`, { token: bob.token })).status).toBe(404);
    expect((await t.request('DELETE', `/api/contacts/${c.body.id}`, { token: alice.token })).status).toBe(204);
    expect((await t.request('GET', `/api/contacts/${c.body.id}`, { token: alice.token })).status).toBe(404);
  });

  it('pages with keyset cursors and treats % and _ in searches literally', async () => {
    const names = ['Page 100% Sure', 'Page A_B', 'Page AxB', 'page bea (lower case)', 'Page Carl', 'Page Dora'];
    for (const name of names) expect((await t.request('POST', '/api/contacts', { token: bob.token, body: { name } })).status).toBe(201);
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const res: any = await t.request('GET', `/api/contacts?q=Page&limit=2${cursor ? `&cursor=${cursor}` : ''}`, { token: bob.token });
      expect(res.status).toBe(200);
      expect(res.body.items.length).toBeLessThanOrEqual(2);
      seen.push(...res.body.items.map((x: any) => x.name));
      cursor = res.body.nextCursor;
    } while (cursor);
    // Case-insensitive order, the same on both dialects.
    expect(seen).toEqual(names);
    const pct = await t.request('GET', `/api/contacts?q=${encodeURIComponent('%')}`, { token: bob.token });
    expect(pct.body.items.map((x: any) => x.name)).toEqual(['Page 100% Sure']);
    const us = await t.request('GET', `/api/contacts?q=${encodeURIComponent('A_B')}`, { token: bob.token });
    expect(us.body.items.map((x: any) => x.name)).toEqual(['Page A_B']);
    expect((await t.request('GET', '/api/contacts?cursor=not-a-cursor', { token: bob.token })).status).toBe(400);
    // Alice sees none of Bob's contacts; the administrator sees them all.
    expect((await t.request('GET', '/api/contacts?q=Page', { token: alice.token })).body.items).toEqual([]);
    expect((await t.request('GET', '/api/contacts?q=Page&limit=50', { token: t.adminToken })).body.items).toHaveLength(6);
  });

  it('shares a record with a user through the shares route and hides personal tags from them', async () => {
    const tag = await t.request('POST', '/api/tags', { token: alice.token, body: { name: 'My secret', scope: 'personal' } });
    expect(tag.status).toBe(201);
    const pub = await t.request('POST', '/api/tags', { token: alice.token, body: { name: 'Partner', scope: 'public' } });
    expect((await t.request('POST', '/api/tags', { token: bob.token, body: { name: 'partner', scope: 'public' } })).status).toBe(409);
    expect((await t.request('POST', '/api/tags', { token: bob.token, body: { name: 'Corp', scope: 'corporate' } })).status).toBe(403);
    expect((await t.request('POST', '/api/tags', { token: t.adminToken, body: { name: 'Corp', scope: 'corporate' } })).status).toBe(201);

    const c = await t.request('POST', '/api/contacts', { token: alice.token, body: { name: 'Shared Sam', tagIds: [tag.body.id, pub.body.id] } });
    expect(c.body.tags.map((x: any) => x.name).sort()).toEqual(['My secret', 'Partner']);
    const put = await t.request('PUT', `/api/contacts/${c.body.id}/shares`, { token: alice.token, body: { shares: [{ userId: bob.id, access: 'read' }] } });
    expect(put.status).toBe(200);
    expect(put.body.shares).toEqual([{ userId: bob.id, roleId: null, access: 'read' }]);

    const asBob = await t.request('GET', `/api/contacts/${c.body.id}`, { token: bob.token });
    expect(asBob.status).toBe(200);
    expect(asBob.body.tags.map((x: any) => x.name)).toEqual(['Partner']);
    expect(JSON.stringify((await t.request('GET', '/api/tags?limit=500', { token: bob.token })).body)).not.toContain('My secret');
    expect(JSON.stringify((await t.request('GET', `/api/contacts/${c.body.id}/timeline`, { token: bob.token })).body)).not.toContain('My secret');
    expect((await t.request('GET', `/api/tags/${tag.body.id}`, { token: bob.token })).status).toBe(404);
    expect((await t.request('PATCH', `/api/contacts/${c.body.id}`, { token: bob.token, body: { name: 'x' } })).status).toBe(403);
    expect((await t.request('PUT', `/api/contacts/${c.body.id}/shares`, { token: bob.token, body: { shares: [] } })).status).toBe(403);
    expect((await t.request('GET', `/api/contacts/${c.body.id}/shares`, { token: bob.token })).status).toBe(200);
    const badShare = await t.request('PUT', `/api/contacts/${c.body.id}/shares`, {
      token: alice.token,
      body: { shares: [{ userId: '00000000-0000-4000-8000-000000000000', access: 'read' }] },
    });
    expect(badShare.status).toBe(400);
    expect(badShare.body.error.details.fields[0].field).toContain('userId');
  });

  it('answers 400 naming the field for unknown references and 409 for duplicate group names', async () => {
    const res = await t.request('POST', '/api/contacts', { token: alice.token, body: { name: 'X', accountId: '00000000-0000-4000-8000-000000000001' } });
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('VALIDATION_FAILED');
    expect(res.body.error.details.fields.map((f: any) => f.field)).toContain('accountId');
    const tags = await t.request('POST', '/api/cases', { token: alice.token, body: { subject: 'S', tagIds: ['00000000-0000-4000-8000-000000000002'] } });
    expect(tags.status).toBe(400);
    expect(tags.body.error.details.fields.map((f: any) => f.field)).toContain('tagIds');
    const end = await t.request('POST', '/api/activities', { token: alice.token, body: { title: 'T', start: '2026-05-01T10:00:00Z', end: '2026-05-01T09:00:00Z' } });
    expect(end.status).toBe(400);
    expect(end.body.error.details.fields.map((f: any) => f.field)).toContain('end');
    expect((await t.request('POST', '/api/groups', { token: alice.token, body: { name: 'G1', kind: 'contacts' } })).status).toBe(201);
    expect((await t.request('POST', '/api/groups', { token: alice.token, body: { name: 'g1', kind: 'contacts' } })).status).toBe(409);
  });

  it('filters activities for a calendar and keeps group members', async () => {
    const c = await t.request('POST', '/api/contacts', { token: alice.token, body: { name: 'Cal Contact' } });
    const mk = (title: string, start: string, end: string, extra: object = {}) =>
      t.request('POST', '/api/activities', { token: alice.token, body: { title, start, end, type: 'meeting', participants: { contactIds: [c.body.id], userIds: [bob.id] }, ...extra } });
    const a1 = await mk('Mon', '2026-06-01T09:00:00Z', '2026-06-01T10:00:00Z');
    const a2 = await mk('Tue', '2026-06-02T09:00:00Z', '2026-06-02T10:00:00Z', { showInCalendar: false, status: 'done' });
    await mk('Next week', '2026-06-09T09:00:00Z', '2026-06-09T10:00:00Z');
    expect(a1.status).toBe(201);
    expect(a1.body.participants).toEqual({ contactIds: [c.body.id], userIds: [bob.id] });
    const week = await t.request('GET', '/api/activities?from=2026-06-01T00:00:00Z&to=2026-06-08T00:00:00Z&showInCalendar=true', { token: alice.token });
    expect(week.body.items.map((x: any) => x.title)).toEqual(['Mon']);
    const done = await t.request('GET', '/api/activities?status=done', { token: alice.token });
    expect(done.body.items.map((x: any) => x.id)).toEqual([a2.body.id]);
    const forContact = await t.request('GET', `/api/activities?contactId=${c.body.id}&limit=2`, { token: alice.token });
    expect(forContact.body.items.map((x: any) => x.title)).toEqual(['Mon', 'Tue']);
    expect(forContact.body.nextCursor).not.toBeNull();
    const changed = await t.request('PATCH', `/api/activities/${a1.body.id}`, { token: alice.token, body: { status: 'in-progress' } });
    expect(changed.body.status).toBe('in-progress');
    const tl = await t.request('GET', `/api/activities/${a1.body.id}/timeline`, { token: alice.token });
    expect(tl.body.items[0]).toMatchObject({ kind: 'status-changed', source: 'crm', data: { from: 'planned', to: 'in-progress' } });

    const g = await t.request('POST', '/api/groups', { token: alice.token, body: { name: 'Calendar set', kind: 'activities' } });
    const add = await t.request('POST', `/api/groups/${g.body.id}/members`, { token: alice.token, body: { recordIds: [a1.body.id, a2.body.id] } });
    expect(add.status).toBe(200);
    expect(add.body.memberCount).toBe(2);
    const members = await t.request('GET', `/api/groups/${g.body.id}/members`, { token: alice.token });
    expect(members.body.kind).toBe('activities');
    expect(members.body.items.map((x: any) => x.id).sort()).toEqual([a1.body.id, a2.body.id].sort());
    const del = await t.request('DELETE', `/api/groups/${g.body.id}/members`, { token: alice.token, body: { recordIds: [a1.body.id] } });
    expect(del.body.memberCount).toBe(1);
  });

  it('numbers cases and records status changes on the timeline', async () => {
    const c1 = await t.request('POST', '/api/cases', { token: alice.token, body: { subject: 'Printer on fire', priority: 'critical' } });
    const c2 = await t.request('POST', '/api/cases', { token: alice.token, body: { subject: 'Second' } });
    expect(c1.status).toBe(201);
    expect(c2.body.number).toBe(c1.body.number + 1);
    const byNumber = await t.request('GET', `/api/cases?q=%23${c1.body.number}`, { token: alice.token });
    expect(byNumber.body.items.map((x: any) => x.id)).toContain(c1.body.id);
    const closed = await t.request('PATCH', `/api/cases/${c1.body.id}`, { token: alice.token, body: { status: 'resolved' } });
    expect(closed.body.status).toBe('resolved');
    expect(closed.body.closedAt).not.toBeNull();
    const tl = await t.request('GET', `/api/cases/${c1.body.id}/timeline`, { token: alice.token });
    expect(tl.body.items.map((i: any) => i.kind)).toEqual(['status-changed', 'created']);
  });

  it('exports only the contacts the caller has access to, as CSV safe for spreadsheets', async () => {
    const mine = await t.request('POST', '/api/contacts', {
      token: alice.token,
      body: { name: '=HYPERLINK("http://evil.test","click")', jobTitle: 'Head, "Sales"', emails: [{ email: 'csv@example.test' }], type: 'employee' },
    });
    expect(mine.status).toBe(201);
    await t.request('POST', '/api/contacts', { token: bob.token, body: { name: 'Bob Only CSV', type: 'employee' } });
    const res = await fetch(`${t.url}/api/contacts/export.csv?type=employee`, { headers: { authorization: `Bearer ${alice.token}` } });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/csv');
    const text = await res.text();
    const lines = text.replace(/^\uFEFF/, '').trim().split('\r\n');
    expect(lines[0]).toBe('id,name,type,jobTitle,accountId,primaryEmail,emails,phones,ownerId,tags,createdAt,updatedAt');
    expect(text).not.toContain('Bob Only CSV');
    const line = lines.find((l) => l.startsWith(mine.body.id))!;
    expect(line).toContain(`"'=HYPERLINK(""http://evil.test"",""click"")"`);
    expect(line).toContain('"Head, ""Sales"""');
    expect(line).toContain('csv@example.test');
    expect((await fetch(`${t.url}/api/contacts/export.csv`)).status).toBe(401);
  });

  it('publishes the CRM routes in the OpenAPI document', async () => {
    const res = await t.request('GET', '/api/openapi.json');
    expect(res.status).toBe(200);
    for (const p of ['/api/contacts', '/api/contacts/export.csv', '/api/contacts/{id}/tags/{tagId}', '/api/contacts/{id}/shares', '/api/accounts', '/api/activities', '/api/cases/{id}/timeline', '/api/tags', '/api/groups/{id}/members']) {
      expect(Object.keys(res.body.paths)).toContain(p);
    }
  });
});
