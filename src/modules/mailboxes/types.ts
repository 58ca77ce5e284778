// The contract between the mailboxes module (providers + credentials + settings) and the mail
// module (sync engine, sending, stored messages). The mail module reads a mailbox only through
// `MailboxDirectory`; the mailboxes module tells the mail module about changes only through jobs
// (durable, so a restart between "mailbox saved" and "sync started" loses nothing):
//   - job `mail.mailbox-changed` { mailboxId }            after create / settings update / re-auth
//   - job `mail.mailbox-removed` { mailboxId, deleteMail } after delete (mail kept or purged)
//
// CHANGES by mail-A (additive only; nothing removed or renamed):
//   - `MailboxConnection.allowSelfSigned`: pass `tls: { rejectUnauthorized: !allowSelfSigned }` to
//     imapflow and nodemailer (admin-only provider flag for on-premises servers; tests use it with
//     Dovecot's self-signed certificate).
//   - Removal is a HARD delete: the `mailboxes` row and its secrets are gone before
//     `mail.mailbox-removed` runs, so `get()` returns null and `connection()` throws NOT_FOUND for it.
//     Mail-module tables therefore must not declare a foreign key to mailboxes.id with ON DELETE
//     CASCADE/RESTRICT (keep mailbox_id as a plain indexed column); with deleteMail=false the loaded
//     mail stays, keyed by the old mailbox id.
//   - `listSyncable()` returns only kind 'imap' (Exchange mailboxes cannot be created yet).

export type Security = 'ssl' | 'starttls' | 'none';
export type LoginFormat = 'manual' | 'email' | 'local-part';
export type LoadPeriod = 'day' | '3days' | 'week' | 'month' | '3months' | '6months' | 'all';

export interface Endpoint {
  host: string;
  port: number;
  security: Security;
}

export interface MailAuth {
  user: string;
  /** Basic auth. */
  password?: string;
  /** OAuth 2.0 (XOAUTH2); refreshed by the mailboxes module before it is handed out. */
  accessToken?: string;
}

export interface MailboxSettings {
  loadPeriod: LoadPeriod;
  /** Automatically load new messages (IDLE + periodic resync). */
  autoLoad: boolean;
  /** true = every folder; false = exactly `selectedFolders` (a parent never implies its children). */
  allFolders: boolean;
  selectedFolders: string[];
  sendEnabled: boolean;
  /** From address when sending; defaults to the mailbox email. */
  defaultSender: string | null;
  /** Display name on sending. */
  alias: string | null;
  useSignature: boolean;
  signatureHtml: string | null;
}

export interface MailboxRecord {
  id: string;
  userId: string;
  email: string;
  providerId: string;
  kind: 'imap' | 'exchange';
  status: 'active' | 'needs-reauth' | 'disabled';
  settings: MailboxSettings;
  createdAt: string;
  updatedAt: string;
}

export interface MailboxConnection {
  mailbox: MailboxRecord;
  imap: Endpoint & { auth: MailAuth };
  smtp: Endpoint & { auth: MailAuth };
  /** The provider files sent mail in Sent itself (Gmail): do not APPEND a copy. */
  providerSavesSent: boolean;
  /** Accept self-signed/untrusted TLS certificates (admin-set provider flag; on-prem servers, tests). */
  allowSelfSigned?: boolean;
}

export interface MailboxDirectory {
  get(mailboxId: string): Promise<MailboxRecord | null>;
  /** Decrypts credentials; throws a NOT_FOUND AppError for an unknown id. */
  connection(mailboxId: string): Promise<MailboxConnection>;
  /** Every mailbox whose sync should be running (status active, autoLoad on). */
  listSyncable(): Promise<MailboxRecord[]>;
  /** Mailboxes the user may read mail of (own; later also shared). */
  readableBy(userId: string): Promise<string[]>;
  /** Mailboxes the user may send from (own with sendEnabled; later also shared "send letters"). */
  sendableBy(userId: string): Promise<string[]>;
  /** Marks an auth failure so the user is told to re-enter the password (O4-style). */
  markNeedsReauth(mailboxId: string, reason: string): Promise<void>;
}
