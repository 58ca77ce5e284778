// Bad input never costs a 500 and never passes silently: a table over the foundation's routes
// (identity, roles, operations, settings). Each module adds its own table for its routes.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../helpers/app.js';

const HOSTILE = ["'; DROP TABLE users; --", '%', '_', '\\', '" OR 1=1 --', 'Ωмега 🚀 \u0000', 'x'.repeat(10_000)];
const UNKNOWN = '00000000-0000-4000-8000-000000000000';

interface Route {
  method: string;
  path: string;
  /** A valid body, for routes that take one; string fields get the hostile values in turn. */
  body?: Record<string, unknown>;
  /** Status expected for the valid body as admin. */
  ok?: number;
}

const ROUTES: Route[] = [
  { method: 'POST', path: '/api/users', body: { email: 'fuzz@example.test', name: 'Fuzz', password: 'fuzz-password' } },
  { method: 'PATCH', path: '/api/users/{id}', body: { name: 'Fuzz' } },
  { method: 'GET', path: '/api/users/{id}' },
  { method: 'POST', path: '/api/roles', body: { name: 'Fuzz role', description: 'd' } },
  { method: 'PATCH', path: '/api/roles/{id}', body: { name: 'Fuzz role 2' } },
  { method: 'DELETE', path: '/api/roles/{id}' },
  { method: 'PUT', path: '/api/system-operations/CanManageChats', body: { userIds: [], roleIds: [] } },
  { method: 'PUT', path: '/api/system-settings/SiteUrl', body: { value: 'https://x.example' } },
  { method: 'POST', path: '/api/api-tokens', body: { name: 'fuzz' } },
  { method: 'PATCH', path: '/api/auth/me', body: { name: 'Fuzz' } },
];

describe('bad input on foundation routes', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(async () => {
    await t?.close();
  });

  const withId = (p: string, id: string) => p.replace('{id}', id);

  it.each(ROUTES.filter((r) => r.body))('$method $path: malformed JSON → 400 INVALID_JSON', async (r) => {
    const res = await t.request(r.method, withId(r.path, UNKNOWN), { token: t.adminToken, raw: '{"name": "x",' });
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('INVALID_JSON');
  });

  it.each(ROUTES.filter((r) => r.body))('$method $path: wrong types → 400 VALIDATION_FAILED naming fields', async (r) => {
    const wrong = Object.fromEntries(Object.keys(r.body!).map((k) => [k, { nested: true }]));
    const res = await t.request(r.method, withId(r.path, UNKNOWN), { token: t.adminToken, body: wrong });
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('VALIDATION_FAILED');
    expect(res.body.error.details.fields.length).toBeGreaterThan(0);
    expect(typeof res.body.error.details.fields[0].field).toBe('string');
  });

  it.each(ROUTES.filter((r) => r.body))('$method $path: hostile strings in every string field never give a 500', async (r) => {
    const target = r.path.includes('{id}') ? (r.path.startsWith('/api/roles') ? (await t.modules.identity.createRole({ name: `r-${Math.random()}` })).id : (await t.createUser()).id) : UNKNOWN;
    for (const [field, value] of Object.entries(r.body!)) {
      if (typeof value !== 'string') continue;
      for (const h of HOSTILE) {
        const res = await t.request(r.method, withId(r.path, target), { token: t.adminToken, body: { ...r.body, [field]: h } });
        expect(res.status, `${field}=${JSON.stringify(h.slice(0, 30))} → ${JSON.stringify(res.body).slice(0, 200)}`).toBeLessThan(500);
        expect(res.body === null || typeof res.body === 'object').toBe(true);
      }
    }
    // The table is still there and still answers.
    expect((await t.request('GET', '/api/users?q=%25', { token: t.adminToken })).status).toBe(200);
  });

  it.each(ROUTES.filter((r) => r.path.includes('{id}')))('$method $path: junk id → 400, unknown id → 404', async (r) => {
    const junk = await t.request(r.method, withId(r.path, 'not-a-uuid'), { token: t.adminToken, body: r.body });
    expect(junk.status).toBe(400);
    const unknown = await t.request(r.method, withId(r.path, UNKNOWN), { token: t.adminToken, body: r.body });
    expect(unknown.status).toBe(404);
    expect(unknown.body.error.code).toBe('NOT_FOUND');
  });

  it.each(ROUTES)('$method $path: no credentials → 401', async (r) => {
    const res = await t.request(r.method, withId(r.path, UNKNOWN), { body: r.body });
    expect(res.status).toBe(401);
    expect(res.body.error.code).toBe('UNAUTHORIZED');
  });

  it('oversized bodies → 413, unknown routes → 404 in the error format, search with SQL wildcards is literal', async () => {
    const big = await t.request('POST', '/api/users', { token: t.adminToken, raw: JSON.stringify({ name: 'x'.repeat(30 * 1024 * 1024) }) });
    expect(big.status).toBe(413);
    expect(big.body.error.code).toBe('PAYLOAD_TOO_LARGE');
    const nf = await t.request('GET', '/api/no-such-thing', { token: t.adminToken });
    expect(nf.status).toBe(404);
    expect(nf.body.error.code).toBe('NOT_FOUND');
    await t.createUser({ name: 'Percent 100% sure' });
    await t.createUser({ name: 'Plain name' });
    const pct = await t.request('GET', `/api/users?q=${encodeURIComponent('100%')}`, { token: t.adminToken });
    expect(pct.body.items.map((u: any) => u.name)).toEqual(['Percent 100% sure']);
    const under = await t.request('GET', `/api/users?q=${encodeURIComponent('_')}`, { token: t.adminToken });
    expect(under.body.items).toEqual([]);
    const badCursor = await t.request('GET', '/api/users?cursor=%%%', { token: t.adminToken });
    expect(badCursor.status).toBe(400);
  });
});
