// Bad input on every route of the mail-providers module, and on the mailboxes and notifications
// routes that need no mail server (the table is MAIL_PROVIDER_ROUTES in route-tables.ts; the mail
// and chat table, api-bad-input.test.ts, covers those again against real servers on both
// dialects): malformed JSON, wrong types, SQL-meaningful and oversized strings, junk and unknown
// ids, missing rights and missing sign-in. Never a 500, never a silent pass.
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp, type TestUser } from '../helpers/app.js';
import type { MailProvidersService } from '../../src/modules/mail-providers/index.js';
import { MAIL_PROVIDER_ROUTES as ROUTES, providerBody, type MailProviderRoute as Route } from './route-tables.js';

const HOSTILE = ["'; DROP TABLE mail_providers; --", '%', '_', '\\', '" OR 1=1 --', 'Ωмега 🚀 \u0000', 'x'.repeat(10_000)];
const UNKNOWN = '00000000-0000-4000-8000-000000000000';

let closedPort = 1;

function stringPaths(obj: Record<string, unknown>, prefix: string[] = []): string[][] {
  const out: string[][] = [];
  for (const [k, v] of Object.entries(obj)) {
    if (typeof v === 'string') out.push([...prefix, k]);
    else if (v && typeof v === 'object' && !Array.isArray(v)) out.push(...stringPaths(v as Record<string, unknown>, [...prefix, k]));
  }
  return out;
}

function setPath(obj: Record<string, unknown>, path: string[], value: unknown): Record<string, unknown> {
  const copy = structuredClone(obj);
  let cur: any = copy;
  for (const k of path.slice(0, -1)) cur = cur[k];
  cur[path[path.length - 1]] = value;
  return copy;
}

