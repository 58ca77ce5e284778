// Every /api route is in a bad-input table: the foundation table (bad-input.test.ts), the CRM table
// (crm-bad-input.test.ts, crm-hostile-strings.test.ts), the mail-providers table
// (mail-providers-bad-input.test.ts) or the mail and chat table (api-bad-input.test.ts) — or is
// exempt here, with the reason. A new route that is in none of them fails this test, and so does a
// table entry or an exemption for a route the server no longer has.
//
// The routes come from the server's router (not only the OpenAPI document, which leaves out hidden
// routes such as the document itself and the realtime WebSocket); the document is checked to list
// nothing the router lacks.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { ROUTES as API_ROUTES } from './api-route-table.js';
import { ROUTES as CRM_ROUTES } from './crm-route-table.js';
import { FOUNDATION_ROUTES, MAIL_PROVIDER_ROUTES } from './route-tables.js';

/** Routes no bad-input table drives, and why. */
const EXEMPT: { route: string; reason: string }[] = [
  { route: 'GET /api/health', reason: 'public probe for load balancers: no caller, no input (platform-health.test.ts)' },
  { route: 'GET /api/openapi.json', reason: 'the public API document itself: no caller, no input' },
  { route: 'GET /api/realtime', reason: 'WebSocket upgrade, not a JSON route; its sign-in and messages are tested in realtime.test.ts' },
];

const TABLES: [string, { method: string; path: string }[]][] = [
  ['foundation (route-tables.ts)', FOUNDATION_ROUTES],
  ['CRM (crm-route-table.ts)', CRM_ROUTES],
  ['mail providers (route-tables.ts)', MAIL_PROVIDER_ROUTES],
  ['mail and chat (api-route-table.ts)', API_ROUTES],
];

/** "METHOD /path/{param}" of every route in Fastify's printRoutes tree (HEAD is implied by GET). */
function routerRoutes(tree: string): string[] {
  const out: string[] = [];
  const stack: string[] = [];
  for (const line of tree.split('\n')) {
    const m = /^([│ ]*)[├└]── (\S+)(?: \(([^)]*)\))?$/.exec(line.replace(/\u00a0/g, ' '));
    if (!m) continue;
    const depth = m[1].length / 4;
    stack.length = depth;
    stack.push(m[2]);
    if (!m[3]) continue;
    const path = stack.join('').replace(/:(\w+)/g, '{$1}');
    for (const method of m[3].split(',').map((s) => s.trim())) if (method !== 'HEAD') out.push(`${method} ${path}`);
  }
  return out;
}

/** The route a table entry exercises: the same method and shape, static segments winning over params (as the router does). */
function routeOf(entry: { method: string; path: string }, routes: string[]): string | null {
  const segs = entry.path.split('/');
  let best: { route: string; statics: number } | null = null;
  for (const route of routes) {
    const [method, path] = route.split(' ');
    if (method !== entry.method) continue;
    const rsegs = path.split('/');
    if (rsegs.length !== segs.length) continue;
    let statics = 0;
    const fits = rsegs.every((r, i) => {
      if (/^\{\w+\}$/.test(r)) return true;
      if (r === segs[i]) return ++statics > 0;
      return false;
    });
    if (fits && (!best || statics > best.statics)) best = { route, statics };
  }
  return best?.route ?? null;
}

describe('every /api route is in a bad-input table', () => {
  let t: TestApp;
  let routes: string[];
  beforeAll(async () => {
    t = await startTestApp();
    routes = routerRoutes(t.app.printRoutes({ commonPrefix: false })).filter((r) => r.split(' ')[1].startsWith('/api/'));
  });
  afterAll(async () => {
    await t?.close();
  });

  it('reads the router (sanity: known routes are found)', () => {
    expect(routes).toContain('GET /api/emails/{id}/attachments/{attachmentId}');
    expect(routes).toContain('GET /api/mailboxes/{id}/sync-status');
    expect(routes).toContain('POST /api/auth/login');
    expect(routes.length).toBeGreaterThan(100);
  });

  it('the OpenAPI document lists no route the router lacks', async () => {
    const doc = await t.request('GET', '/api/openapi.json');
    const documented = Object.entries(doc.body.paths as Record<string, Record<string, unknown>>)
      .filter(([path]) => path.startsWith('/api/'))
      .flatMap(([path, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${path}`));
    expect(documented.filter((r) => !routes.includes(r))).toEqual([]);
  });

  it('no /api route is missing from every table (nor exempt)', () => {
    const covered = new Set<string>(EXEMPT.map((e) => e.route));
    for (const [, table] of TABLES) for (const entry of table) covered.add(routeOf(entry, routes) ?? '');
    expect(routes.filter((r) => !covered.has(r)), 'add these routes to a bad-input table (or to EXEMPT with a reason)').toEqual([]);
  });

  it('no table entry or exemption names a route the server does not have', () => {
    const stale = TABLES.flatMap(([name, table]) => table.filter((e) => !routeOf(e, routes)).map((e) => `${name}: ${e.method} ${e.path}`));
    stale.push(...EXEMPT.filter((e) => !routes.includes(e.route)).map((e) => `EXEMPT: ${e.route}`));
    expect(stale).toEqual([]);
  });
});
