// SMTP submission connector (nodemailer). Messages are composed once (so the exact bytes sent are
// the bytes stored and appended to Sent) and submitted raw with an explicit envelope (Bcc only in
// RCPT TO). Errors are classified by reply class: 4xx → transient (retry with backoff), 5xx →
// permanent (reported in plain words), 535 → auth.
import nodemailer from 'nodemailer';
import MailComposer from 'nodemailer/lib/mail-composer/index.js';
import type Mail from 'nodemailer/lib/mailer/index.js';
import { MailConnectorError } from '../imap/errors.js';

export interface SmtpEndpoint {
  host: string;
  port: number;
  security: 'ssl' | 'starttls' | 'none';
  auth: { user: string; password?: string; accessToken?: string };
  rejectUnauthorized?: boolean;
}

export async function composeMessage(options: Mail.Options): Promise<Buffer> {
  // keepBcc false: Bcc never appears in the headers.
  return new MailComposer(options).compile().build();
}

export function classifySmtpError(err: unknown): MailConnectorError {
  const e = err as { responseCode?: number; code?: string; response?: string; message?: string };
  const code = e?.responseCode;
  const said = (e?.response ?? e?.message ?? '').replace(/\s+/g, ' ').slice(0, 200);
  if (code === 535 || code === 534 || e?.code === 'EAUTH') {
    if (code && code >= 400 && code < 500) return new MailConnectorError('transient', `The mail server could not check the login right now (${said}); we will retry.`);
    return new MailConnectorError('auth', `The mail server rejected the login for sending (${said}). Check the password or sign in again.`);
  }
  if (code === 530) return new MailConnectorError('permanent', `The mail server requires a secure connection before login (${said}).`);
  if (code === 550 && /5\.7\.30/.test(said)) {
    return new MailConnectorError('permanent', 'The mail server no longer accepts password login for sending (Basic authentication is off); use OAuth.');
  }
  if (code === 552) return new MailConnectorError('permanent', `The message is too large for the mail server (${said}).`);
  if (code && code >= 500) return new MailConnectorError('permanent', `The mail server refused the message: ${said}`);
  if (code && code >= 400) return new MailConnectorError('transient', `The mail server is temporarily unavailable (${said}); we will retry.`);
  if (e?.code === 'ETLS' || /certificate|STARTTLS/i.test(said)) {
    return new MailConnectorError('permanent', `The secure connection to the mail server failed: ${said}`);
  }
  return new MailConnectorError('transient', `The connection to the mail server failed (${said || e?.code || 'unknown'}); we will retry.`);
}

export async function sendRaw(ep: SmtpEndpoint, envelope: { from: string; to: string[] }, raw: Buffer): Promise<{ response: string; accepted: string[]; rejected: string[] }> {
  const transport = nodemailer.createTransport({
    host: ep.host,
    port: ep.port,
    secure: ep.security === 'ssl',
    requireTLS: ep.security === 'starttls',
    ignoreTLS: ep.security === 'none',
    auth: ep.auth.accessToken ? { type: 'OAuth2', user: ep.auth.user, accessToken: ep.auth.accessToken } : { user: ep.auth.user, pass: ep.auth.password ?? '' },
    tls: { rejectUnauthorized: ep.rejectUnauthorized !== false },
    connectionTimeout: 20_000,
    greetingTimeout: 20_000,
    socketTimeout: 60_000,
  });
  try {
    const info = await transport.sendMail({ envelope, raw });
    return { response: String(info.response ?? ''), accepted: (info.accepted ?? []).map(String), rejected: (info.rejected ?? []).map(String) };
  } catch (err) {
    throw classifySmtpError(err);
  } finally {
    transport.close();
  }
}
