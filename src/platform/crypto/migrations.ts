import type { Kysely, Migration } from 'kysely';

export const secretsMigrations: Record<string, Migration> = {
  '0010_platform_secrets': {
    async up(db: Kysely<any>) {
      await db.schema
        .createTable('secrets')
        .addColumn('ref', 'varchar(300)', (c) => c.primaryKey())
        .addColumn('envelope', 'text', (c) => c.notNull())
        .addColumn('updated_at', 'varchar(30)', (c) => c.notNull())
        .execute();
    },
  },
};
