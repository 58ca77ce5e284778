export type LoadPeriod = 'day' | '3days' | 'week' | 'month' | '3months' | '6months' | 'all';
export const LOAD_PERIODS: LoadPeriod[] = ['day', '3days', 'week', 'month', '3months', '6months', 'all'];

export interface MailboxSettings {
  loadPeriod: LoadPeriod;
  autoLoad: boolean;
  allFolders: boolean;
  selectedFolders: string[];
  sendEnabled: boolean;
  defaultSender: string | null;
  alias: string | null;
  useSignature: boolean;
  signatureHtml: string | null;
}

export interface Mailbox {
  id: string;
  userId: string;
  email: string;
  providerId: string;
  providerName: string;
  kind: 'imap' | 'exchange';
  status: 'active' | 'needs-reauth' | 'disabled';
  statusReason: string | null;
  login: string;
  hasPassword: boolean;
  settings: MailboxSettings;
  createdAt: string;
  updatedAt: string;
}

export interface Folder {
  path: string;
  name?: string;
  delimiter?: string | null;
  specialUse?: string | null;
  selected: boolean;
  selectable?: boolean;
  messages?: number | null;
  parent?: string | null;
}

export interface SyncStatus {
  mailboxId: string;
  state: 'idle' | 'syncing' | 'error' | 'needs-reauth';
  lastSuccessAt: string | null;
  lastError: string | null;
  lastErrorAt: string | null;
  nextAttemptAt: string | null;
  live: boolean;
  folders: { path: string; specialUse: string | null; selected: boolean; done: number; total: number; lastSyncedAt: string | null }[];
  totals: { done: number; total: number; emails: number };
}
