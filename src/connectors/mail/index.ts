// The registry of mail connectors, one per account kind (architecture principle 4): a kind
// without a connector is a compile error here, not a `switch` repeated in the sync engine, the
// live watcher and the raw-source reader. Modules import mail connectors only from here.
import { imapConnector } from '../imap/connector.js';
import { classifyImapError, MailConnectorError } from '../imap/errors.js';
import type { MailConnector, MailKind } from './types.js';

export type * from './types.js';
export { MailConnectorError, type MailErrorKind } from '../imap/errors.js';
/** Splits UIDs into fetch batches bounded by count and bytes (kind-independent). */
export { batchBySize } from '../imap/client.js';

export type MailConnectors = Record<MailKind, MailConnector>;

export const mailConnectors = {
  imap: imapConnector,
} satisfies MailConnectors;

/**
 * The connector for a mailbox kind. A kind with none (Exchange mailboxes before their connector
 * lands) fails permanently in plain words, so its sync stops retrying instead of looping.
 */
export function connectorFor(kind: string, registry: MailConnectors = mailConnectors): MailConnector {
  const c = (registry as Record<string, MailConnector | undefined>)[kind];
  if (!c) throw new MailConnectorError('permanent', `Mailboxes of kind "${kind}" cannot be synced yet.`);
  return c;
}

/** Classifies an error from any connector (each throws MailConnectorError; the rest is network-level). */
export function classifyMailError(err: unknown): MailConnectorError {
  return err instanceof MailConnectorError ? err : classifyImapError(err);
}
