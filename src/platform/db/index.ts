// Kysely over SQLite (embedded default) or PostgreSQL (DATABASE_URL).
// Cross-dialect conventions every module follows (so one set of migrations runs on both):
//   - ids are text UUIDs (crypto.randomUUID());
//   - timestamps are ISO-8601 UTC text from `nowIso()` (fixed width, so they sort as text);
//   - booleans are integer 0/1 (better-sqlite3 cannot bind JS booleans) — use `toBool`/`fromBool`;
//   - JSON is text — use `toJson`/`fromJson`;
//   - row locks: `forUpdate(qb, dialect)` adds FOR UPDATE [SKIP LOCKED] on PostgreSQL only;
//     SQLite serialises writers itself (one connection per process, BEGIN IMMEDIATE);
//   - SQLite has ONE connection per process: inside db.transaction().execute(trx => …) use only
//     `trx` — a query on `db` there would wait for the transaction forever (sqlite-guard.ts turns
//     that into an error after 20 s).
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import pg from 'pg';
import { Kysely, sql, type SelectQueryBuilder } from 'kysely';
import { GuardedSqliteDialect, withStatementCache } from './sqlite-guard.js';
import { SchemaScopedPostgresDialect } from './pg-dialect.js';

export type Dialect = 'sqlite' | 'postgres';

export interface DbHandle<DB> {
  db: Kysely<DB>;
  dialect: Dialect;
  close(): Promise<void>;
}

export interface OpenDbOptions {
  dataDir: string;
  databaseUrl?: string;
  /** PostgreSQL schema to use (tests isolate themselves in a schema of their own). */
  pgSchema?: string;
  /** SQLite file name inside dataDir, or ':memory:'. */
  sqliteFile?: string;
  poolSize?: number;
}

// int8/bigint come back from pg as strings; our counters fit in 2^53, so parse them as numbers.
pg.types.setTypeParser(20, (v) => Number(v));
pg.types.setTypeParser(1700, (v) => Number(v));

export async function openDatabase<DB>(opts: OpenDbOptions): Promise<DbHandle<DB>> {
  if (opts.databaseUrl) {
    const pool = new pg.Pool({
      connectionString: opts.databaseUrl,
      max: opts.poolSize ?? 10,
      ...(opts.pgSchema ? { options: `-c search_path=${opts.pgSchema}` } : {}),
    });
    // A dropped idle connection must not crash the process; the pool replaces it.
    pool.on('error', () => {});
    if (opts.pgSchema) {
      const c = await pool.connect();
      try {
        await c.query(`CREATE SCHEMA IF NOT EXISTS "${opts.pgSchema.replace(/"/g, '')}"`);
      } finally {
        c.release();
      }
    }
    const db = new Kysely<DB>({ dialect: new SchemaScopedPostgresDialect({ pool }) });
    return { db, dialect: 'postgres', close: () => db.destroy() };
  }
  const file = opts.sqliteFile ?? 'switchboard.db';
  let path = file;
  if (file !== ':memory:') {
    // The data dir holds the database and attachments: private to the service user when we create it.
    mkdirSync(opts.dataDir, { recursive: true, mode: 0o700 });
    path = join(opts.dataDir, file);
  }
  const sqlite = new BetterSqlite3(path);
  sqlite.pragma('journal_mode = WAL');
  sqlite.pragma('synchronous = NORMAL');
  sqlite.pragma('foreign_keys = ON');
  sqlite.pragma('busy_timeout = 10000');
  const db = new Kysely<DB>({ dialect: new GuardedSqliteDialect({ database: withStatementCache(sqlite) }) });
  return { db, dialect: 'sqlite', close: () => db.destroy() };
}

export function nowIso(date: Date = new Date()): string {
  return date.toISOString();
}

