// The IMAP MailConnector: imapflow sessions (client.ts) and the IDLE + STATUS watcher (watch.ts)
// behind the registry's contract (connectors/mail/types.ts).
import type { MailAccount, MailConnector } from '../mail/types.js';
import { connectImap, type ImapEndpoint } from './client.js';
import { classifyImapError } from './errors.js';
import { watchMailbox } from './watch.js';

export function imapEndpointOf(account: MailAccount): ImapEndpoint {
  const { host, port, security, auth } = account.imap;
  return { host, port, security, auth, rejectUnauthorized: account.rejectUnauthorized, socketTimeoutMs: account.socketTimeoutMs };
}

export const imapConnector: MailConnector = {
  connect: (account) => connectImap(imapEndpointOf(account)),
  watch: (account, opts) => watchMailbox(imapEndpointOf(account), opts),
  classifyError: classifyImapError,
};
