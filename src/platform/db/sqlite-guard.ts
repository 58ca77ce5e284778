// SQLite runs on ONE connection per process (better-sqlite3 is synchronous; Kysely serialises
// with a mutex). Two things follow, and this dialect enforces both:
//  1. Inside `db.transaction().execute(trx => …)`, every query must use `trx`. A query on `db`
//     waits for the connection the transaction holds — forever. Instead of hanging, a wait longer
//     than ACQUIRE_TIMEOUT_MS fails with an error that names the likely cause.
//  2. Transactions start with BEGIN IMMEDIATE, so a second process (the CLI next to the server)
//     waits on busy_timeout instead of failing with SQLITE_BUSY when it upgrades to a writer.
import type BetterSqlite3 from 'better-sqlite3';
import { CompiledQuery, SqliteDialect, type DatabaseConnection, type Driver, type SqliteDatabase } from 'kysely';

/**
 * Kysely prepares every query afresh; compiling the SQL was ~15 % of SQLite's share of a first
 * mail sync (bench/mail.ts). Statements are reusable (all/run are synchronous, and nothing here
 * iterates), so the most recent ones are kept by SQL text. A statement still busy — an iterate()
 * left open — is never handed out twice: a fresh one is prepared instead. SQLite re-prepares a
 * cached statement itself after a schema change.
 */
export function withStatementCache(db: BetterSqlite3.Database, max = 300): SqliteDatabase {
  const cache = new Map<string, BetterSqlite3.Statement>();
  return {
    close: () => {
      cache.clear();
      db.close();
    },
    prepare(sql: string) {
      const hit = cache.get(sql);
      if (hit && !hit.busy) {
        // Re-insert so the Map's order is least-recently-used first.
        cache.delete(sql);
        cache.set(sql, hit);
        return hit;
      }
      const stmt = db.prepare(sql);
      if (!hit) {
        cache.set(sql, stmt);
        if (cache.size > max) cache.delete(cache.keys().next().value as string);
      }
      return stmt;
    },
  } as unknown as SqliteDatabase;
}

const ACQUIRE_TIMEOUT_MS = 20_000;

export class GuardedSqliteDialect extends SqliteDialect {
  override createDriver(): Driver {
    const inner = super.createDriver();
    return {
      init: () => inner.init(),
      async acquireConnection() {
        let timedOut = false;
        let timer: NodeJS.Timeout | undefined;
        const acquiring = inner.acquireConnection();
        // If we gave up waiting, hand the connection straight back when it finally comes.
        acquiring.then((c) => (timedOut ? inner.releaseConnection(c) : undefined)).catch(() => {});
        const timeout = new Promise<never>((_, reject) => {
          timer = setTimeout(() => {
            timedOut = true;
            reject(
              new Error(
                `SQLite connection busy for ${ACQUIRE_TIMEOUT_MS / 1000}s: a query probably used \`db\` inside a transaction callback (use \`trx\`), or a transaction is stuck.`,
              ),
            );
          }, ACQUIRE_TIMEOUT_MS);
        });
        try {
          return await Promise.race([acquiring, timeout]);
        } finally {
          clearTimeout(timer);
        }
      },
      async beginTransaction(connection: DatabaseConnection) {
        await connection.executeQuery(CompiledQuery.raw('begin immediate'));
      },
      commitTransaction: (c) => inner.commitTransaction(c),
      rollbackTransaction: (c) => inner.rollbackTransaction(c),
      savepoint: inner.savepoint?.bind(inner),
      rollbackToSavepoint: inner.rollbackToSavepoint?.bind(inner),
      releaseSavepoint: inner.releaseSavepoint?.bind(inner),
      releaseConnection: (c) => inner.releaseConnection(c),
      destroy: () => inner.destroy(),
    };
  }
}
