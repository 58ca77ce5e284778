import type { Kysely, Migration } from 'kysely';

export const settingsMigrations: Record<string, Migration> = {
  '0200_settings_base': {
    async up(db: Kysely<any>) {
      await db.schema
        .createTable('system_settings')
        .addColumn('code', 'varchar(100)', (c) => c.primaryKey())
        .addColumn('value', 'text')
        .addColumn('updated_at', 'varchar(30)', (c) => c.notNull())
        .addColumn('updated_by', 'varchar(36)')
        .execute();
      await db.schema
        .createTable('user_settings')
        .addColumn('code', 'varchar(100)', (c) => c.notNull())
        .addColumn('user_id', 'varchar(36)', (c) => c.notNull().references('users.id').onDelete('cascade'))
        .addColumn('value', 'text', (c) => c.notNull())
        .addColumn('updated_at', 'varchar(30)', (c) => c.notNull())
        .addPrimaryKeyConstraint('user_settings_pk', ['code', 'user_id'])
        .execute();
    },
  },
};
