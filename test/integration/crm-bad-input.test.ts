// Bad input on every CRM route, table-driven, on both dialects: no token → 401, junk id → 400,
// unknown id → 404, someone else's record → 404/403, malformed JSON → 400 INVALID_JSON, wrong
// types → 400 VALIDATION_FAILED naming the field, hostile strings (SQL, LIKE wildcards, NUL,
// unicode, 10k chars) in every string field of every body and query → never a 500.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp, type TestUser } from '../helpers/app.js';
import { dialects } from '../helpers/db.js';

const DIALECTS = await dialects();

const HOSTILE = [
  "'; DROP TABLE crm_contacts; --",
  "' OR '1'='1",
  '%',
  '_',
  '\\',
  'Ωмега 🚀 中文 Ünïcødé',
  'nul\u0000byte',
  'lone \ud800 surrogate',
  'x'.repeat(10_000),
];
const UNKNOWN = '00000000-0000-4000-8000-000000000000';
const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
// Cursors a client could forge: valid base64 JSON with the wrong shapes.
const FORGED_CURSORS = [b64({ k: 'abc', id: 'x' }), b64({ k: { a: 1 }, id: UNKNOWN }), b64({ crm: { at: 5, id: 1 } }), b64([1, 2]), b64(null)];

interface Fixtures {
  alice: TestUser;
  bob: TestUser;
  carol: TestUser;
  contact: string;
  account: string;
  activity: string;
  caseId: string;
  tag: string;
  group: string;
}

interface Route {
  method: 'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE';
  path: string;
  body?: (f: Fixtures) => Record<string, unknown>;
  query?: (f: Fixtures) => Record<string, string>;
  /** Which fixture {id} stands for. */
  id?: (f: Fixtures) => string;
  /** Status of the valid sample as its owner (omitted for DELETE, which would consume the fixture). */
  ok?: number;
}

const nameCursor = b64({ k: 'A', id: UNKNOWN });

const contactBody = (f: Fixtures) => ({
  name: 'Sample Person',
  emails: [{ email: 'sample@example.test', label: 'work', isPrimary: true }],
  phones: [{ phone: '+1 555 0000', label: 'mobile' }],
  accountId: f.account,
  jobTitle: 'Boss',
  type: 'customer',
  ownerId: f.alice.id,
  notes: 'notes',
  tagIds: [f.tag],
});
const accountBody = (f: Fixtures) => ({
  name: 'Sample Co',
  domain: 'sample.test',
  website: 'https://sample.test',
  phones: [{ phone: '+1 555 0001', label: 'office' }],
  ownerId: f.alice.id,
  notes: 'n',
  tagIds: [f.tag],
});
const activityBody = (f: Fixtures) => ({
  type: 'meeting',
  title: 'Sample meeting',
  description: 'd',
  start: '2026-07-01T10:00:00Z',
  end: '2026-07-01T11:00:00+00:00',
  allDay: false,
  ownerId: f.alice.id,
  organizerId: f.alice.id,
  participants: { contactIds: [f.contact], userIds: [f.bob.id] },
  showInCalendar: true,
  status: 'planned',
  tagIds: [f.tag],
});
const caseBody = (f: Fixtures) => ({
  subject: 'Sample case',
  description: 'd',
  status: 'new',
  priority: 'high',
  contactId: f.contact,
  accountId: f.account,
  ownerId: f.alice.id,
  tagIds: [f.tag],
});
const sharesBody = (f: Fixtures) => ({ shares: [{ userId: f.carol.id, access: 'read' }] });
const timelineQuery = () => ({ limit: '5', cursor: b64({ crm: { at: '2026-01-01T00:00:00.000Z', id: UNKNOWN } }) });

function recordRoutes(path: string, id: (f: Fixtures) => string, body: (f: Fixtures) => Record<string, unknown>, query: (f: Fixtures) => Record<string, string>): Route[] {
  return [
    { method: 'GET', path, query, ok: 200 },
    { method: 'POST', path, body, ok: 201 },
    { method: 'GET', path: `${path}/{id}`, id, ok: 200 },
    { method: 'PATCH', path: `${path}/{id}`, id, body, ok: 200 },
    { method: 'DELETE', path: `${path}/{id}`, id },
    { method: 'GET', path: `${path}/{id}/shares`, id, ok: 200 },
    { method: 'PUT', path: `${path}/{id}/shares`, id, body: sharesBody, ok: 200 },
    { method: 'GET', path: `${path}/{id}/timeline`, id, query: timelineQuery, ok: 200 },
  ];
}

