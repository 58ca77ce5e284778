// SQLite runs on ONE connection per process (better-sqlite3 is synchronous; Kysely serialises
// with a mutex). Two things follow, and this dialect enforces both:
//  1. Inside `db.transaction().execute(trx => …)`, every query must use `trx`. A query on `db`
//     waits for the connection the transaction holds — forever. Instead of hanging, a wait longer
//     than ACQUIRE_TIMEOUT_MS fails with an error that names the likely cause.
//  2. Transactions start with BEGIN IMMEDIATE, so a second process (the CLI next to the server)
//     waits on busy_timeout instead of failing with SQLITE_BUSY when it upgrades to a writer.
import { CompiledQuery, SqliteDialect, type DatabaseConnection, type Driver } from 'kysely';

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
