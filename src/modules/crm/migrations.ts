import type { Kysely, Migration } from 'kysely';

const ts = 'varchar(30)';
const id = 'varchar(36)';

export const crmMigrations: Record<string, Migration> = {
  '0300_crm_base': {
    async up(db: Kysely<any>) {
      await db.schema
        .createTable('crm_accounts')
        .addColumn('id', id, (c) => c.primaryKey())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('name_lower', 'text', (c) => c.notNull())
        .addColumn('domain', 'text')
        .addColumn('website', 'text')
        .addColumn('phones', 'text', (c) => c.notNull().defaultTo('[]'))
        .addColumn('notes', 'text')
        .addColumn('owner_id', id, (c) => c.notNull())
        .addColumn('created_by', id)
        .addColumn('created_at', ts, (c) => c.notNull())
        .addColumn('updated_at', ts, (c) => c.notNull())
        .execute();
      await db.schema.createIndex('crm_accounts_name_idx').on('crm_accounts').columns(['name', 'id']).execute();
      await db.schema.createIndex('crm_accounts_name_lower_idx').on('crm_accounts').column('name_lower').execute();
      await db.schema.createIndex('crm_accounts_owner_idx').on('crm_accounts').column('owner_id').execute();
      await db.schema.createIndex('crm_accounts_domain_idx').on('crm_accounts').column('domain').execute();

      await db.schema
        .createTable('crm_contacts')
        .addColumn('id', id, (c) => c.primaryKey())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('name_lower', 'text', (c) => c.notNull())
        .addColumn('account_id', id, (c) => c.references('crm_accounts.id').onDelete('set null'))
        .addColumn('job_title', 'text')
        .addColumn('type', 'varchar(20)', (c) => c.notNull())
        .addColumn('notes', 'text')
        .addColumn('owner_id', id, (c) => c.notNull())
        .addColumn('created_by', id)
        .addColumn('created_at', ts, (c) => c.notNull())
        .addColumn('updated_at', ts, (c) => c.notNull())
        .execute();
      await db.schema.createIndex('crm_contacts_name_idx').on('crm_contacts').columns(['name', 'id']).execute();
      await db.schema.createIndex('crm_contacts_owner_idx').on('crm_contacts').column('owner_id').execute();
      await db.schema.createIndex('crm_contacts_account_idx').on('crm_contacts').column('account_id').execute();

      await db.schema
        .createTable('contact_emails')
        .addColumn('id', id, (c) => c.primaryKey())
        .addColumn('contact_id', id, (c) => c.notNull().references('crm_contacts.id').onDelete('cascade'))
        .addColumn('email', 'varchar(320)', (c) => c.notNull())
        .addColumn('email_lower', 'text', (c) => c.notNull())
        .addColumn('label', 'varchar(100)')
        .addColumn('is_primary', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('position', 'integer', (c) => c.notNull().defaultTo(0))
        .execute();
      // The hot lookup: every participant of every synced message is resolved through this index.
      await db.schema.createIndex('contact_emails_email_idx').on('contact_emails').columns(['email_lower', 'contact_id']).execute();
      await db.schema.createIndex('contact_emails_contact_idx').on('contact_emails').column('contact_id').execute();

      await db.schema
        .createTable('contact_phones')
        .addColumn('id', id, (c) => c.primaryKey())
        .addColumn('contact_id', id, (c) => c.notNull().references('crm_contacts.id').onDelete('cascade'))
        .addColumn('phone', 'varchar(100)', (c) => c.notNull())
        .addColumn('phone_digits', 'varchar(100)', (c) => c.notNull())
        .addColumn('label', 'varchar(100)')
        .addColumn('is_primary', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('position', 'integer', (c) => c.notNull().defaultTo(0))
        .execute();
      await db.schema.createIndex('contact_phones_contact_idx').on('contact_phones').column('contact_id').execute();
      await db.schema.createIndex('contact_phones_digits_idx').on('contact_phones').column('phone_digits').execute();

      await db.schema
        .createTable('contact_channels')
        .addColumn('channel', 'varchar(20)', (c) => c.notNull())
        .addColumn('external_id', 'varchar(200)', (c) => c.notNull())
        .addColumn('contact_id', id, (c) => c.notNull().references('crm_contacts.id').onDelete('cascade'))
        .addColumn('username', 'text')
        .addColumn('created_at', ts, (c) => c.notNull())
        .addPrimaryKeyConstraint('contact_channels_pk', ['channel', 'external_id'])
        .execute();
      await db.schema.createIndex('contact_channels_contact_idx').on('contact_channels').column('contact_id').execute();

      await db.schema
        .createTable('crm_activities')
        .addColumn('id', id, (c) => c.primaryKey())
        .addColumn('type', 'varchar(20)', (c) => c.notNull())
        .addColumn('title', 'text', (c) => c.notNull())
        .addColumn('description', 'text')
        .addColumn('start_at', ts, (c) => c.notNull())
        .addColumn('end_at', ts, (c) => c.notNull())
        .addColumn('all_day', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('owner_id', id, (c) => c.notNull())
        .addColumn('organizer_id', id)
        .addColumn('show_in_calendar', 'integer', (c) => c.notNull().defaultTo(1))
        .addColumn('status', 'varchar(20)', (c) => c.notNull())
        .addColumn('created_by', id)
        .addColumn('created_at', ts, (c) => c.notNull())
        .addColumn('updated_at', ts, (c) => c.notNull())
        .execute();
      await db.schema.createIndex('crm_activities_start_idx').on('crm_activities').columns(['start_at', 'id']).execute();
      await db.schema.createIndex('crm_activities_owner_idx').on('crm_activities').columns(['owner_id', 'start_at']).execute();

      await db.schema
        .createTable('activity_participants')
        .addColumn('activity_id', id, (c) => c.notNull().references('crm_activities.id').onDelete('cascade'))
        .addColumn('participant_type', 'varchar(10)', (c) => c.notNull())
        .addColumn('participant_id', id, (c) => c.notNull())
        .addPrimaryKeyConstraint('activity_participants_pk', ['activity_id', 'participant_type', 'participant_id'])
        .execute();
      await db.schema
        .createIndex('activity_participants_participant_idx')
        .on('activity_participants')
        .columns(['participant_id', 'participant_type'])
        .execute();

      await db.schema
        .createTable('crm_counters')
        .addColumn('name', 'varchar(50)', (c) => c.primaryKey())
        .addColumn('value', 'bigint', (c) => c.notNull())
        .execute();
      await db.insertInto('crm_counters').values({ name: 'case_number', value: 0 }).execute();

      await db.schema
        .createTable('crm_cases')
        .addColumn('id', id, (c) => c.primaryKey())
        .addColumn('number', 'bigint', (c) => c.notNull().unique())
        .addColumn('subject', 'text', (c) => c.notNull())
        .addColumn('description', 'text')
        .addColumn('status', 'varchar(20)', (c) => c.notNull())
        .addColumn('priority', 'varchar(20)', (c) => c.notNull())
        .addColumn('contact_id', id, (c) => c.references('crm_contacts.id').onDelete('set null'))
        .addColumn('account_id', id, (c) => c.references('crm_accounts.id').onDelete('set null'))
        .addColumn('owner_id', id, (c) => c.notNull())
        .addColumn('created_by', id)
        .addColumn('created_at', ts, (c) => c.notNull())
        .addColumn('updated_at', ts, (c) => c.notNull())
        .addColumn('closed_at', ts)
        .execute();
      await db.schema.createIndex('crm_cases_owner_idx').on('crm_cases').column('owner_id').execute();
      await db.schema.createIndex('crm_cases_contact_idx').on('crm_cases').column('contact_id').execute();
      await db.schema.createIndex('crm_cases_account_idx').on('crm_cases').column('account_id').execute();

      await db.schema
        .createTable('crm_tags')
        .addColumn('id', id, (c) => c.primaryKey())
        .addColumn('name', 'varchar(100)', (c) => c.notNull())
        .addColumn('name_lower', 'text', (c) => c.notNull())
        .addColumn('scope', 'varchar(20)', (c) => c.notNull())
        .addColumn('scope_key', 'varchar(60)', (c) => c.notNull())
        .addColumn('owner_id', id, (c) => c.notNull())
        .addColumn('color', 'varchar(20)')
        .addColumn('created_at', ts, (c) => c.notNull())
        .addColumn('updated_at', ts, (c) => c.notNull())
        .execute();
      await db.schema.createIndex('crm_tags_scope_name_uq').on('crm_tags').columns(['scope_key', 'name_lower']).unique().execute();

      await db.schema
        .createTable('record_tags')
        .addColumn('tag_id', id, (c) => c.notNull().references('crm_tags.id').onDelete('cascade'))
        .addColumn('record_type', 'varchar(20)', (c) => c.notNull())
        .addColumn('record_id', id, (c) => c.notNull())
        .addColumn('created_by', id)
        .addColumn('created_at', ts, (c) => c.notNull())
        .addPrimaryKeyConstraint('record_tags_pk', ['tag_id', 'record_type', 'record_id'])
        .execute();
      await db.schema.createIndex('record_tags_record_idx').on('record_tags').columns(['record_type', 'record_id']).execute();

      await db.schema
        .createTable('crm_groups')
        .addColumn('id', id, (c) => c.primaryKey())
        .addColumn('name', 'varchar(200)', (c) => c.notNull())
        .addColumn('name_lower', 'text', (c) => c.notNull())
        .addColumn('kind', 'varchar(20)', (c) => c.notNull())
        .addColumn('description', 'text')
        .addColumn('owner_id', id, (c) => c.notNull())
        .addColumn('created_at', ts, (c) => c.notNull())
        .addColumn('updated_at', ts, (c) => c.notNull())
        .execute();
      await db.schema.createIndex('crm_groups_name_uq').on('crm_groups').columns(['owner_id', 'kind', 'name_lower']).unique().execute();

      await db.schema
        .createTable('crm_group_members')
        .addColumn('group_id', id, (c) => c.notNull().references('crm_groups.id').onDelete('cascade'))
        .addColumn('record_id', id, (c) => c.notNull())
        .addColumn('added_at', ts, (c) => c.notNull())
        .addPrimaryKeyConstraint('crm_group_members_pk', ['group_id', 'record_id'])
        .execute();
      await db.schema.createIndex('crm_group_members_record_idx').on('crm_group_members').column('record_id').execute();

      await db.schema
        .createTable('record_shares')
        .addColumn('id', id, (c) => c.primaryKey())
        .addColumn('record_type', 'varchar(20)', (c) => c.notNull())
        .addColumn('record_id', id, (c) => c.notNull())
        .addColumn('user_id', id, (c) => c.references('users.id').onDelete('cascade'))
        .addColumn('role_id', id, (c) => c.references('roles.id').onDelete('cascade'))
        .addColumn('access', 'varchar(10)', (c) => c.notNull())
        .addColumn('created_at', ts, (c) => c.notNull())
        .execute();
      await db.schema.createIndex('record_shares_record_idx').on('record_shares').columns(['record_type', 'record_id']).execute();
      await db.schema.createIndex('record_shares_user_idx').on('record_shares').columns(['user_id', 'record_type']).execute();
      await db.schema.createIndex('record_shares_role_idx').on('record_shares').columns(['role_id', 'record_type']).execute();

      await db.schema
        .createTable('record_events')
        .addColumn('id', id, (c) => c.primaryKey())
        .addColumn('record_type', 'varchar(20)', (c) => c.notNull())
        .addColumn('record_id', id, (c) => c.notNull())
        .addColumn('kind', 'varchar(40)', (c) => c.notNull())
        .addColumn('actor_id', id)
        .addColumn('data', 'text', (c) => c.notNull().defaultTo('{}'))
        .addColumn('created_at', ts, (c) => c.notNull())
        .execute();
      await db.schema
        .createIndex('record_events_record_idx')
        .on('record_events')
        .columns(['record_type', 'record_id', 'created_at', 'id'])
        .execute();
    },
  },
  '0301_crm_deletions': {
    async up(db: Kysely<any>) {
      await db.schema
        .createTable('record_deletions')
        .addColumn('record_type', 'varchar(20)', (c) => c.notNull())
        .addColumn('record_id', id, (c) => c.notNull())
        .addColumn('owner_id', id)
        .addColumn('deleted_by', id)
        .addColumn('deleted_at', ts, (c) => c.notNull())
        .addPrimaryKeyConstraint('record_deletions_pk', ['record_type', 'record_id'])
        .execute();
      await db.schema.createIndex('record_deletions_time_idx').on('record_deletions').columns(['record_type', 'deleted_at']).execute();
    },
  },
  // Lists sort by the JS-lower-cased name (case-insensitive, the same on both dialects) with the id
  // as tie-breaker; these indexes serve that keyset order.
  '0302_crm_name_order': {
    async up(db: Kysely<any>) {
      await db.schema.createIndex('crm_contacts_name_lower_idx').on('crm_contacts').columns(['name_lower', 'id']).execute();
      await db.schema.createIndex('crm_accounts_name_lower_id_idx').on('crm_accounts').columns(['name_lower', 'id']).execute();
      await db.schema.createIndex('crm_tags_name_lower_idx').on('crm_tags').columns(['name_lower', 'id']).execute();
      await db.schema.createIndex('crm_groups_name_lower_idx').on('crm_groups').columns(['name_lower', 'id']).execute();
    },
  },
};
