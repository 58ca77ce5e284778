// IMAP connector: sessions for sync (UID-based fetch, flags, deletions, APPEND) and a watcher for
// live changes (IDLE + STATUS polling). Modules import only from here.
export * from './errors.js';
export * from './client.js';
export * from './watch.js';
