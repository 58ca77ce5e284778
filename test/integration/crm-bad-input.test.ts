// Bad input on every CRM route, table-driven (crm-route-table.ts), on both dialects: no token →
// 401, junk id → 400, unknown id → 404, someone else's record → 404/403, malformed JSON → 400
// INVALID_JSON, wrong types → 400 VALIDATION_FAILED naming the field, bounds, oversized bodies.
// The hostile-string sweep over every field lives in crm-hostile-strings.test.ts (same table).
import { describe, expect, it } from 'vitest';
import { dialects } from '../helpers/db.js';
import { HOSTILE, ROUTES, UNKNOWN, label, useCrmFixtures } from './crm-route-table.js';

const DIALECTS = await dialects();

describe.each(DIALECTS)('CRM bad input on %s', (dialect) => {
  const b = useCrmFixtures(dialect);

  it.each(ROUTES.filter((r) => r.ok))('$method $path: the valid sample works for the owner', async (r) => {
    const res = await b.t.request(r.method, b.url(r, undefined, b.sampleQuery(r)), { token: b.f.alice.token, body: r.body?.(b.f) });
    expect(res.status, JSON.stringify(res.body)).toBe(r.ok);
  });

  it.each(ROUTES)('$method $path: no token → 401', async (r) => {
    const res = await b.t.request(r.method, b.url(r, undefined, b.sampleQuery(r)), { body: r.body?.(b.f) });
    expect(res.status).toBe(401);
    expect(res.body.error.code).toBe('UNAUTHORIZED');
  });

  it.each(ROUTES.filter((r) => r.id))('$method $path: junk id → 400, unknown id → 404, hostile id → never 500', async (r) => {
    const junk = await b.t.request(r.method, b.url(r, 'not-a-uuid', b.sampleQuery(r)), { token: b.f.alice.token, body: r.body?.(b.f) });
    expect(junk.status).toBe(400);
    expect(junk.body.error.code).toBe('VALIDATION_FAILED');
    const unknown = await b.t.request(r.method, b.url(r, UNKNOWN, b.sampleQuery(r)), { token: b.f.alice.token, body: r.body?.(b.f) });
    expect(unknown.status, JSON.stringify(unknown.body)).toBe(404);
    expect(unknown.body.error.code).toBe('NOT_FOUND');
    await Promise.all(
      HOSTILE.map(async (h) => {
        const res = await b.t.request(r.method, b.url(r, h, b.sampleQuery(r)), { token: b.f.alice.token, body: r.body?.(b.f) });
        expect(res.status, `${label(r)} id=${h.slice(0, 30)}`).toBeGreaterThanOrEqual(400);
        expect(res.status, `${label(r)} id=${h.slice(0, 30)}`).toBeLessThan(500);
      }),
    );
  });

  it.each(ROUTES.filter((r) => r.id))("$method $path: another user's record → 404 or 403", async (r) => {
    const res = await b.t.request(r.method, b.url(r, undefined, b.sampleQuery(r)), { token: b.f.bob.token, body: r.body?.(b.f) });
    expect([403, 404], JSON.stringify(res.body)).toContain(res.status);
  });

  it.each(ROUTES.filter((r) => r.body))('$method $path: malformed JSON → 400 INVALID_JSON', async (r) => {
    const res = await b.t.request(r.method, b.url(r), { token: b.f.alice.token, raw: '{"name": "x",' });
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('INVALID_JSON');
  });

  it.each(ROUTES.filter((r) => r.body))('$method $path: wrong types → 400 VALIDATION_FAILED naming each field', async (r) => {
    const sample = r.body!(b.f);
    for (const key of Object.keys(sample)) {
      // A number is wrong for every field here (strings, enums, ids, arrays, objects, booleans).
      const res = await b.t.request(r.method, b.url(r), { token: b.f.alice.token, body: { ...sample, [key]: 12345 } });
      expect(res.status, `${label(r)} ${key}`).toBe(400);
      expect(res.body.error.code).toBe('VALIDATION_FAILED');
      const fields: string[] = res.body.error.details.fields.map((x: any) => x.field);
      expect(fields.some((x) => x.split('.').includes(key)), `${label(r)} ${key}: ${fields.join(',')}`).toBe(true);
    }
  });

  it('stores SQL-looking and wildcard text verbatim and finds it literally', async () => {
    for (const name of ["'; DROP TABLE crm_contacts; --", '50%_off\\now', 'Ωмега 🚀']) {
      const res = await b.t.request('POST', '/api/contacts', { token: b.f.bob.token, body: { name, notes: name, emails: [{ email: 'o\'brien@example.test', label: name }] } });
      expect(res.status).toBe(201);
      expect(res.body.name).toBe(name);
      expect(res.body.emails[0].label).toBe(name);
      const found = await b.t.request('GET', `/api/contacts?q=${encodeURIComponent(name)}`, { token: b.f.bob.token });
      expect(found.body.items.map((x: any) => x.name)).toEqual([name]);
    }
    const byEmail = await b.t.request('GET', `/api/contacts?email=${encodeURIComponent("O'Brien@example.test")}`, { token: b.f.bob.token });
    expect(byEmail.body.items).toHaveLength(3);
    // The tables are still there.
    expect((await b.t.request('GET', '/api/contacts?limit=1', { token: b.t.adminToken })).status).toBe(200);
  });

  it('bounds arrays and lengths, and refuses oversized bodies', async () => {
    const tooMany = await b.t.request('POST', '/api/contacts', {
      token: b.f.alice.token,
      body: { name: 'Many', emails: Array.from({ length: 51 }, (_, i) => ({ email: `m${i}@example.test` })) },
    });
    expect(tooMany.status).toBe(400);
    expect(tooMany.body.error.details.fields.map((x: any) => x.field).join(',')).toContain('emails');
    const twoPrimaries = await b.t.request('POST', '/api/contacts', {
      token: b.f.alice.token,
      body: { name: 'Two', emails: [{ email: 'a@example.test', isPrimary: true }, { email: 'b@example.test', isPrimary: true }] },
    });
    expect(twoPrimaries.status).toBe(400);
    const dup = await b.t.request('POST', '/api/contacts', { token: b.f.alice.token, body: { name: 'Dup', emails: [{ email: 'a@example.test' }, { email: 'A@example.test' }] } });
    expect(dup.status).toBe(400);
    const longName = await b.t.request('POST', '/api/contacts', { token: b.f.alice.token, body: { name: 'x'.repeat(201) } });
    expect(longName.status).toBe(400);
    expect(longName.body.error.details.fields.map((x: any) => x.field).join(',')).toContain('name');
    const huge = await b.t.request('POST', '/api/contacts', { token: b.f.alice.token, body: { name: 'Huge', notes: 'x'.repeat(300 * 1024) } });
    expect(huge.status).toBe(413);
    const limit = await b.t.request('GET', '/api/contacts?limit=100000', { token: b.f.alice.token });
    expect(limit.status).toBe(400);
    const badDate = await b.t.request('POST', '/api/activities', { token: b.f.alice.token, body: { title: 'x', start: '2026-13-45' } });
    expect(badDate.status).toBe(400);
    expect(badDate.body.error.details.fields.map((x: any) => x.field).join(',')).toContain('start');
  });
});
