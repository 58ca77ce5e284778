// Hostile strings (SQL, LIKE wildcards, backslash, NUL, lone surrogates, unicode, 10k chars) and
// forged cursors in every string field of every body and query of every CRM route (the table in
// crm-route-table.ts), on both dialects: never a 500.
import { describe, expect, it } from 'vitest';
import { dialects } from '../helpers/db.js';
import { FORGED_CURSORS, HOSTILE, ROUTES, label, stringLeaves, useCrmFixtures, withLeaf } from './crm-route-table.js';

const DIALECTS = await dialects();

describe.each(DIALECTS)('CRM hostile strings on %s', (dialect) => {
  const b = useCrmFixtures(dialect);

  it.each(ROUTES.filter((r) => r.body || r.query))('$method $path: hostile strings in every body and query field never give a 500', async (r) => {
    const body = r.body?.(b.f);
    const query = b.sampleQuery(r);
    // Every (field, hostile value) pair, sent a few dozen at a time (also exercises concurrent writers).
    const cases: { what: string; run: () => Promise<{ status: number; body: any }> }[] = [];
    for (const leaf of body ? stringLeaves(body) : []) {
      for (const h of HOSTILE) {
        cases.push({ what: `body.${leaf.join('.')}=${h.slice(0, 30)}`, run: () => b.t.request(r.method, b.url(r, undefined, query), { token: b.f.alice.token, body: withLeaf(body, leaf, h) }) });
      }
    }
    for (const key of Object.keys(query ?? {})) {
      for (const h of [...HOSTILE, ...(key === 'cursor' ? FORGED_CURSORS : [])]) {
        cases.push({ what: `?${key}=${h.slice(0, 30)}`, run: () => b.t.request(r.method, b.url(r, undefined, { ...query, [key]: h }), { token: b.f.alice.token, body }) });
      }
    }
    for (let i = 0; i < cases.length; i += 24) {
      await Promise.all(
        cases.slice(i, i + 24).map(async (c) => {
          const res = await c.run();
          expect(res.status, `${label(r)} ${c.what} → ${JSON.stringify(res.body).slice(0, 300)}`).toBeLessThan(500);
        }),
      );
    }
  });
});
