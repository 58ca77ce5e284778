// Error classification for IMAP: the sync engine decides on retry/backoff/re-auth from `kind`
// alone, and shows `message` (plain words, never credentials) to the user.
export type MailErrorKind = 'auth' | 'rate-limited' | 'transient' | 'not-found' | 'permanent';

export class MailConnectorError extends Error {
  constructor(
    public readonly kind: MailErrorKind,
    message: string,
    public readonly retryAfter?: number,
  ) {
    super(message);
    this.name = 'MailConnectorError';
  }
}

const NET_CODES = new Set([
  'ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN',
  'ENOTFOUND', 'NoConnection', 'ClosedAfterConnectTLS', 'ClosedAfterConnectText', 'ConnectionTimeout',
  'GreetingTimeout', 'UpgradeTimeout', 'SocketTimeout', 'ETLSCLOSE', 'EConnectionClosed',
]);

/** Maps anything imapflow or the network throws onto a MailConnectorError. */
export function classifyImapError(err: unknown): MailConnectorError {
  if (err instanceof MailConnectorError) return err;
  const e = err as { code?: string; message?: string; authenticationFailed?: boolean; responseText?: string; serverResponseCode?: string; response?: string };
  const text = `${e?.responseText ?? ''} ${e?.message ?? ''}`.trim();
  if (e?.authenticationFailed || e?.serverResponseCode === 'AUTHENTICATIONFAILED' || /AUTHENTICATIONFAILED|authentication failed|invalid credentials/i.test(text)) {
    return new MailConnectorError('auth', 'The mail server rejected the login: check the user name and password (or sign in again).');
  }
  if (e?.serverResponseCode === 'NONEXISTENT' || /doesn't exist|does not exist|NONEXISTENT|Mailbox not found/i.test(text)) {
    return new MailConnectorError('not-found', 'The folder no longer exists on the mail server.');
  }
  if (/THROTTLED|too many (connections|simultaneous)|rate limit/i.test(text)) {
    return new MailConnectorError('rate-limited', 'The mail server asks us to slow down; we will try again later.', 60);
  }
  if (e?.code === 'ENOTFOUND' || e?.code === 'EAI_AGAIN') {
    return new MailConnectorError('transient', 'The mail server name could not be resolved (DNS); we will try again.');
  }
  if (e?.code === 'ECONNREFUSED') {
    return new MailConnectorError('transient', 'The mail server refused the connection; we will try again.');
  }
  if (/certificate|self[- ]signed|TLS|SSL/i.test(text) && !NET_CODES.has(e?.code ?? '')) {
    return new MailConnectorError('permanent', `The secure connection to the mail server failed: ${text.slice(0, 200)}`);
  }
  if (NET_CODES.has(e?.code ?? '') || /closed|timeout|timed out|socket|ECONN/i.test(text)) {
    return new MailConnectorError('transient', 'The connection to the mail server was lost; we will try again.');
  }
  if (/UNAVAILABLE|SERVERBUG|try again/i.test(text)) {
    return new MailConnectorError('transient', 'The mail server is temporarily unavailable; we will try again.');
  }
  return new MailConnectorError('transient', `The mail server returned an error: ${text.slice(0, 200) || 'unknown error'}`);
}
