// Named leases in the database: who holds a long-lived resource (the scheduler leadership, a
// mailbox's IMAP connection). A holder renews before expiry; when a process dies its leases
// expire and another process takes them over.

export interface Leases {
  /** Takes or renews the lease; true when this holder now holds it. */
  acquire(name: string, holder: string, ttlMs: number): Promise<boolean>;
  release(name: string, holder: string): Promise<void>;
  holderOf(name: string): Promise<string | null>;
}