const ROUTES: Route[] = [
  ...recordRoutes('/api/contacts', (f) => f.contact, contactBody, (f) => ({
    q: 'a',
    email: 'a@b.test',
    accountId: f.account,
    type: 'customer',
    tagId: f.tag,
    ownerId: f.alice.id,
    limit: '10',
    cursor: nameCursor,
  })),
  ...recordRoutes('/api/accounts', (f) => f.account, accountBody, (f) => ({ q: 'a', domain: 'a.test', tagId: f.tag, ownerId: f.alice.id, limit: '10', cursor: nameCursor })),
  ...recordRoutes('/api/activities', (f) => f.activity, activityBody, (f) => ({
    q: 'a',
    type: 'meeting',
    status: 'planned',
    from: '2026-01-01T00:00:00Z',
    to: '2027-01-01T00:00:00Z',
    showInCalendar: 'true',
    ownerId: f.alice.id,
    contactId: f.contact,
    tagId: f.tag,
    limit: '10',
    cursor: b64({ k: '2000-01-01T00:00:00.000Z', id: UNKNOWN }),
  })),
  ...recordRoutes('/api/cases', (f) => f.caseId, caseBody, (f) => ({
    q: '#1',
    status: 'new',
    priority: 'high',
    contactId: f.contact,
    accountId: f.account,
    ownerId: f.alice.id,
    tagId: f.tag,
    limit: '10',
    cursor: b64({ k: 1_000_000, id: UNKNOWN }),
  })),
  { method: 'GET', path: '/api/tags', query: () => ({ q: 'a', scope: 'personal', limit: '10', cursor: nameCursor }), ok: 200 },
  { method: 'POST', path: '/api/tags', body: () => ({ name: 'Sample tag', scope: 'personal', color: '#ff0000' }), ok: 201 },
  { method: 'GET', path: '/api/tags/{id}', id: (f) => f.tag, ok: 200 },
  { method: 'PATCH', path: '/api/tags/{id}', id: (f) => f.tag, body: () => ({ name: 'Renamed tag', color: 'blue' }), ok: 200 },
  { method: 'DELETE', path: '/api/tags/{id}', id: (f) => f.tag },
  { method: 'GET', path: '/api/groups', query: () => ({ q: 'a', kind: 'contacts', limit: '10', cursor: nameCursor }), ok: 200 },
  { method: 'POST', path: '/api/groups', body: (f) => ({ name: 'Sample group', kind: 'contacts', description: 'd', memberIds: [f.contact] }), ok: 201 },
  { method: 'GET', path: '/api/groups/{id}', id: (f) => f.group, ok: 200 },
  { method: 'PATCH', path: '/api/groups/{id}', id: (f) => f.group, body: (f) => ({ name: 'Renamed group', description: 'd', ownerId: f.alice.id }), ok: 200 },
  { method: 'DELETE', path: '/api/groups/{id}', id: (f) => f.group },
  { method: 'GET', path: '/api/groups/{id}/members', id: (f) => f.group, query: () => ({ limit: '10', cursor: nameCursor }), ok: 200 },
  { method: 'POST', path: '/api/groups/{id}/members', id: (f) => f.group, body: (f) => ({ recordIds: [f.contact] }), ok: 200 },
  { method: 'DELETE', path: '/api/groups/{id}/members', id: (f) => f.group, body: (f) => ({ recordIds: [f.contact] }), ok: 200 },
  { method: 'GET', path: '/api/groups/{id}/shares', id: (f) => f.group, ok: 200 },
  { method: 'PUT', path: '/api/groups/{id}/shares', id: (f) => f.group, body: sharesBody, ok: 200 },
  { method: 'GET', path: '/api/groups/{id}/timeline', id: (f) => f.group, query: timelineQuery, ok: 200 },
];

/** Every string leaf of a JSON value, as a path and a setter on a deep copy. */
function stringLeaves(value: unknown, path: (string | number)[] = []): (string | number)[][] {
  if (typeof value === 'string') return [path];
  if (Array.isArray(value)) return value.flatMap((v, i) => stringLeaves(v, [...path, i]));
  if (value && typeof value === 'object') return Object.entries(value).flatMap(([k, v]) => stringLeaves(v, [...path, k]));
  return [];
}

function withLeaf<T>(value: T, path: (string | number)[], leaf: unknown): T {
  const copy = structuredClone(value) as any;
  let node = copy;
  for (const p of path.slice(0, -1)) node = node[p];
  node[path[path.length - 1]] = leaf;
  return copy;
}

/** URL-encodes; a lone surrogate cannot be encoded, so send the invalid UTF-8 bytes it would be. */
function encodePath(s: string): string {
  try {
    return encodeURIComponent(s);
  } catch {
    return encodeURIComponent(s.replace(/[\ud800-\udfff]/g, '')) + '%ED%A0%80';
  }
}

