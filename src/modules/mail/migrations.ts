import type { Kysely, Migration } from 'kysely';

// UIDs and UIDVALIDITY are unsigned 32-bit: bigint (PostgreSQL integer is signed 32-bit).
// HIGHESTMODSEQ is up to 63 bits: kept as text.
export const mailMigrations: Record<string, Migration> = {
  '0440_mail_core': {
    async up(db: Kysely<any>) {
      await db.schema
        .createTable('mail_folders')
        .addColumn('id', 'varchar(36)', (c) => c.primaryKey())
        .addColumn('mailbox_id', 'varchar(36)', (c) => c.notNull())
        .addColumn('path', 'text', (c) => c.notNull())
        .addColumn('delimiter', 'varchar(8)', (c) => c.notNull())
        .addColumn('special_use', 'varchar(30)')
        .addColumn('selectable', 'integer', (c) => c.notNull().defaultTo(1))
        .addColumn('selected', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('on_server', 'integer', (c) => c.notNull().defaultTo(1))
        .addColumn('uidvalidity', 'bigint')
        .addColumn('last_uid', 'bigint', (c) => c.notNull().defaultTo(0))
        .addColumn('highest_modseq', 'varchar(30)')
        .addColumn('total', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('done', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('last_synced_at', 'varchar(30)')
        .addColumn('updated_at', 'varchar(30)', (c) => c.notNull())
        .addUniqueConstraint('mail_folders_mailbox_path_uq', ['mailbox_id', 'path'])
        .execute();

      await db.schema
        .createTable('mail_sync_state')
        .addColumn('mailbox_id', 'varchar(36)', (c) => c.primaryKey())
        .addColumn('state', 'varchar(20)', (c) => c.notNull())
        .addColumn('last_success_at', 'varchar(30)')
        .addColumn('last_error', 'text')
        .addColumn('last_error_at', 'varchar(30)')
        .addColumn('failures', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('next_attempt_at', 'varchar(30)')
        .addColumn('updated_at', 'varchar(30)', (c) => c.notNull())
        .execute();

      await db.schema
        .createTable('emails')
        .addColumn('id', 'varchar(36)', (c) => c.primaryKey())
        .addColumn('mailbox_id', 'varchar(36)', (c) => c.notNull())
        .addColumn('message_key', 'varchar(1000)', (c) => c.notNull())
        .addColumn('message_id', 'varchar(1000)')
        .addColumn('in_reply_to', 'varchar(1000)')
        .addColumn('references_json', 'text', (c) => c.notNull())
        .addColumn('thread_id', 'varchar(36)', (c) => c.notNull())
        .addColumn('direction', 'varchar(3)', (c) => c.notNull())
        .addColumn('subject', 'text', (c) => c.notNull())
        .addColumn('from_address', 'varchar(320)')
        .addColumn('from_name', 'text')
        .addColumn('to_json', 'text', (c) => c.notNull())
        .addColumn('cc_json', 'text', (c) => c.notNull())
        .addColumn('bcc_json', 'text', (c) => c.notNull())
        .addColumn('reply_to_json', 'text', (c) => c.notNull())
        .addColumn('date', 'varchar(30)', (c) => c.notNull())
        .addColumn('headers_json', 'text', (c) => c.notNull())
        .addColumn('text_body', 'text')
        .addColumn('html_body', 'text')
        .addColumn('snippet', 'text', (c) => c.notNull())
        .addColumn('size', 'integer', (c) => c.notNull())
        .addColumn('has_attachments', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('raw_file_key', 'varchar(100)')
        .addColumn('parse_error', 'text')
        .addColumn('flags_json', 'text', (c) => c.notNull())
        .addColumn('is_deleted', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('created_at', 'varchar(30)', (c) => c.notNull())
        .addColumn('updated_at', 'varchar(30)', (c) => c.notNull())
        .addUniqueConstraint('emails_mailbox_key_uq', ['mailbox_id', 'message_key'])
        .execute();
      await db.schema.createIndex('emails_mailbox_date_ix').on('emails').columns(['mailbox_id', 'date', 'id']).execute();
      await db.schema.createIndex('emails_thread_ix').on('emails').columns(['thread_id']).execute();

      await db.schema
        .createTable('email_locations')
        .addColumn('id', 'varchar(36)', (c) => c.primaryKey())
        .addColumn('email_id', 'varchar(36)', (c) => c.notNull().references('emails.id').onDelete('cascade'))
        .addColumn('mailbox_id', 'varchar(36)', (c) => c.notNull())
        .addColumn('folder', 'text', (c) => c.notNull())
        .addColumn('uidvalidity', 'bigint', (c) => c.notNull())
        .addColumn('uid', 'bigint', (c) => c.notNull())
        .addColumn('flags_json', 'text', (c) => c.notNull())
        .addColumn('created_at', 'varchar(30)', (c) => c.notNull())
        .addUniqueConstraint('email_locations_uq', ['mailbox_id', 'folder', 'uidvalidity', 'uid'])
        .execute();
      await db.schema.createIndex('email_locations_email_ix').on('email_locations').columns(['email_id']).execute();

      await db.schema
        .createTable('email_attachments')
        .addColumn('id', 'varchar(36)', (c) => c.primaryKey())
        .addColumn('email_id', 'varchar(36)', (c) => c.notNull().references('emails.id').onDelete('cascade'))
        .addColumn('filename', 'text', (c) => c.notNull())
        .addColumn('content_type', 'varchar(200)', (c) => c.notNull())
        .addColumn('size', 'integer', (c) => c.notNull())
        .addColumn('file_key', 'varchar(100)', (c) => c.notNull())
        .addColumn('content_id', 'varchar(300)')
        .addColumn('inline', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('position', 'integer', (c) => c.notNull().defaultTo(0))
        .execute();
      await db.schema.createIndex('email_attachments_email_ix').on('email_attachments').columns(['email_id']).execute();

      await db.schema
        .createTable('email_participants')
        .addColumn('email_id', 'varchar(36)', (c) => c.notNull().references('emails.id').onDelete('cascade'))
        .addColumn('address', 'varchar(320)', (c) => c.notNull())
        .addColumn('role', 'varchar(10)', (c) => c.notNull())
        .addPrimaryKeyConstraint('email_participants_pk', ['email_id', 'role', 'address'])
        .execute();
      await db.schema.createIndex('email_participants_address_ix').on('email_participants').columns(['address']).execute();

      await db.schema
        .createTable('email_links')
        .addColumn('email_id', 'varchar(36)', (c) => c.notNull().references('emails.id').onDelete('cascade'))
        .addColumn('record_type', 'varchar(20)', (c) => c.notNull())
        .addColumn('record_id', 'varchar(36)', (c) => c.notNull())
        .addPrimaryKeyConstraint('email_links_pk', ['email_id', 'record_type', 'record_id'])
        .execute();
      await db.schema.createIndex('email_links_record_ix').on('email_links').columns(['record_type', 'record_id']).execute();

      await db.schema
        .createTable('email_thread_refs')
        .addColumn('mailbox_id', 'varchar(36)', (c) => c.notNull())
        .addColumn('message_id', 'varchar(1000)', (c) => c.notNull())
        .addColumn('thread_id', 'varchar(36)', (c) => c.notNull())
        .addPrimaryKeyConstraint('email_thread_refs_pk', ['mailbox_id', 'message_id'])
        .execute();
      await db.schema.createIndex('email_thread_refs_thread_ix').on('email_thread_refs').columns(['thread_id']).execute();
    },
    async down(db: Kysely<any>) {
      for (const t of ['email_thread_refs', 'email_links', 'email_participants', 'email_attachments', 'email_locations', 'emails', 'mail_sync_state', 'mail_folders']) {
        await db.schema.dropTable(t).ifExists().execute();
      }
    },
  },
  '0441_mail_outbox': {
    async up(db: Kysely<any>) {
      await db.schema
        .createTable('mail_outbox')
        .addColumn('id', 'varchar(36)', (c) => c.primaryKey())
        .addColumn('email_id', 'varchar(36)', (c) => c.notNull())
        .addColumn('mailbox_id', 'varchar(36)', (c) => c.notNull())
        .addColumn('user_id', 'varchar(36)', (c) => c.notNull())
        .addColumn('envelope_json', 'text', (c) => c.notNull())
        .addColumn('state', 'varchar(10)', (c) => c.notNull())
        .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('last_error', 'text')
        .addColumn('created_at', 'varchar(30)', (c) => c.notNull())
        .addColumn('updated_at', 'varchar(30)', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('mail_outbox_email_ix').on('mail_outbox').columns(['email_id']).execute();
    },
    async down(db: Kysely<any>) {
      await db.schema.dropTable('mail_outbox').ifExists().execute();
    },
  },
  '0442_mail_search_lower': {
    // Lower-cased in JS (SQLite's lower() folds ASCII only), so search is case-insensitive in any script.
    async up(db: Kysely<any>) {
      await db.schema.alterTable('emails').addColumn('search_lower', 'text').execute();
    },
    async down(db: Kysely<any>) {
      await db.schema.alterTable('emails').dropColumn('search_lower').execute();
    },
  },
  '0443_mail_suggestion_dismissals': {
    // Addresses a user hid from "Suggested contacts" (B5); per user, so nobody hides them for others.
    async up(db: Kysely<any>) {
      await db.schema
        .createTable('mail_suggestion_dismissals')
        .addColumn('user_id', 'varchar(36)', (c) => c.notNull().references('users.id').onDelete('cascade'))
        .addColumn('address', 'varchar(320)', (c) => c.notNull())
        .addColumn('created_at', 'varchar(30)', (c) => c.notNull())
        .addPrimaryKeyConstraint('mail_suggestion_dismissals_pk', ['user_id', 'address'])
        .execute();
    },
    async down(db: Kysely<any>) {
      await db.schema.dropTable('mail_suggestion_dismissals').ifExists().execute();
    },
  },
  '0444_mail_folder_coverage': {
    // How far back a folder's mail has been loaded: NULL until its first load (or the first load
    // after a UIDVALIDITY change) has completed, then 'all' or the ISO start of the period it
    // covered. It tells a resumed first load from an incremental pass (only the latter announces
    // email.received) and a widened load period from an unchanged one (backfill).
    async up(db: Kysely<any>) {
      await db.schema.alterTable('mail_folders').addColumn('loaded_since', 'varchar(30)').execute();
      // Folders synced before this column existed: what period they covered is unknown, so they
      // are taken to cover the mailbox's current one (no surprise backfill after an upgrade).
      await db.updateTable('mail_folders').set({ loaded_since: 'unknown' }).where('last_synced_at', 'is not', null).execute();
    },
    async down(db: Kysely<any>) {
      await db.schema.alterTable('mail_folders').dropColumn('loaded_since').execute();
    },
  },
  '0445_mail_settings_version': {
    // Bumped by every mail.mailbox-changed job (settings, password, provider edits). The job runs
    // on any worker; the one holding the mailbox's live connection compares this with what its
    // watcher started from and restarts it — durable, so no message can be lost on the way.
    async up(db: Kysely<any>) {
      await db.schema.alterTable('mail_sync_state').addColumn('settings_version', 'integer', (c) => c.notNull().defaultTo(0)).execute();
    },
    async down(db: Kysely<any>) {
      await db.schema.alterTable('mail_sync_state').dropColumn('settings_version').execute();
    },
  },
};
