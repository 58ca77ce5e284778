import type { Kysely, Migration } from 'kysely';

const ts = 'varchar(30)';

export const mailboxesMigrations: Record<string, Migration> = {
  '0420_mailboxes_base': {
    async up(db: Kysely<any>) {
      await db.schema
        .createTable('mailboxes')
        .addColumn('id', 'varchar(36)', (c) => c.primaryKey())
        .addColumn('user_id', 'varchar(36)', (c) => c.notNull().references('users.id').onDelete('cascade'))
        .addColumn('email', 'varchar(320)', (c) => c.notNull())
        .addColumn('login', 'varchar(320)', (c) => c.notNull())
        // No cascade: deleting a provider that mailboxes use must fail (M4).
        .addColumn('provider_id', 'varchar(36)', (c) => c.notNull().references('mail_providers.id'))
        .addColumn('kind', 'varchar(20)', (c) => c.notNull())
        .addColumn('status', 'varchar(20)', (c) => c.notNull())
        .addColumn('status_reason', 'text')
        .addColumn('load_period', 'varchar(20)', (c) => c.notNull())
        .addColumn('auto_load', 'integer', (c) => c.notNull())
        .addColumn('all_folders', 'integer', (c) => c.notNull())
        .addColumn('selected_folders', 'text', (c) => c.notNull())
        .addColumn('send_enabled', 'integer', (c) => c.notNull())
        .addColumn('default_sender', 'varchar(320)')
        .addColumn('alias', 'varchar(200)')
        .addColumn('use_signature', 'integer', (c) => c.notNull())
        .addColumn('signature_html', 'text')
        .addColumn('created_at', ts, (c) => c.notNull())
        .addColumn('updated_at', ts, (c) => c.notNull())
        .addUniqueConstraint('mailboxes_user_email_uq', ['user_id', 'email'])
        .execute();
      await db.schema.createIndex('mailboxes_provider_idx').on('mailboxes').column('provider_id').execute();
    },
    async down(db: Kysely<any>) {
      await db.schema.dropTable('mailboxes').execute();
    },
  },
  '0421_mailboxes_retired': {
    async up(db: Kysely<any>) {
      await db.schema
        .createTable('retired_mailboxes')
        .addColumn('id', 'varchar(36)', (c) => c.primaryKey())
        .addColumn('user_id', 'varchar(36)', (c) => c.notNull().references('users.id').onDelete('cascade'))
        .addColumn('email', 'varchar(320)', (c) => c.notNull())
        .addColumn('removed_at', 'varchar(30)', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('retired_mailboxes_user_idx').on('retired_mailboxes').column('user_id').execute();
    },
    async down(db: Kysely<any>) {
      await db.schema.dropTable('retired_mailboxes').execute();
    },
  },
};
