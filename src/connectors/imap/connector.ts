// The IMAP/SMTP MailConnector: imapflow sessions (client.ts), the IDLE + STATUS watcher (watch.ts)
// and SMTP submission (connectors/smtp) behind the registry's contract (connectors/mail/types.ts).
import type { MailAccount, MailConnector } from '../mail/types.js';
import { connectImap, type ImapEndpoint } from './client.js';
import { classifyImapError, MailConnectorError } from './errors.js';
import { sendRaw } from '../smtp/index.js';
import { watchMailbox } from './watch.js';

export function imapEndpointOf(account: MailAccount): ImapEndpoint {
  const { host, port, security, auth } = account.imap;
  return { host, port, security, auth, rejectUnauthorized: account.rejectUnauthorized, socketTimeoutMs: account.socketTimeoutMs };
}

export const imapConnector: MailConnector = {
  connect: (account) => connectImap(imapEndpointOf(account)),
  watch: (account, opts) => watchMailbox(imapEndpointOf(account), opts),
  async submit(account, envelope, raw) {
    if (!account.smtp) throw new MailConnectorError('permanent', 'This mailbox has no outgoing (SMTP) server configured.');
    const { accepted, rejected } = await sendRaw({ ...account.smtp, rejectUnauthorized: account.rejectUnauthorized }, envelope, raw);
    return { accepted, rejected };
  },
  classifyError: classifyImapError,
};
