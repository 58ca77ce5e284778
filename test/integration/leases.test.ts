import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase } from '../../src/platform/db/index.js';
import { createLeases } from '../../src/platform/leases/index.js';
import type { Database } from '../../src/schema.js';
import { createTestDb, dialects, type TestDb } from '../helpers/db.js';
import { TEST_DATABASE_URL } from '../helpers/services.js';

const DIALECTS = await dialects();

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe.each(DIALECTS)('leases on %s', (dialect) => {
  let t: TestDb;
  // A second connection to the same database, standing in for another process.
  let other: Awaited<ReturnType<typeof openDatabase<Database>>>;

  beforeAll(async () => {
    t = await createTestDb(dialect);
    other = await openDatabase<Database>({
      dataDir: t.dataDir,
      databaseUrl: dialect === 'postgres' ? TEST_DATABASE_URL : undefined,
      pgSchema: t.schema,
    });
  });
  afterAll(async () => {
    await other?.close();
    await t?.destroy();
  });

  it('acquires, renews, refuses another holder, and releases', async () => {
    const a = createLeases(t.db, dialect);
    const b = createLeases(other.db, dialect);
    expect(await a.acquire('res-1', 'A', 5000)).toBe(true);
    const first = await t.db.selectFrom('leases').selectAll().where('name', '=', 'res-1').executeTakeFirstOrThrow();
    expect(await b.acquire('res-1', 'B', 5000)).toBe(false);
    expect(await b.holderOf('res-1')).toBe('A');
    await sleep(5);
    expect(await a.acquire('res-1', 'A', 5000)).toBe(true); // renewal
    const renewed = await t.db.selectFrom('leases').selectAll().where('name', '=', 'res-1').executeTakeFirstOrThrow();
    expect(renewed.acquired_at).toBe(first.acquired_at);
    expect(renewed.expires_at > first.expires_at).toBe(true);
    await b.release('res-1', 'B'); // not B's: no effect
    expect(await a.holderOf('res-1')).toBe('A');
    await a.release('res-1', 'A');
    expect(await a.holderOf('res-1')).toBe(null);
    expect(await b.acquire('res-1', 'B', 5000)).toBe(true);
    expect(await a.holderOf('res-1')).toBe('B');
  });

  it('lets another holder take over an expired lease', async () => {
    const a = createLeases(t.db, dialect);
    const b = createLeases(other.db, dialect);
    expect(await a.acquire('res-2', 'A', 50)).toBe(true);
    expect(await b.acquire('res-2', 'B', 5000)).toBe(false);
    await sleep(80);
    expect(await a.holderOf('res-2')).toBe(null);
    expect(await b.acquire('res-2', 'B', 5000)).toBe(true);
    expect(await a.acquire('res-2', 'A', 5000)).toBe(false);
    const row = await t.db.selectFrom('leases').selectAll().where('name', '=', 'res-2').executeTakeFirstOrThrow();
    expect(row.holder).toBe('B');
  });

  it('gives a contended lease to exactly one holder', async () => {
    const a = createLeases(t.db, dialect);
    const b = createLeases(other.db, dialect);
    for (let round = 0; round < 10; round++) {
      const name = `race-${round}`;
      const attempts = Array.from({ length: 8 }, (_, i) => (i % 2 ? a : b).acquire(name, `H${i}`, 10_000));
      const results = await Promise.all(attempts);
      expect(results.filter(Boolean)).toHaveLength(1);
      const winner = `H${results.indexOf(true)}`;
      expect(await a.holderOf(name)).toBe(winner);
    }
  });

  it('gives an expired contended lease to exactly one new holder', async () => {
    const a = createLeases(t.db, dialect);
    const b = createLeases(other.db, dialect);
    expect(await a.acquire('race-exp', 'old', 20)).toBe(true);
    await sleep(40);
    const results = await Promise.all(
      Array.from({ length: 8 }, (_, i) => (i % 2 ? a : b).acquire('race-exp', `N${i}`, 10_000)),
    );
    expect(results.filter(Boolean)).toHaveLength(1);
  });
});
