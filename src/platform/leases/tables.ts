export interface LeasesTable {
  /** What is held, e.g. "scheduler", "mailbox:<id>". */
  name: string;
  /** Who holds it (a process's instanceId). */
  holder: string;
  expires_at: string;
  /** When the current holder first took it (kept across renewals). */
  acquired_at: string;
}

export interface LeasesTables {
  leases: LeasesTable;
}