const label = (r: Route) => `${r.method} ${r.path}`;

describe.each(DIALECTS)('CRM bad input on %s', (dialect) => {
  let t: TestApp;
  let f: Fixtures;

  const url = (r: Route, id?: string, query?: Record<string, string>) => {
    let p = r.path.replace('{id}', encodePath(id ?? (r.id ? r.id(f) : '')));
    if (query && Object.keys(query).length) p += `?${new URLSearchParams(query).toString()}`;
    return p;
  };
  const sampleQuery = (r: Route) => (r.query ? r.query(f) : undefined);

  beforeAll(async () => {
    // A small body limit so the oversized-body case is cheap; 10k-character fields still fit.
    t = await startTestApp({ dialect, env: { SWITCHBOARD_BODY_LIMIT: String(256 * 1024) } });
    const alice = await t.createUser({ name: 'Alice' });
    const bob = await t.createUser({ name: 'Bob' });
    const carol = await t.createUser({ name: 'Carol' });
    const post = async (path: string, body: unknown) => {
      const res = await t.request('POST', path, { token: alice.token, body });
      expect(res.status, JSON.stringify(res.body)).toBe(201);
      return res.body.id as string;
    };
    const tag = await post('/api/tags', { name: 'Fixture tag', scope: 'personal' });
    const account = await post('/api/accounts', { name: 'Fixture Co' });
    const contact = await post('/api/contacts', { name: 'Fixture Person', accountId: account });
    const activity = await post('/api/activities', { title: 'Fixture task', start: '2026-07-01T10:00:00Z' });
    const caseId = await post('/api/cases', { subject: 'Fixture case' });
    const group = await post('/api/groups', { name: 'Fixture group', kind: 'contacts' });
    f = { alice, bob, carol, tag, account, contact, activity, caseId, group };
  });
  afterAll(async () => {
    await t?.close();
  });

  it.each(ROUTES.filter((r) => r.ok))('$method $path: the valid sample works for the owner', async (r) => {
    const res = await t.request(r.method, url(r, undefined, sampleQuery(r)), { token: f.alice.token, body: r.body?.(f) });
    expect(res.status, JSON.stringify(res.body)).toBe(r.ok);
  });

  it.each(ROUTES)('$method $path: no token → 401', async (r) => {
    const res = await t.request(r.method, url(r, undefined, sampleQuery(r)), { body: r.body?.(f) });
    expect(res.status).toBe(401);
    expect(res.body.error.code).toBe('UNAUTHORIZED');
  });

  it.each(ROUTES.filter((r) => r.id))('$method $path: junk id → 400, unknown id → 404, hostile id → never 500', async (r) => {
    const junk = await t.request(r.method, url(r, 'not-a-uuid', sampleQuery(r)), { token: f.alice.token, body: r.body?.(f) });
    expect(junk.status).toBe(400);
    expect(junk.body.error.code).toBe('VALIDATION_FAILED');
    const unknown = await t.request(r.method, url(r, UNKNOWN, sampleQuery(r)), { token: f.alice.token, body: r.body?.(f) });
    expect(unknown.status, JSON.stringify(unknown.body)).toBe(404);
    expect(unknown.body.error.code).toBe('NOT_FOUND');
    await Promise.all(
      HOSTILE.map(async (h) => {
        const res = await t.request(r.method, url(r, h, sampleQuery(r)), { token: f.alice.token, body: r.body?.(f) });
        expect(res.status, `${label(r)} id=${h.slice(0, 30)}`).toBeGreaterThanOrEqual(400);
        expect(res.status, `${label(r)} id=${h.slice(0, 30)}`).toBeLessThan(500);
      }),
    );
  });

  it.each(ROUTES.filter((r) => r.id))("$method $path: another user's record → 404 or 403", async (r) => {
    const res = await t.request(r.method, url(r, undefined, sampleQuery(r)), { token: f.bob.token, body: r.body?.(f) });
    expect([403, 404], JSON.stringify(res.body)).toContain(res.status);
  });

  it.each(ROUTES.filter((r) => r.body))('$method $path: malformed JSON → 400 INVALID_JSON', async (r) => {
    const res = await t.request(r.method, url(r), { token: f.alice.token, raw: '{"name": "x",' });
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('INVALID_JSON');
  });

  it.each(ROUTES.filter((r) => r.body))('$method $path: wrong types → 400 VALIDATION_FAILED naming each field', async (r) => {
    const sample = r.body!(f);
    for (const key of Object.keys(sample)) {
      // A number is wrong for every field here (strings, enums, ids, arrays, objects, booleans).
      const res = await t.request(r.method, url(r), { token: f.alice.token, body: { ...sample, [key]: 12345 } });
      expect(res.status, `${label(r)} ${key}`).toBe(400);
      expect(res.body.error.code).toBe('VALIDATION_FAILED');
      const fields: string[] = res.body.error.details.fields.map((x: any) => x.field);
      expect(fields.some((x) => x.split('.').includes(key)), `${label(r)} ${key}: ${fields.join(',')}`).toBe(true);
    }
  });

  it.each(ROUTES.filter((r) => r.body || r.query))('$method $path: hostile strings in every body and query field never give a 500', async (r) => {
    const body = r.body?.(f);
    const query = sampleQuery(r);
    // One field at a time, its hostile values sent concurrently (also exercises concurrent writers).
    for (const leaf of body ? stringLeaves(body) : []) {
      await Promise.all(
        HOSTILE.map(async (h) => {
          const res = await t.request(r.method, url(r, undefined, query), { token: f.alice.token, body: withLeaf(body, leaf, h) });
          expect(res.status, `${label(r)} body.${leaf.join('.')}=${h.slice(0, 30)} → ${JSON.stringify(res.body).slice(0, 300)}`).toBeLessThan(500);
        }),
      );
    }
    for (const key of Object.keys(query ?? {})) {
      await Promise.all(
        [...HOSTILE, ...(key === 'cursor' ? FORGED_CURSORS : [])].map(async (h) => {
          const res = await t.request(r.method, url(r, undefined, { ...query, [key]: h }), { token: f.alice.token, body });
          expect(res.status, `${label(r)} ?${key}=${h.slice(0, 30)} → ${JSON.stringify(res.body).slice(0, 300)}`).toBeLessThan(500);
        }),
      );
    }
  });

  it('stores SQL-looking and wildcard text verbatim and finds it literally', async () => {
    for (const name of ["'; DROP TABLE crm_contacts; --", '50%_off\\now', 'Ωмега 🚀']) {
      const res = await t.request('POST', '/api/contacts', { token: f.bob.token, body: { name, notes: name, emails: [{ email: 'o\'brien@example.test', label: name }] } });
      expect(res.status).toBe(201);
      expect(res.body.name).toBe(name);
      expect(res.body.emails[0].label).toBe(name);
      const found = await t.request('GET', `/api/contacts?q=${encodeURIComponent(name)}`, { token: f.bob.token });
      expect(found.body.items.map((x: any) => x.name)).toEqual([name]);
    }
    const byEmail = await t.request('GET', `/api/contacts?email=${encodeURIComponent("O'Brien@example.test")}`, { token: f.bob.token });
    expect(byEmail.body.items).toHaveLength(3);
    // The tables are still there.
    expect((await t.request('GET', '/api/contacts?limit=1', { token: t.adminToken })).status).toBe(200);
  });

  it('bounds arrays and lengths, and refuses oversized bodies', async () => {
    const tooMany = await t.request('POST', '/api/contacts', {
      token: f.alice.token,
      body: { name: 'Many', emails: Array.from({ length: 51 }, (_, i) => ({ email: `m${i}@example.test` })) },
    });
    expect(tooMany.status).toBe(400);
    expect(tooMany.body.error.details.fields.map((x: any) => x.field).join(',')).toContain('emails');
    const twoPrimaries = await t.request('POST', '/api/contacts', {
      token: f.alice.token,
      body: { name: 'Two', emails: [{ email: 'a@example.test', isPrimary: true }, { email: 'b@example.test', isPrimary: true }] },
    });
    expect(twoPrimaries.status).toBe(400);
    const dup = await t.request('POST', '/api/contacts', { token: f.alice.token, body: { name: 'Dup', emails: [{ email: 'a@example.test' }, { email: 'A@example.test' }] } });
    expect(dup.status).toBe(400);
    const longName = await t.request('POST', '/api/contacts', { token: f.alice.token, body: { name: 'x'.repeat(201) } });
    expect(longName.status).toBe(400);
    expect(longName.body.error.details.fields.map((x: any) => x.field).join(',')).toContain('name');
    const huge = await t.request('POST', '/api/contacts', { token: f.alice.token, body: { name: 'Huge', notes: 'x'.repeat(300 * 1024) } });
    expect(huge.status).toBe(413);
    const limit = await t.request('GET', '/api/contacts?limit=100000', { token: f.alice.token });
    expect(limit.status).toBe(400);
    const badDate = await t.request('POST', '/api/activities', { token: f.alice.token, body: { title: 'x', start: '2026-13-45' } });
    expect(badDate.status).toBe(400);
    expect(badDate.body.error.details.fields.map((x: any) => x.field).join(',')).toContain('start');
  });
});
