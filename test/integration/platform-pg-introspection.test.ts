// Startup migrations introspect the database. Kysely's stock PostgreSQL introspection scans every
// schema and fails with `schema "…" does not exist` when another schema is dropped during the scan
// (another installation or test sharing the database). Ours looks at this installation's schema only.
import { describe, expect, it } from 'vitest';
import pg from 'pg';
import { createTestDb } from '../helpers/db.js';
import { hasPostgres, TEST_DATABASE_URL } from '../helpers/services.js';

describe.runIf(await hasPostgres())('PostgreSQL introspection is limited to our schema', () => {
  it('sees only its own tables, and survives other schemas being created and dropped meanwhile', { timeout: 60_000 }, async () => {
    const a = await createTestDb('postgres');
    const b = await createTestDb('postgres', { migrate: false });
    const churn = new pg.Client({ connectionString: TEST_DATABASE_URL });
    await churn.connect();
    let stop = false;
    let dropped = 0;
    // Another tenant creating and dropping a schema with tables, as fast as it can.
    const other = (async () => {
      while (!stop) {
        const s = `churn_${Date.now().toString(36)}_${Math.random().toString(36).slice(2, 6)}`;
        await churn.query(`CREATE SCHEMA "${s}"; CREATE TABLE "${s}".t1 (id serial primary key, x text); CREATE TABLE "${s}".t2 (id serial primary key)`);
        await churn.query(`DROP SCHEMA "${s}" CASCADE`);
        dropped++;
      }
    })();
    try {
      const mine = await a.db.introspection.getTables();
      expect(mine.length).toBeGreaterThan(10);
      expect(new Set(mine.map((t) => t.schema))).toEqual(new Set([a.schema]));
      expect(mine.find((t) => t.name === 'emails')?.columns.some((c) => c.name === 'message_key')).toBe(true);
      // The empty schema sees nothing of the others, however many scans run while they churn.
      for (let i = 0; i < 40; i++) expect(await b.db.introspection.getTables()).toEqual([]);
      while (dropped < 5) await new Promise((r) => setTimeout(r, 20));
    } finally {
      stop = true;
      await other;
      await churn.end();
      await a.destroy();
      await b.destroy();
    }
  });
});
