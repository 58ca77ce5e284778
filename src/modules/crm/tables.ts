// Table types of the crm module (see src/platform/db/index.ts for the cross-dialect conventions).
// Polymorphic link tables (record_shares, record_tags, record_events) key records by
// (record_type, record_id) so one access/tag/timeline mechanism serves every record kind.

export interface CrmAccountsTable {
  id: string;
  name: string;
  name_lower: string; // lower-cased in JS: SQLite's lower() only folds ASCII
  domain: string | null; // lower-case host, e.g. "acme.com"
  website: string | null;
  phones: string; // JSON [{ phone, label, isPrimary }]
  notes: string | null;
  owner_id: string;
  created_by: string | null;
  created_at: string;
  updated_at: string;
}

export interface CrmContactsTable {
  id: string;
  name: string;
  name_lower: string; // lower-cased in JS: SQLite's lower() only folds ASCII
  account_id: string | null;
  job_title: string | null;
  type: string; // 'employee' | 'customer' | 'other'
  notes: string | null;
  owner_id: string;
  created_by: string | null;
  created_at: string;
  updated_at: string;
}

/** One row per address of a contact; email_lower is indexed because mail sync looks every participant up here. */
export interface ContactEmailsTable {
  id: string;
  contact_id: string;
  email: string; // as entered
  email_lower: string;
  label: string | null;
  is_primary: number; // 0/1
  position: number;
}

export interface ContactPhonesTable {
  id: string;
  contact_id: string;
  phone: string; // as entered
  phone_digits: string; // digits only, for search
  label: string | null;
  is_primary: number;
  position: number;
}

/** Telegram/Facebook identities of a contact; (channel, external_id) is unique so webhook retries never duplicate contacts. */
export interface ContactChannelsTable {
  channel: string;
  external_id: string;
  contact_id: string;
  username: string | null;
  created_at: string;
}

export interface CrmActivitiesTable {
  id: string;
  type: string; // 'task' | 'meeting'
  title: string;
  description: string | null;
  start_at: string;
  end_at: string;
  all_day: number;
  owner_id: string;
  organizer_id: string | null; // a user id
  show_in_calendar: number;
  status: string; // 'planned' | 'in-progress' | 'done' | 'cancelled'
  created_by: string | null;
  created_at: string;
  updated_at: string;
}

export interface ActivityParticipantsTable {
  activity_id: string;
  participant_type: string; // 'contact' | 'user'
  participant_id: string;
}

export interface CrmCasesTable {
  id: string;
  number: number; // sequential per installation, from crm_counters
  subject: string;
  description: string | null;
  status: string;
  priority: string;
  contact_id: string | null;
  account_id: string | null;
  owner_id: string;
  created_by: string | null;
  created_at: string;
  updated_at: string;
  closed_at: string | null;
}

/** Named counters (case numbers); incremented with UPDATE … RETURNING inside the insert's transaction. */
export interface CrmCountersTable {
  name: string;
  value: number;
}

export interface CrmTagsTable {
  id: string;
  name: string;
  name_lower: string;
  scope: string; // 'personal' | 'corporate' | 'public'
  /** Uniqueness scope: "personal:<ownerId>", "corporate" or "public". */
  scope_key: string;
  owner_id: string; // the creator (and, for personal tags, the only user who sees it)
  color: string | null;
  created_at: string;
  updated_at: string;
}

export interface RecordTagsTable {
  tag_id: string;
  record_type: string;
  record_id: string;
  created_by: string | null;
  created_at: string;
}

export interface CrmGroupsTable {
  id: string;
  name: string;
  name_lower: string;
  kind: string; // 'contacts' | 'activities'
  description: string | null;
  owner_id: string;
  created_at: string;
  updated_at: string;
}

export interface CrmGroupMembersTable {
  group_id: string;
  record_id: string;
  added_at: string;
}

/** A record shared with a user or a role (exactly one of user_id/role_id is set). */
export interface RecordSharesTable {
  id: string;
  record_type: string;
  record_id: string;
  user_id: string | null;
  role_id: string | null;
  access: string; // 'read' | 'edit'
  created_at: string;
}

/** The CRM's own timeline entries: created, updated (fields), tag added/removed, status changed. */
export interface RecordEventsTable {
  id: string;
  record_type: string;
  record_id: string;
  kind: string;
  actor_id: string | null;
  data: string; // JSON
  created_at: string;
}

/** Tombstones of deleted records, so delta syncs (C5, A-series) learn what went away since a cursor. */
export interface RecordDeletionsTable {
  record_type: string;
  record_id: string;
  owner_id: string | null;
  deleted_by: string | null;
  deleted_at: string;
}

export interface CrmTables {
  crm_accounts: CrmAccountsTable;
  crm_contacts: CrmContactsTable;
  contact_emails: ContactEmailsTable;
  contact_phones: ContactPhonesTable;
  contact_channels: ContactChannelsTable;
  crm_activities: CrmActivitiesTable;
  activity_participants: ActivityParticipantsTable;
  crm_cases: CrmCasesTable;
  crm_counters: CrmCountersTable;
  crm_tags: CrmTagsTable;
  record_tags: RecordTagsTable;
  crm_groups: CrmGroupsTable;
  crm_group_members: CrmGroupMembersTable;
  record_shares: RecordSharesTable;
  record_events: RecordEventsTable;
  record_deletions: RecordDeletionsTable;
}
