// The contract between the mail module (sync engine, live watching, reading raw sources) and the
// connectors that speak to mail servers. Everything the module does to a server goes through a
// `MailConnector` chosen by the mailbox's kind from the registry (index.ts); a connector
// translates, the module decides (what to store, when to retry).
//
// The shape is folder + UID based, which is IMAP's and also what Gmail (IMAP or its labels API)
// and Exchange (EWS folders / Graph mail folders with item ids mapped to a per-folder counter) can
// be presented as. A connector classifies every failure as a MailConnectorError (auth,
// rate-limited, transient, not-found, permanent) and never leaks credentials in messages.
import type { MailConnectorError } from '../imap/errors.js';

/** Kinds of mail account a connector exists for. Graph, EWS and Gmail join here later. */
export type MailKind = 'imap';

export type MailSecurity = 'ssl' | 'starttls' | 'none';

/** How to reach one account. Kinds other than IMAP will add their own fields (e.g. a Graph tenant). */
export interface MailAccount {
  imap: {
    host: string;
    port: number;
    security: MailSecurity;
    auth: { user: string; password?: string; accessToken?: string };
  };
  /** Where mail is submitted (SMTP for IMAP accounts); absent when the account cannot send. */
  smtp?: {
    host: string;
    port: number;
    security: MailSecurity;
    auth: { user: string; password?: string; accessToken?: string };
  };
  /** Verify the server certificate (off for an admin-approved self-signed server). */
  rejectUnauthorized: boolean;
  /**
   * Longest silence from the server while a command waits for its answer before the session
   * fails (transient). Without it a stalled server holds a sync job slot for minutes.
   */
  socketTimeoutMs?: number;
}

export interface FolderInfo {
  path: string;
  name: string;
  delimiter: string;
  specialUse: string | null;
  /** \Noselect containers hold no messages (only children). */
  selectable: boolean;
}

export interface FolderState {
  uidValidity: number;
  uidNext: number;
  exists: number;
  /** null when the server has no CONDSTORE (or answered NOMODSEQ). */
  highestModseq: string | null;
}

export interface FetchedMessage {
  uid: number;
  flags: string[];
  internalDate: Date | null;
  size: number;
  source: Buffer;
}

export interface FlagUpdate {
  uid: number;
  flags: string[];
}

/** One open connection to an account. Methods that need a folder work on the one last open()ed. */
export interface MailSession {
  /** Flag changes can be asked for "since a modseq" (CONDSTORE). */
  readonly condstore: boolean;
  /** Still connected and logged in. */
  readonly usable: boolean;
  listFolders(): Promise<FolderInfo[]>;
  status(path: string): Promise<FolderState & { messages: number }>;
  /** Opens read-only; the returned state is the server's at that moment. */
  open(path: string): Promise<FolderState>;
  /**
   * UIDs (ascending) above afterUid, up to upToUid when given, and SINCE `since` (arrival date)
   * with their sizes. With `sizeFloor`, messages not larger than it may report `sizeFloor` (an
   * upper bound that is enough to bound batch memory).
   */
  listUids(opts: { afterUid: number; upToUid?: number; since?: Date | null; sizeFloor?: number }): Promise<{ uid: number; size: number }[]>;
  /** Every UID currently in the open folder. */
  allUids(): Promise<Set<number>>;
  fetchSources(uids: number[]): AsyncGenerator<FetchedMessage>;
  /** Size and raw Message-ID header (null when absent) of each UID, without the bodies. */
  fetchMessageIds(uids: number[]): Promise<{ uid: number; size: number; messageId: string | null }[]>;
  /** Flags of UIDs up to maxUid; with changedSince (CONDSTORE) only those changed since then. */
  fetchFlags(maxUid: number, changedSince: string | null): Promise<FlagUpdate[]>;
  append(path: string, raw: Buffer, flags: string[]): Promise<{ uid: number | null; uidValidity: number | null }>;
  /**
   * Adds and/or removes flags on UIDs of a folder (opened read-write for it). Returns false, and
   * changes nothing, when the folder's UIDVALIDITY is no longer `uidValidity` (stale UIDs).
   */
  storeFlags(path: string, uidValidity: number, uids: number[], change: { add?: string[]; remove?: string[] }): Promise<boolean>;
  close(): Promise<void>;
}

export interface WatchOptions {
  /** Folder watched by push (IDLE), usually INBOX. */
  idleFolder: string;
  /** Folders checked every pollMs on the same connection. */
  pollFolders: string[];
  pollMs: number;
  onChange(folder: string): void;
  /** The connection ended or failed; the watcher is dead, the owner reconnects (with backoff). */
  onClose(err: MailConnectorError | null): void;
}

export interface Watcher {
  stop(): Promise<void>;
}

export interface MailConnector {
  connect(account: MailAccount): Promise<MailSession>;
  /**
   * Submits a composed message as these exact bytes (they are also what is stored and filed in
   * Sent) with an explicit envelope (Bcc only there). Rejected recipients are reported, not
   * thrown; a refused submission throws a MailConnectorError (transient ones are retried).
   */
  submit(account: MailAccount, envelope: { from: string; to: string[] }, raw: Buffer): Promise<{ accepted: string[]; rejected: string[] }>;
  /** Live change notifications for one account over as few connections as the server allows. */
  watch(account: MailAccount, opts: WatchOptions): Promise<Watcher>;
  /** Maps anything the connector or its transport throws onto a MailConnectorError. */
  classifyError(err: unknown): MailConnectorError;
}
