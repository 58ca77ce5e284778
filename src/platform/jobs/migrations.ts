import { sql, type Kysely, type Migration } from 'kysely';

const ts = 'varchar(30)';

export const jobsMigrations: Record<string, Migration> = {
  '0020_platform_jobs': {
    async up(db: Kysely<any>) {
      await db.schema
        .createTable('jobs')
        .addColumn('id', 'varchar(36)', (c) => c.primaryKey())
        .addColumn('name', 'varchar(200)', (c) => c.notNull())
        .addColumn('data', 'text', (c) => c.notNull())
        .addColumn('job_key', 'varchar(500)')
        .addColumn('state', 'varchar(16)', (c) => c.notNull())
        .addColumn('run_at', ts, (c) => c.notNull())
        .addColumn('attempts_made', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('max_attempts', 'integer', (c) => c.notNull().defaultTo(1))
        .addColumn('backoff', 'text')
        .addColumn('last_error', 'text')
        .addColumn('locked_by', 'varchar(200)')
        .addColumn('locked_until', ts)
        .addColumn('stalled_count', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('created_at', ts, (c) => c.notNull())
        .addColumn('finished_at', ts)
        .execute();
      // The claim query: runnable jobs of one name, oldest run_at first.
      await db.schema.createIndex('jobs_claim_idx').on('jobs').columns(['name', 'state', 'run_at']).execute();
      // Orphan recovery (active jobs whose lock expired) and pruning (finished jobs by age).
      await db.schema.createIndex('jobs_state_locked_idx').on('jobs').columns(['state', 'locked_until']).execute();
      await db.schema.createIndex('jobs_state_finished_idx').on('jobs').columns(['state', 'finished_at']).execute();
      // Dedup: one live job per (name, key). Partial unique indexes work on SQLite and PostgreSQL alike;
      // finished jobs keep their key for diagnostics without blocking a new job with the same key.
      await db.schema
        .createIndex('jobs_live_key_uq')
        .on('jobs')
        .columns(['name', 'job_key'])
        .unique()
        .where(sql<boolean>`state in ('waiting', 'delayed', 'active')`)
        .execute();
      await db.schema
        .createTable('job_repeats')
        .addColumn('key', 'varchar(300)', (c) => c.primaryKey())
        .addColumn('name', 'varchar(200)', (c) => c.notNull())
        .addColumn('spec', 'text', (c) => c.notNull())
        .addColumn('data', 'text', (c) => c.notNull())
        .addColumn('next_run_at', ts, (c) => c.notNull())
        .addColumn('updated_at', ts, (c) => c.notNull())
        .execute();
      await db.schema.createIndex('job_repeats_next_idx').on('job_repeats').column('next_run_at').execute();
    },
  },
};
