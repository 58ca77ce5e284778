// Runs the one set of migrations (src/migrations.ts) on either dialect.
// Modules contribute migrations named "<NNNN>_<module>_<what>"; the number orders modules so that
// foreign keys point backwards (0100 identity, 0200 settings, 0300 crm, 0400 mail, 0500 chat ...).
import { Migrator, PostgresAdapter, sql, type Kysely, type Migration, type MigrationResultSet } from 'kysely';

export async function migrateToLatest(db: Kysely<any>, migrations: Record<string, Migration>): Promise<MigrationResultSet> {
  // On PostgreSQL, Kysely looks for its migration tables in *every* schema unless told which one;
  // another schema's kysely_migration_lock (a parallel test, another tenant) then makes it skip
  // creating ours and fail with "relation kysely_migration_lock does not exist". Pin it to ours.
  let migrationTableSchema: string | undefined;
  if (db.getExecutor().adapter instanceof PostgresAdapter) {
    const r = await sql<{ s: string }>`select current_schema() as s`.execute(db);
    migrationTableSchema = r.rows[0]?.s;
  }
  const migrator = new Migrator({
    db,
    migrationTableSchema,
    provider: { getMigrations: async () => migrations },
    // Modules land independently; a later-numbered module may have shipped first.
    allowUnorderedMigrations: true,
  });
  const result = await migrator.migrateToLatest();
  if (result.error) {
    const failed = result.results?.find((r) => r.status === 'Error');
    const err = result.error as Error;
    throw new Error(`Migration ${failed?.migrationName ?? '(unknown)'} failed: ${err.message}`, { cause: err });
  }
  return result;
}
