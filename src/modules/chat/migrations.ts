import { PostgresAdapter, sql, type Kysely, type Migration } from 'kysely';

const ts = 'varchar(30)';
const id = 'varchar(36)';

export const chatMigrations: Record<string, Migration> = {
  '0500_chat_base': {
    async up(db: Kysely<any>) {
      await db.schema
        .createTable('chat_queues')
        .addColumn('id', id, (c) => c.primaryKey())
        .addColumn('name', 'varchar(200)', (c) => c.notNull().unique())
        .addColumn('routing_rule', 'varchar(20)', (c) => c.notNull())
        .addColumn('completion_timeout_minutes', 'integer')
        .addColumn('created_at', ts, (c) => c.notNull())
        .addColumn('updated_at', ts, (c) => c.notNull())
        .execute();
      await db.schema
        .createTable('chat_queue_users')
        .addColumn('queue_id', id, (c) => c.notNull().references('chat_queues.id').onDelete('cascade'))
        .addColumn('user_id', id, (c) => c.notNull().references('users.id').onDelete('cascade'))
        .addPrimaryKeyConstraint('chat_queue_users_pk', ['queue_id', 'user_id'])
        .execute();
      await db.schema.createIndex('chat_queue_users_user_idx').on('chat_queue_users').column('user_id').execute();
      await db.schema
        .createTable('chat_queue_roles')
        .addColumn('queue_id', id, (c) => c.notNull().references('chat_queues.id').onDelete('cascade'))
        .addColumn('role_id', id, (c) => c.notNull().references('roles.id').onDelete('cascade'))
        .addPrimaryKeyConstraint('chat_queue_roles_pk', ['queue_id', 'role_id'])
        .execute();
      await db.schema
        .createTable('chat_operators')
        .addColumn('user_id', id, (c) => c.primaryKey().references('users.id').onDelete('cascade'))
        .addColumn('status', 'varchar(20)', (c) => c.notNull())
        .addColumn('last_assigned_at', ts)
        .addColumn('status_changed_at', ts, (c) => c.notNull())
        .addColumn('status_reason', 'varchar(40)', (c) => c.notNull())
        .execute();
      await db.schema
        .createTable('chat_channels')
        .addColumn('id', id, (c) => c.primaryKey())
        .addColumn('kind', 'varchar(20)', (c) => c.notNull())
        .addColumn('name', 'varchar(200)', (c) => c.notNull())
        .addColumn('is_active', 'integer', (c) => c.notNull().defaultTo(1))
        .addColumn('queue_id', id, (c) => c.notNull().references('chat_queues.id'))
        .addColumn('mode', 'varchar(20)')
        .addColumn('external_id', 'varchar(100)')
        .addColumn('external_username', 'varchar(200)')
        .addColumn('last_error', 'text')
        .addColumn('last_checked_at', ts)
        .addColumn('poll_offset', 'bigint')
        .addColumn('created_at', ts, (c) => c.notNull())
        .addColumn('updated_at', ts, (c) => c.notNull())
        .execute();
      await db.schema
        .createTable('chat_inbound_updates')
        .addColumn('id', id, (c) => c.primaryKey())
        .addColumn('channel_id', id, (c) => c.notNull().references('chat_channels.id').onDelete('cascade'))
        .addColumn('external_update_id', 'varchar(100)', (c) => c.notNull())
        .addColumn('payload', 'text', (c) => c.notNull())
        .addColumn('state', 'varchar(20)', (c) => c.notNull())
        .addColumn('error', 'text')
        .addColumn('received_at', ts, (c) => c.notNull())
        .addColumn('processed_at', ts)
        .execute();
      await db.schema
        .createIndex('chat_inbound_updates_ext_uq')
        .on('chat_inbound_updates')
        .columns(['channel_id', 'external_update_id'])
        .unique()
        .execute();
      await db.schema.createIndex('chat_inbound_updates_state_idx').on('chat_inbound_updates').columns(['state', 'received_at']).execute();
      await db.schema
        .createTable('chats')
        .addColumn('id', id, (c) => c.primaryKey())
        .addColumn('channel_id', id, (c) => c.notNull().references('chat_channels.id'))
        .addColumn('queue_id', id, (c) => c.notNull().references('chat_queues.id'))
        .addColumn('contact_id', id)
        .addColumn('external_chat_id', 'varchar(100)', (c) => c.notNull())
        .addColumn('customer_name', 'varchar(400)', (c) => c.notNull())
        .addColumn('customer_username', 'varchar(200)')
        .addColumn('state', 'varchar(20)', (c) => c.notNull())
        .addColumn('operator_id', id, (c) => c.references('users.id').onDelete('set null'))
        .addColumn('open_key', 'varchar(200)', (c) => c.unique())
        .addColumn('created_at', ts, (c) => c.notNull())
        .addColumn('offered_at', ts)
        .addColumn('accepted_at', ts)
        .addColumn('completed_at', ts)
        .addColumn('completed_by', 'varchar(40)')
        .addColumn('last_incoming_at', ts)
        .addColumn('last_outgoing_at', ts)
        .addColumn('last_message_at', ts, (c) => c.notNull())
        .execute();
      // Routing walks a queue's waiting chats in arrival order; capacity counts an operator's open chats.
      await db.schema.createIndex('chats_queue_state_idx').on('chats').columns(['queue_id', 'state', 'created_at']).execute();
      await db.schema.createIndex('chats_operator_state_idx').on('chats').columns(['operator_id', 'state']).execute();
      await db.schema.createIndex('chats_channel_ext_idx').on('chats').columns(['channel_id', 'external_chat_id']).execute();
      await db.schema.createIndex('chats_contact_idx').on('chats').column('contact_id').execute();
      await db.schema
        .createTable('chat_offers')
        .addColumn('id', id, (c) => c.primaryKey())
        .addColumn('chat_id', id, (c) => c.notNull().references('chats.id').onDelete('cascade'))
        .addColumn('user_id', id, (c) => c.notNull().references('users.id').onDelete('cascade'))
        .addColumn('rule', 'varchar(20)', (c) => c.notNull())
        .addColumn('state', 'varchar(20)', (c) => c.notNull())
        .addColumn('created_at', ts, (c) => c.notNull())
        .addColumn('expires_at', ts)
        .addColumn('resolved_at', ts)
        .execute();
      await db.schema.createIndex('chat_offers_chat_idx').on('chat_offers').columns(['chat_id', 'state']).execute();
      await db.schema.createIndex('chat_offers_user_idx').on('chat_offers').columns(['user_id', 'state']).execute();
      await db.schema
        .createTable('chat_messages')
        .addColumn('id', id, (c) => c.primaryKey())
        .addColumn('chat_id', id, (c) => c.notNull().references('chats.id').onDelete('cascade'))
        .addColumn('channel_id', id, (c) => c.notNull())
        .addColumn('direction', 'varchar(4)', (c) => c.notNull())
        .addColumn('author_user_id', id)
        .addColumn('text', 'text')
        .addColumn('files', 'text', (c) => c.notNull())
        .addColumn('external_update_id', 'varchar(100)')
        .addColumn('external_message_id', 'varchar(100)')
        .addColumn('delivery', 'varchar(20)')
        .addColumn('send_error', 'text')
        .addColumn('created_at', ts, (c) => c.notNull())
        .execute();
      await db.schema.createIndex('chat_messages_chat_idx').on('chat_messages').columns(['chat_id', 'created_at']).execute();
      await db.schema
        .createIndex('chat_messages_update_uq')
        .on('chat_messages')
        .columns(['channel_id', 'external_update_id'])
        .unique()
        .execute();
      await db.schema
        .createTable('chat_files')
        .addColumn('id', id, (c) => c.primaryKey())
        .addColumn('chat_id', id, (c) => c.notNull().references('chats.id').onDelete('cascade'))
        .addColumn('message_id', id)
        .addColumn('name', 'varchar(400)', (c) => c.notNull())
        .addColumn('mime_type', 'varchar(200)', (c) => c.notNull())
        .addColumn('size', 'integer', (c) => c.notNull())
        .addColumn('file_key', 'varchar(200)', (c) => c.notNull())
        .addColumn('kind', 'varchar(20)', (c) => c.notNull())
        .addColumn('created_at', ts, (c) => c.notNull())
        .execute();
      await db.schema.createIndex('chat_files_message_idx').on('chat_files').column('message_id').execute();
    },
  },
  '0501_chat_channel_delivery': {
    async up(db: Kysely<any>) {
      // The administrator's choice of how updates arrive: 'auto' (webhook when SiteUrl is public,
      // else polling), 'webhook' (e.g. a self-hosted Bot API server on the LAN) or 'polling'.
      await db.schema.alterTable('chat_channels').addColumn('delivery', 'varchar(20)', (c) => c.notNull().defaultTo('auto')).execute();
    },
  },
  '0502_chat_inbound_order': {
    async up(db: Kysely<any>) {
      // The conversation an update belongs to (`<channel>:<external chat>`), so the updates of one
      // conversation are processed in update_id order even when jobs run concurrently.
      await db.schema.alterTable('chat_inbound_updates').addColumn('order_key', 'varchar(200)').execute();
      await db.schema.createIndex('chat_inbound_updates_order_idx').on('chat_inbound_updates').columns(['order_key', 'state']).execute();
    },
  },
  '0503_chat_arrival_seq': {
    async up(db: Kysely<any>) {
      // Arrival order of chats (routing offers a queue's waiting chats in this order). created_at
      // is the process clock in milliseconds: two chats of one millisecond would be ordered by
      // their random ids, and clocks of two processes differ. A database-assigned number does not.
      // PostgreSQL: an identity column. SQLite: the implicit rowid (max + 1 on every insert; one
      // writer at a time, so insert order), copied into seq by a trigger.
      if (db.getExecutor().adapter instanceof PostgresAdapter) {
        await sql`alter table chats add column seq bigint generated by default as identity`.execute(db);
      } else {
        await db.schema.alterTable('chats').addColumn('seq', 'integer').execute();
        await sql`update chats set seq = rowid`.execute(db);
        await sql`create trigger chats_seq_on_insert after insert on chats for each row when new.seq is null begin update chats set seq = new.rowid where rowid = new.rowid; end`.execute(db);
      }
      await db.schema.createIndex('chats_queue_state_seq_idx').on('chats').columns(['queue_id', 'state', 'seq']).execute();
    },
  },
  '0504_chat_channel_health': {
    async up(db: Kysely<any>) {
      // Self-diagnosis state (H6): consecutive periodic checks that found the webhook failing (an
      // 'auto' channel falls back to polling after a few), when it last gave up on the webhook (so
      // the check does not switch straight back), and when Telegram last rejected the bot token (a
      // poller does not restart into the same 401 every few seconds).
      await db.schema.alterTable('chat_channels').addColumn('webhook_failures', 'integer', (c) => c.notNull().defaultTo(0)).execute();
      await db.schema.alterTable('chat_channels').addColumn('webhook_gave_up_at', ts).execute();
      await db.schema.alterTable('chat_channels').addColumn('token_rejected_at', ts).execute();
      // "When did a delivery last reach us?" decides whether Telegram's last webhook error is history.
      await db.schema.createIndex('chat_inbound_updates_channel_received_idx').on('chat_inbound_updates').columns(['channel_id', 'received_at']).execute();
    },
  },
};
