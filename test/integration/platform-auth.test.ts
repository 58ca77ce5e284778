// Authentication is decided by the route the router matched, not by the raw URL: the router
// decodes %-escapes and collapses duplicate slashes, so `/%61pi/roles` and `//api/roles` are
// /api/roles and must need a caller just like it. Checked over every route in the OpenAPI
// document, so a route added later without its own requireUser() is covered too.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../helpers/app.js';

const UUID = '00000000-0000-4000-8000-000000000000';
/** Routes that are public on purpose. */
const PUBLIC = new Set(['POST /api/auth/login', 'GET /api/health']);

describe('authentication by matched route', () => {
  let t: TestApp;
  let routes: { method: string; path: string }[];
  beforeAll(async () => {
    t = await startTestApp();
    const doc = (await t.request('GET', '/api/openapi.json')).body;
    routes = [];
    for (const [path, ops] of Object.entries<Record<string, unknown>>(doc.paths)) {
      for (const method of Object.keys(ops)) {
        if (['get', 'post', 'put', 'patch', 'delete'].includes(method)) routes.push({ method: method.toUpperCase(), path: path.replace(/\{[^}]+\}/g, UUID) });
      }
    }
  });
  afterAll(async () => {
    await t?.close();
  });

  const variants = (path: string) => [
    path,
    path.replace('/api/', '/%61pi/'),
    path.replace('/api/', '/%61%70%69/'),
    path.replace(/^\/api\/(.)/, (_m, c: string) => `/api/%${c.charCodeAt(0).toString(16)}`),
    `/${path}`,
    path.replace('/api/', '/api//'),
  ];

  it('the routes under test include the ones that never call requireUser themselves', () => {
    expect(routes.length).toBeGreaterThan(50);
    expect(routes).toContainEqual({ method: 'GET', path: '/api/roles' });
  });

  it('every non-public /api route answers 401 to an anonymous caller, however the path is spelled', async () => {
    const leaks: string[] = [];
    for (const r of routes) {
      if (!r.path.startsWith('/api/') || PUBLIC.has(`${r.method} ${r.path}`)) continue;
      for (const url of variants(r.path)) {
        const res = await t.app.inject({ method: r.method as 'GET', url, headers: r.method === 'GET' || r.method === 'DELETE' ? {} : { 'content-type': 'application/json' }, payload: r.method === 'GET' || r.method === 'DELETE' ? undefined : '{}' });
        if (res.statusCode !== 401) leaks.push(`${r.method} ${url} → ${res.statusCode} ${res.body.slice(0, 80)}`);
      }
    }
    expect(leaks).toEqual([]);
  });

  it('an encoded path still works for a signed-in caller (it is the same route)', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/%61pi/roles', headers: { authorization: `Bearer ${t.adminToken}` } });
    expect(res.statusCode).toBe(200);
    expect(res.json().items.map((r: any) => r.name)).toContain('Administrators');
  });

  it('public routes stay public and unknown paths are a 404, not a 401', async () => {
    expect((await t.app.inject({ method: 'GET', url: '/%61pi/health' })).statusCode).toBe(200);
    expect((await t.app.inject({ method: 'GET', url: '/api/openapi.json' })).statusCode).toBe(200);
    const unknown = await t.app.inject({ method: 'POST', url: '/api/no-such-route', payload: {} });
    expect(unknown.statusCode).toBe(404);
    expect(unknown.json().error.code).toBe('NOT_FOUND');
  });

  it('an anonymous caller cannot make the server read a body: 401 before parsing', async () => {
    // Malformed JSON would be a 400 if it were parsed; authentication answers first.
    const res = await t.app.inject({ method: 'POST', url: '/api/roles', headers: { 'content-type': 'application/json' }, payload: '{"name": ' });
    expect(res.statusCode).toBe(401);
  });
});
