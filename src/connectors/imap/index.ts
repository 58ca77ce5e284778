// IMAP connector: sessions for sync (UID-based fetch, flags, deletions, APPEND) and a watcher for
// live changes (IDLE + STATUS polling). The mail module reaches it through the registry in
// connectors/mail; direct imports remain only for the send path (APPEND to Sent, see send.ts).
export * from './errors.js';
export * from './client.js';
export * from './watch.js';
export { imapConnector, imapEndpointOf } from './connector.js';
