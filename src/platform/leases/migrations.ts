import type { Kysely, Migration } from 'kysely';

export const leasesMigrations: Record<string, Migration> = {
  '0030_platform_leases': {
    async up(db: Kysely<any>) {
      await db.schema
        .createTable('leases')
        .addColumn('name', 'varchar(300)', (c) => c.primaryKey())
        .addColumn('holder', 'varchar(200)', (c) => c.notNull())
        .addColumn('expires_at', 'varchar(30)', (c) => c.notNull())
        .addColumn('acquired_at', 'varchar(30)', (c) => c.notNull())
        .execute();
      // Lets a process list what it holds (e.g. to release everything at shutdown).
      await db.schema.createIndex('leases_holder_idx').on('leases').column('holder').execute();
    },
  },
};
