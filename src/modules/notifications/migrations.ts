import type { Kysely, Migration } from 'kysely';

const ts = 'varchar(30)';

export const notificationsMigrations: Record<string, Migration> = {
  '0350_notifications_base': {
    async up(db: Kysely<any>) {
      await db.schema
        .createTable('notifications')
        .addColumn('id', 'varchar(36)', (c) => c.primaryKey())
        .addColumn('user_id', 'varchar(36)', (c) => c.notNull().references('users.id').onDelete('cascade'))
        .addColumn('kind', 'varchar(100)', (c) => c.notNull())
        .addColumn('title', 'varchar(500)', (c) => c.notNull())
        .addColumn('body', 'text')
        .addColumn('links', 'text', (c) => c.notNull())
        .addColumn('read_at', ts)
        .addColumn('created_at', ts, (c) => c.notNull())
        .execute();
      // The list is "my notifications, newest first" (keyset on created_at, id).
      await db.schema.createIndex('notifications_user_created_idx').on('notifications').columns(['user_id', 'created_at', 'id']).execute();
    },
    async down(db: Kysely<any>) {
      await db.schema.dropTable('notifications').execute();
    },
  },
};