describe('bad input on mail provider, mailbox and notification routes', () => {
  let t: TestApp;
  let user: TestUser;

  beforeAll(async () => {
    closedPort = await new Promise<number>((resolve) => {
      const s = net.createServer().listen(0, '127.0.0.1', () => {
        const p = (s.address() as net.AddressInfo).port;
        s.close(() => resolve(p));
      });
    });
    t = await startTestApp();
    user = await t.createUser();
    // No DNS on the test machine: detection must not wait for a resolver that never answers.
    (t.modules.mailProviders as MailProvidersService).useMxResolver(async () => []);
  });
  afterAll(async () => {
    await t?.close();
  });

  const at = (r: Route, id: string) => r.path.replace('{id}', id).replace('{domain}', id === UNKNOWN ? 'unknown-domain.example' : id);

  it.each(ROUTES.filter((r) => r.body))('$method $path: malformed JSON → 400 INVALID_JSON', async (r) => {
    const res = await t.request(r.method, at(r, UNKNOWN), { token: t.adminToken, raw: '{"name": "x",' });
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('INVALID_JSON');
  });

  it.each(ROUTES.filter((r) => r.body))('$method $path: wrong types → 400 VALIDATION_FAILED naming fields', async (r) => {
    const wrong = Object.fromEntries(Object.keys(r.body!(closedPort)).map((k) => [k, { nested: [1, 2] }]));
    const res = await t.request(r.method, at(r, UNKNOWN), { token: t.adminToken, body: wrong });
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('VALIDATION_FAILED');
    expect(res.body.error.details.fields.length).toBeGreaterThan(0);
  });

  it.each(ROUTES.filter((r) => r.body))('$method $path: hostile strings in every string field never give a 500', async (r) => {
    const body = r.body!(closedPort);
    for (const path of stringPaths(body)) {
      for (const value of HOSTILE) {
        const res = await t.request(r.method, at(r, UNKNOWN), { token: t.adminToken, body: setPath(body, path, value) });
        expect(res.status, `${path.join('.')}=${value.slice(0, 30)} → ${JSON.stringify(res.body).slice(0, 300)}`).toBeLessThan(500);
        expect(res.body?.error?.code ?? 'none').not.toBe('INTERNAL');
      }
    }
  });

  it.each(ROUTES.filter((r) => r.id))('$method $path: junk id → 400, unknown id → 404', async (r) => {
    const body = r.body?.(closedPort);
    const junk = await t.request(r.method, at(r, "1' OR '1'='1"), { token: t.adminToken, body });
    expect(junk.status).toBe(400);
    const unknown = await t.request(r.method, at(r, UNKNOWN), { token: t.adminToken, body });
    expect(unknown.status).toBe(404);
    expect(unknown.body.error.code).toBe('NOT_FOUND');
  });

  it('DELETE of an unknown domain → 404 (however long), of a junk or overlong domain → 400', async () => {
    expect((await t.request('DELETE', '/api/mail-provider-domains/unknown-domain.example', { token: t.adminToken })).status).toBe(404);
    expect((await t.request('DELETE', `/api/mail-provider-domains/${encodeURIComponent("x'; drop")}`, { token: t.adminToken })).status).toBe(400);
    // A domain longer than the router's default parameter limit (100) is still a domain (up to 253).
    const long = `${'a'.repeat(60)}.${'b'.repeat(60)}.example`;
    expect((await t.request('DELETE', `/api/mail-provider-domains/${long}`, { token: t.adminToken })).status).toBe(404);
    const tooLong = await t.request('DELETE', `/api/mail-provider-domains/${'a'.repeat(300)}.example`, { token: t.adminToken });
    expect(tooLong.status).toBe(400);
    expect(tooLong.body.error.code).toBe('VALIDATION_FAILED');
  });

  it.each(ROUTES.filter((r) => r.admin))('$method $path: non-administrator → 403 FORBIDDEN naming CanManageAdministration', async (r) => {
    const res = await t.request(r.method, at(r, UNKNOWN), { token: user.token, body: r.body?.(closedPort) });
    expect(res.status).toBe(403);
    expect(res.body.error.code).toBe('FORBIDDEN');
    expect(res.body.error.message).toContain('CanManageAdministration');
    expect(res.body.error.details.operation).toBe('CanManageAdministration');
  });

  it.each(ROUTES)('$method $path: anonymous → 401', async (r) => {
    const res = await t.request(r.method, at(r, UNKNOWN), { body: r.body?.(closedPort) });
    expect(res.status).toBe(401);
  });

  it('LIKE wildcards and quotes in searches are literal', async () => {
    // The hostile-strings test above may have created providers literally named "%" etc.
    const all = (await t.request('GET', '/api/mail-providers?limit=500', { token: user.token })).body.items as any[];
    for (const q of ['%', '_', "' OR 1=1 --", '\\']) {
      const p = await t.request('GET', `/api/mail-providers?q=${encodeURIComponent(q)}`, { token: user.token });
      expect(p.status).toBe(200);
      expect(p.body.items.map((x: any) => x.name).sort()).toEqual(all.filter((x) => x.name.toLowerCase().includes(q)).map((x) => x.name).sort());
      expect(p.body.items.length).toBeLessThan(all.length);
      const d = await t.request('GET', `/api/mail-provider-domains?q=${encodeURIComponent(q)}`, { token: user.token });
      expect(d.status).toBe(200);
      expect(d.body.items).toEqual([]);
    }
  });

  it('junk paging parameters → 400, not 500', async () => {
    for (const path of ['/api/mail-providers', '/api/mail-provider-domains', '/api/notifications']) {
      expect((await t.request('GET', `${path}?limit=abc`, { token: user.token })).status).toBe(400);
      expect((await t.request('GET', `${path}?limit=100000`, { token: user.token })).status).toBe(400);
      expect((await t.request('GET', `${path}?cursor=%%%`, { token: user.token })).status).toBe(400);
    }
  });

  it('an unknown providerId when adding a mailbox → 404', async () => {
    const r = await t.request('POST', '/api/mailboxes', { token: user.token, body: { email: 'a@b.example', password: 'pw', providerId: UNKNOWN } });
    expect(r.status).toBe(404);
  });

  it('an unsaved provider test with a closed port reports the TCP step, not an error', async () => {
    const r = await t.request('POST', '/api/mail-providers/test', { token: t.adminToken, body: { ...providerBody(closedPort), email: 'a@b.example', password: 'pw' } });
    expect(r.status).toBe(200);
    expect(r.body.ok).toBe(false);
    expect(r.body.failedStep).toBe('tcp');
    expect(r.body.message).toMatch(/connection refused/);
  });
});
