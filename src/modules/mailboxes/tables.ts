// Table types of the mailboxes module (see src/platform/db/index.ts for the cross-dialect conventions).
// The password is NOT here: it lives in the SecretStore as `mailbox:<id>:password`.
export interface MailboxesTable {
  id: string;
  user_id: string;
  /** Lower-case address; unique per user. */
  email: string;
  /** The user name sent to the servers (login format applied at creation, or typed by hand). */
  login: string;
  provider_id: string;
  kind: string; // 'imap' | 'exchange'
  status: string; // 'active' | 'needs-reauth' | 'disabled'
  /** Why the status is not active, in plain words (e.g. the server's answer to the login). */
  status_reason: string | null;
  load_period: string;
  auto_load: number; // 0/1
  all_folders: number; // 0/1
  /** JSON array of folder paths. */
  selected_folders: string;
  send_enabled: number; // 0/1
  default_sender: string | null;
  alias: string | null;
  use_signature: number; // 0/1
  /** Sanitised HTML (inline images as data: or cid: URLs). */
  signature_html: string | null;
  created_at: string;
  updated_at: string;
}

/**
 * A mailbox removed with "keep the loaded mail" (B6): its mail stays readable by the user who
 * owned it — in their mail list and in record timelines — though the mailbox itself is gone.
 */
export interface RetiredMailboxesTable {
  id: string; // the removed mailbox's id (emails still carry it)
  user_id: string;
  email: string;
  removed_at: string;
}

export interface MailboxesTables {
  mailboxes: MailboxesTable;
  retired_mailboxes: RetiredMailboxesTable;
}