/**
 * A UUIDv7 (RFC 9562): millisecond time, a per-process sequence, then randomness (62 bits).
 * Ids made later sort later: primary-key and foreign-key indexes grow at their right edge instead
 * of taking inserts at random pages (which, once a table outgrows the page cache, made every insert
 * of a large batch — a first mail sync — touch cold pages), and rows written in the same
 * millisecond keep their order when sorted by (created_at, id), as timelines are. Still
 * unguessable; access is checked anyway.
 */
let lastMs = 0;
let seq = 0;
// One call into the CSPRNG per 512 ids instead of one per id: a first mail sync makes several
// ids per message, and the per-call cost was ~3 % of the sync's main thread (bench/mail.ts).
const RANDOM_POOL = new Uint8Array(4096);
let randomOffset = RANDOM_POOL.length;
function randomBytes8(): Uint8Array {
  if (randomOffset + 8 > RANDOM_POOL.length) {
    crypto.getRandomValues(RANDOM_POOL);
    randomOffset = 0;
  }
  const out = RANDOM_POOL.subarray(randomOffset, randomOffset + 8);
  randomOffset += 8;
  return out;
}
export function newId(): string {
  const now = Date.now();
  if (now > lastMs) {
    lastMs = now;
    seq = 0;
  } else if (++seq > 0xfff) {
    lastMs += 1;
    seq = 0;
  }
  const ts = lastMs.toString(16).padStart(12, '0');
  const rnd = randomBytes8();
  const hex = Buffer.from(rnd.buffer, rnd.byteOffset, 8).toString('hex');
  const variant = ((rnd[0] & 0x3) | 0x8).toString(16);
  return `${ts.slice(0, 8)}-${ts.slice(8, 12)}-7${seq.toString(16).padStart(3, '0')}-${variant}${hex.slice(1, 4)}-${hex.slice(4, 16)}`;
}

export function toBool(v: boolean): number {
  return v ? 1 : 0;
}

export function fromBool(v: unknown): boolean {
  return v === 1 || v === true || v === '1';
}

export function toJson(v: unknown): string {
  return JSON.stringify(v ?? null);
}

export function fromJson<T>(v: unknown, fallback: T): T {
  if (typeof v !== 'string' || v === '') return fallback;
  try {
    return JSON.parse(v) as T;
  } catch {
    return fallback;
  }
}

/** FOR UPDATE (optionally SKIP LOCKED) on PostgreSQL; a no-op on SQLite, whose writers are serialised. */
export function forUpdate<DB, TB extends keyof DB, O>(
  qb: SelectQueryBuilder<DB, TB, O>,
  dialect: Dialect,
  opts: { skipLocked?: boolean } = {},
): SelectQueryBuilder<DB, TB, O> {
  if (dialect !== 'postgres') return qb;
  const locked = qb.forUpdate();
  return opts.skipLocked ? locked.skipLocked() : locked;
}

/** True when the error is a unique-constraint violation on either dialect. */
export function isUniqueViolation(err: unknown): boolean {
  const e = err as { code?: string; message?: string };
  return e?.code === '23505' || e?.code === 'SQLITE_CONSTRAINT_UNIQUE' || e?.code === 'SQLITE_CONSTRAINT_PRIMARYKEY';
}

/** True when the error is a foreign-key violation on either dialect. */
export function isForeignKeyViolation(err: unknown): boolean {
  const e = err as { code?: string };
  return e?.code === '23503' || e?.code === 'SQLITE_CONSTRAINT_FOREIGNKEY';
}

function escapeLike(s: string): string {
  return s.replace(/[\\%_]/g, (c) => `\\${c}`);
}

/** Case-insensitive "contains" on either dialect (user's % and _ are literal). */
export function containsCi(column: string, q: string) {
  return sql<boolean>`lower(${sql.ref(column)}) like ${`%${escapeLike(q.toLowerCase())}%`} escape '\\'`;
}

/** "starts with" on either dialect (prefix's % and _ are literal). */
export function startsWith(column: string, prefix: string) {
  return sql<boolean>`${sql.ref(column)} like ${`${escapeLike(prefix)}%`} escape '\\'`;
}

export { sql };
