// Table types of the mail module (see src/platform/db/index.ts for the cross-dialect conventions).
//
// Identity of stored mail: `emails` has one row per message per mailbox, unique on
// (mailbox_id, message_key) — message_key is the normalised Message-ID (or, when it is missing, a
// hash of the raw bytes; rows stored before that keep their from/date/subject/size hash — see
// parse.ts identityKey/messageKey). Where the message sits on the server lives in
// `email_locations` (folder, UIDVALIDITY, UID), so a message in two folders, moved between
// folders, re-fetched after a restart or after a UIDVALIDITY change stays ONE email.

/** Per-folder sync cursor. */
export interface MailFoldersTable {
  id: string;
  mailbox_id: string;
  path: string;
  delimiter: string;
  special_use: string | null;
  selectable: number;
  /** Folder is synced (all folders, or explicitly selected; a parent never implies children). */
  selected: number;
  /** Still present on the server at the last folder listing. */
  on_server: number;
  uidvalidity: number | null;
  last_uid: number;
  highest_modseq: string | null;
  /**
   * Oldest mail the folder's load covers: null while the first load (or the first after a
   * UIDVALIDITY change) is incomplete; then 'all', an ISO date, or 'unknown' (synced before 0444).
   */
  loaded_since: string | null;
  total: number;
  done: number;
  last_synced_at: string | null;
  updated_at: string;
}

/** Sync status of a mailbox (state machine + backoff). */
export interface MailSyncStateTable {
  mailbox_id: string;
  state: string; // 'idle' | 'syncing' | 'error' | 'needs-reauth'
  last_success_at: string | null;
  last_error: string | null;
  last_error_at: string | null;
  failures: number;
  next_attempt_at: string | null;
  /** Bumped on every mailbox settings/credentials change: the live watcher restarts when it moves. */
  settings_version: number;
  updated_at: string;
}

export interface EmailsTable {
  id: string;
  mailbox_id: string;
  message_key: string;
  message_id: string | null;
  in_reply_to: string | null;
  references_json: string; // JSON string[]
  thread_id: string;
  direction: string; // 'in' | 'out'
  subject: string;
  from_address: string | null;
  from_name: string | null;
  to_json: string; // JSON MailAddress[]
  cc_json: string;
  bcc_json: string;
  reply_to_json: string;
  date: string; // ISO (Date header, else INTERNALDATE, else fetch time)
  headers_json: string; // JSON [{ key, value }]
  text_body: string | null;
  html_body: string | null;
  snippet: string;
  size: number;
  has_attachments: number;
  raw_file_key: string | null;
  parse_error: string | null;
  /** Union of the flags of its locations, for lists. */
  flags_json: string;
  /** 1 when no server location remains (deleted on the server). */
  is_deleted: number;
  /** subject + from + participants + snippet, lower-cased in JS, for `q` search (null on rows from before 0442). */
  search_lower: string | null;
  created_at: string;
  updated_at: string;
}

export interface EmailLocationsTable {
  id: string;
  email_id: string;
  mailbox_id: string;
  folder: string;
  uidvalidity: number;
  uid: number;
  flags_json: string;
  created_at: string;
}

export interface EmailAttachmentsTable {
  id: string;
  email_id: string;
  filename: string;
  content_type: string;
  size: number;
  file_key: string;
  content_id: string | null;
  inline: number;
  position: number;
}

/** Every address of a message (from/to/cc/bcc/reply-to), lower-cased: contact linking and search. */
export interface EmailParticipantsTable {
  email_id: string;
  address: string;
  role: string; // 'from' | 'to' | 'cc' | 'bcc' | 'reply-to'
}

/** CRM records an email concerns (contacts matching a participant and their accounts). */
export interface EmailLinksTable {
  email_id: string;
  record_type: string; // 'contact' | 'account'
  record_id: string;
}

/** Message-ID → thread, per mailbox: every id a message has or references maps to its thread. */
export interface EmailThreadRefsTable {
  mailbox_id: string;
  message_id: string;
  thread_id: string;
}

/** Outgoing mail waiting for (re)submission after a temporary SMTP failure. */
export interface MailOutboxTable {
  id: string;
  email_id: string;
  mailbox_id: string;
  user_id: string;
  envelope_json: string; // { from, to[] }
  state: string; // 'queued' | 'sent' | 'failed'
  attempts: number;
  last_error: string | null;
  created_at: string;
  updated_at: string;
}

/** Addresses a user dismissed from contact suggestions (lower-cased). */
export interface MailSuggestionDismissalsTable {
  user_id: string;
  address: string;
  created_at: string;
}

export interface MailTables {
  mail_suggestion_dismissals: MailSuggestionDismissalsTable;
  mail_outbox: MailOutboxTable;
  mail_folders: MailFoldersTable;
  mail_sync_state: MailSyncStateTable;
  emails: EmailsTable;
  email_locations: EmailLocationsTable;
  email_attachments: EmailAttachmentsTable;
  email_participants: EmailParticipantsTable;
  email_links: EmailLinksTable;
  email_thread_refs: EmailThreadRefsTable;
}
