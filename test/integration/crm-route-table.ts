// The CRM routes as a table, with valid samples and hostile values, shared by the bad-input
// suites (crm-bad-input.test.ts, crm-hostile-strings.test.ts) so every route is covered by both.
import { afterAll, beforeAll, expect } from 'vitest';
import { startTestApp, type TestApp, type TestUser } from '../helpers/app.js';
import type { Dialect } from '../../src/platform/db/index.js';

// Each value targets one failure mode: string-built SQL, LIKE wildcards and the escape character,
// PostgreSQL's refusal of NUL, a lone UTF-16 surrogate (invalid UTF-8 on the wire), multi-byte
// text, and length limits. Kept short on purpose: every value is tried in every field of every route.
export const HOSTILE = [
  "'; DROP TABLE crm_contacts; -- ' OR '1'='1",
  '%',
  '_\\',
  'Ωмега 🚀 中文 Ünïcødé',
  'nul\u0000byte',
  'lone \ud800 surrogate',
  'x'.repeat(10_000),
];
export const UNKNOWN = '00000000-0000-4000-8000-000000000000';
export const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
// Cursors a client could forge: valid base64 JSON with the wrong shapes.
export const FORGED_CURSORS = [b64({ k: 'abc', id: 'x' }), b64({ k: { a: 1 }, id: UNKNOWN }), b64({ crm: { at: 5, id: 1 } }), b64([1, 2]), b64(null)];

export interface Fixtures {
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

export interface Route {
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
    { method: 'PUT', path: `${path}/{id}/tags/{tagId}`, id, ok: 204 },
    { method: 'DELETE', path: `${path}/{id}/tags/{tagId}`, id, ok: 204 },
  ];
}

export const ROUTES: Route[] = [
  ...recordRoutes('/api/contacts', (f) => f.contact, contactBody, (f) => ({
    q: 'a',
    email: 'a@b.test',
    accountId: f.account,
    type: 'customer',
    tagId: f.tag,
    groupId: f.group,
    ownerId: f.alice.id,
    updatedSince: '2020-01-01T00:00:00Z',
    limit: '10',
    cursor: nameCursor,
  })),
  {
    method: 'GET',
    path: '/api/contacts/export.csv',
    query: (f) => ({ q: 'a', email: 'a@b.test', accountId: f.account, type: 'customer', tagId: f.tag, groupId: f.group, ownerId: f.alice.id, updatedSince: '2020-01-01T00:00:00Z' }),
    ok: 200,
  },
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
    groupId: f.group,
    updatedSince: '2020-01-01T00:00:00Z',
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
export function stringLeaves(value: unknown, path: (string | number)[] = []): (string | number)[][] {
  if (typeof value === 'string') return [path];
  if (Array.isArray(value)) return value.flatMap((v, i) => stringLeaves(v, [...path, i]));
  if (value && typeof value === 'object') return Object.entries(value).flatMap(([k, v]) => stringLeaves(v, [...path, k]));
  return [];
}

export function withLeaf<T>(value: T, path: (string | number)[], leaf: unknown): T {
  const copy = structuredClone(value) as any;
  let node = copy;
  for (const p of path.slice(0, -1)) node = node[p];
  node[path[path.length - 1]] = leaf;
  return copy;
}

/** URL-encodes; a lone surrogate cannot be encoded, so send the invalid UTF-8 bytes it would be. */
export function encodePath(s: string): string {
  try {
    return encodeURIComponent(s);
  } catch {
    return encodeURIComponent(s.replace(/[\ud800-\udfff]/g, '')) + '%ED%A0%80';
  }
}

export const label = (r: Route) => `${r.method} ${r.path}`;

export interface CrmBench {
  t: TestApp;
  f: Fixtures;
  url(r: Route, id?: string, query?: Record<string, string>): string;
  sampleQuery(r: Route): Record<string, string> | undefined;
}

/** Registers beforeAll/afterAll that start a server with three users and one record of each kind (Alice's). */
export function useCrmFixtures(dialect: Dialect): CrmBench {
  const bench = {} as CrmBench;
  bench.url = (r, id, query) => {
    let p = r.path.replace('{id}', encodePath(id ?? (r.id ? r.id(bench.f) : ''))).replace('{tagId}', bench.f.tag);
    if (query && Object.keys(query).length) p += `?${new URLSearchParams(query).toString()}`;
    return p;
  };
  bench.sampleQuery = (r) => (r.query ? r.query(bench.f) : undefined);
  beforeAll(async () => {
    // A small body limit so the oversized-body case is cheap; 10k-character fields still fit.
    const t = await startTestApp({ dialect, env: { SWITCHBOARD_BODY_LIMIT: String(256 * 1024) } });
    bench.t = t;
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
    bench.f = { alice, bob, carol, tag, account, contact, activity, caseId, group };
  });
  afterAll(async () => {
    await bench.t?.close();
  });
  return bench;
}
