// Bad input never costs a 500 and never passes silently: a table over the foundation's routes
// (auth, identity, roles, operations, settings, system — FOUNDATION_ROUTES in route-tables.ts), on
// SQLite and PostgreSQL — PostgreSQL is the one that fails on a NUL character in text, so the table
// must run there. Each module adds its own table for its routes; route-coverage.test.ts checks
// that every /api route is in one.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp, type TestUser } from '../helpers/app.js';
import { dialects } from '../helpers/db.js';
import { encodeCursor } from '../../src/platform/http/paging.js';
import { FOUNDATION_ROUTES as ROUTES, type FoundationRoute as Route } from './route-tables.js';

const HOSTILE = ["'; DROP TABLE users; --", '%', '_', '\\', '" OR 1=1 --', 'Ωмега 🚀 \u0000', 'x'.repeat(10_000)];
const UNKNOWN = '00000000-0000-4000-8000-000000000000';

const withBody = ROUTES.filter((r) => r.body);
const withQuery = ROUTES.filter((r) => r.query);
const withId = (p: string, id: string) => p.replace('{id}', id);
const qs = (q: Record<string, string> | undefined) => (q ? `?${new URLSearchParams(q)}` : '');

describe.each(await dialects())('bad input on foundation routes (%s)', (dialect) => {
  let t: TestApp;
  let plain: TestUser;
  beforeAll(async () => {
    t = await startTestApp({ dialect });
    plain = await t.createUser({ name: 'Plain user' });
  });
  afterAll(async () => {
    await t?.close();
  });

  /** An id the route can act on: a fresh role, user or API token. */
  async function targetFor(r: Route): Promise<string> {
    if (!r.path.includes('{id}')) return UNKNOWN;
    if (r.path.startsWith('/api/roles')) return (await t.modules.identity.createRole({ name: `r-${Math.random()}` })).id;
    if (r.path.startsWith('/api/api-tokens')) return (await t.modules.identity.createApiToken(t.adminId, 'target')).id;
    return (await t.createUser()).id;
  }

  it.each(withBody)('$method $path: malformed JSON → 400 INVALID_JSON', async (r) => {
    const res = await t.request(r.method, withId(r.path, UNKNOWN), { token: t.adminToken, raw: '{"name": "x",' });
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('INVALID_JSON');
  });

  it.each(withBody)('$method $path: wrong types → 400 VALIDATION_FAILED naming fields', async (r) => {
    const wrong = Object.fromEntries(Object.keys(r.body!).map((k) => [k, { nested: true }]));
    const res = await t.request(r.method, withId(r.path, UNKNOWN), { token: t.adminToken, body: wrong });
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('VALIDATION_FAILED');
    expect(res.body.error.details.fields.length).toBeGreaterThan(0);
    expect(typeof res.body.error.details.fields[0].field).toBe('string');
  });

  it.each(withBody)('$method $path: hostile strings in every string field never give a 500', async (r) => {
    const target = await targetFor(r);
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

  it.each(withQuery)('$method $path: hostile query strings never give a 500', async (r) => {
    for (const field of Object.keys(r.query!)) {
      for (const h of HOSTILE) {
        const res = await t.request(r.method, `${r.path}${qs({ ...r.query, [field]: h })}`, { token: t.adminToken });
        expect(res.status, `${field}=${JSON.stringify(h.slice(0, 30))} → ${JSON.stringify(res.body).slice(0, 200)}`).toBeLessThan(500);
      }
    }
  });

  // PostgreSQL text cannot hold NUL: without a check every one of these was a 500 there.
  it.each(withBody)('$method $path: NUL in a body string → 400 VALIDATION_FAILED naming the field', async (r) => {
    const target = await targetFor(r);
    for (const [field, value] of Object.entries(r.body!)) {
      if (typeof value !== 'string') continue;
      const res = await t.request(r.method, withId(r.path, target), { token: t.adminToken, body: { ...r.body, [field]: `a\u0000b` } });
      expect(res.status, JSON.stringify(res.body)).toBe(400);
      expect(res.body.error.code).toBe('VALIDATION_FAILED');
      expect(res.body.error.details.fields).toEqual([expect.objectContaining({ field: `body.${field}` })]);
    }
  });

  it('NUL anywhere — nested body, object key, query, path, forged cursor — is a 400, never a 500', async () => {
    const nested = await t.request('PUT', '/api/system-operations/CanManageChats', { token: t.adminToken, body: { userIds: [UNKNOWN, 'x\u0000'], roleIds: [] } });
    expect(nested.status).toBe(400);
    expect(nested.body.error.details.fields[0].field).toBe('body.userIds.1');
    const key = await t.request('PATCH', '/api/auth/me', { token: t.adminToken, body: { name: 'ok', ['bad\u0000key']: 1 } });
    expect(key.status).toBe(400);
    const query = await t.request('GET', '/api/users?q=%00', { token: t.adminToken });
    expect(query.status).toBe(400);
    expect(query.body.error.details.fields[0].field).toBe('querystring.q');
    const param = await t.request('GET', '/api/system-settings/Site%00Url', { token: t.adminToken });
    expect(param.status).toBe(400);
    expect(param.body.error.details.fields[0].field).toBe('params.code');
    const token = await t.request('DELETE', '/api/api-tokens/%00', { token: t.adminToken });
    expect(token.status).toBe(400);
    for (const forged of [{ k: 'a', id: `${UNKNOWN}\u0000` }, { k: 'a\u0000', id: UNKNOWN }, { k: {}, id: UNKNOWN }, { k: 'a', id: 7 }, [1, 2]]) {
      const cursor = encodeCursor(forged as any);
      const res = await t.request('GET', `/api/users?cursor=${cursor}`, { token: t.adminToken });
      expect(res.status, JSON.stringify(forged)).toBe(400);
      expect(res.body.error.details.fields[0].field).toBe('cursor');
    }
    // Login with a NUL email: a 400, and no 500 from the lookup.
    const login = await t.request('POST', '/api/auth/login', { body: { email: 'nul\u0000@example.test', password: 'whatever-1' } });
    expect(login.status).toBe(400);
  });

  it.each(ROUTES.filter((r) => r.path.includes('{id}')))('$method $path: junk id → 400, unknown id → 404', async (r) => {
    const junk = await t.request(r.method, withId(r.path, 'not-a-uuid'), { token: t.adminToken, body: r.body });
    expect(junk.status).toBe(400);
    const unknown = await t.request(r.method, withId(r.path, UNKNOWN), { token: t.adminToken, body: r.body });
    expect(unknown.status).toBe(404);
    expect(unknown.body.error.code).toBe('NOT_FOUND');
  });

  it.each(ROUTES.filter((r) => !r.public))('$method $path: no credentials → 401', async (r) => {
    const res = await t.request(r.method, withId(r.path, UNKNOWN) + qs(r.query), { body: r.body });
    expect(res.status).toBe(401);
    expect(res.body.error.code).toBe('UNAUTHORIZED');
  });

  it('POST /api/auth/login: wrong credentials → 401 UNAUTHORIZED', async () => {
    const res = await t.request('POST', '/api/auth/login', { body: { email: 'nobody@example.test', password: 'not-the-password' } });
    expect(res.status).toBe(401);
    expect(res.body.error.code).toBe('UNAUTHORIZED');
  });

  it.each(ROUTES.filter((r) => r.admin))('$method $path: a user without CanManageAdministration → 403 naming it', async (r) => {
    const target = await targetFor(r);
    const res = await t.request(r.method, withId(r.path, target) + qs(r.query), { token: plain.token, body: r.body });
    expect(res.status).toBe(403);
    expect(res.body.error).toMatchObject({ code: 'FORBIDDEN', details: { operation: 'CanManageAdministration' } });
  });

  it('settings file routes: not multipart, not audio, unknown code, not a file setting → 400/404, never 500', async () => {
    const path = '/api/system-settings/OmniChatNotificationSound/file';
    const json = await t.request('PUT', path, { token: t.adminToken, body: { file: 'x' } });
    expect(json.status).toBe(400);
    expect(json.body.error.code).toBe('VALIDATION_FAILED');
    const upload = async (code: string, blob: Blob, name: string) => {
      const form = new FormData();
      form.append('file', blob, name);
      const res = await fetch(`${t.url}/api/system-settings/${code}/file`, { method: 'PUT', headers: { authorization: `Bearer ${t.adminToken}` }, body: form });
      return { status: res.status, body: (await res.json()) as any };
    };
    expect((await upload('OmniChatNotificationSound', new Blob(['<b>'], { type: 'text/html' }), 'x.html')).status).toBe(400);
    expect((await upload('SiteUrl', new Blob(['x'], { type: 'audio/mpeg' }), 'x.mp3')).status).toBe(400);
    expect((await upload('NoSuchSetting', new Blob(['x'], { type: 'audio/mpeg' }), 'x.mp3')).status).toBe(404);
    expect((await upload('OmniChatNotificationSound', new Blob(['x'], { type: 'audio/mpeg' }), "'; DROP TABLE settings; --\u0000.mp3")).status).toBeLessThan(500);
    expect((await t.request('GET', '/api/system-settings/NoSuchSetting/file', { token: t.adminToken })).status).toBe(404);
    expect((await t.request('GET', '/api/system-settings/SiteUrl/file', { token: t.adminToken })).status).toBe(404);
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
