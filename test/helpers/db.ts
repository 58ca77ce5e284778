// A fresh, migrated database per test file, on SQLite (temp dir) and on PostgreSQL (a schema of
// its own, dropped afterwards), so suites can run side by side without seeing each other's rows.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { openDatabase, type Dialect, type DbHandle } from '../../src/platform/db/index.js';
import { migrateToLatest } from '../../src/platform/db/migrator.js';
import { migrations } from '../../src/migrations.js';
import type { Database } from '../../src/schema.js';
import { TEST_DATABASE_URL, hasPostgres } from './services.js';

export interface TestDb extends DbHandle<Database> {
  dataDir: string;
  /** PostgreSQL schema (undefined on SQLite). */
  schema?: string;
  /** DATABASE_URL-equivalent settings to open the same database from another process. */
  env: Record<string, string>;
  destroy(): Promise<void>;
}

export async function createTestDb(dialect: Dialect, opts: { migrate?: boolean } = {}): Promise<TestDb> {
  const dataDir = mkdtempSync(join(tmpdir(), 'sb-test-'));
  let schema: string | undefined;
  if (dialect === 'postgres') schema = `t_${Date.now().toString(36)}_${Math.random().toString(36).slice(2, 8)}`;
  const handle = await openDatabase<Database>({
    dataDir,
    databaseUrl: dialect === 'postgres' ? TEST_DATABASE_URL : undefined,
    pgSchema: schema,
  });
  if (opts.migrate !== false) await migrateToLatest(handle.db, migrations);
  const env: Record<string, string> = { SWITCHBOARD_DATA_DIR: dataDir };
  if (schema) {
    env.DATABASE_URL = TEST_DATABASE_URL;
    env.SWITCHBOARD_PG_SCHEMA = schema;
  }
  return {
    ...handle,
    dataDir,
    schema,
    env,
    async destroy() {
      await handle.close();
      if (schema) {
        const c = new pg.Client({ connectionString: TEST_DATABASE_URL });
        await c.connect();
        await c.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
        await c.end();
      }
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** The dialects this run can test: SQLite always, PostgreSQL when it answers (or fails the run when required). */
export async function dialects(): Promise<Dialect[]> {
  return (await hasPostgres()) ? ['sqlite', 'postgres'] : ['sqlite'];
}
