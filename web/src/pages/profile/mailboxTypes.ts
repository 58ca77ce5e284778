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
  messages?: number | null;
  parent?: string | null;
}

/** Loosely typed on purpose: the sync engine reports what it knows. */
export interface SyncStatus {
  state?: string;
  status?: string;
  running?: boolean;
  progress?: number | { done?: number; total?: number; folder?: string | null } | null;
  counts?: Record<string, number> | null;
  messages?: number;
  folders?: number;
  lastSuccessAt?: string | null;
  lastSyncAt?: string | null;
  lastError?: string | { message: string; at?: string | null; kind?: string | null } | null;
  lastErrorAt?: string | null;
  nextRunAt?: string | null;
}
