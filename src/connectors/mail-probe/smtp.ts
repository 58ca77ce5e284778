// SMTP connection test: DNS → TCP → TLS (implicit) → greeting → EHLO/STARTTLS on a raw socket, then
// login with nodemailer's verify() (the library that sends, so a passing probe means sending can
// sign in the same way), and the capability step from the EHLO keywords seen over TLS.
import type net from 'node:net';
import nodemailer from 'nodemailer';
import { StepError, StepRecorder, connectTcp, firstLine, readUntil, resolveHost, startTls, stepTimeout } from './steps.js';
import type { ProbeOptions, ProbeResult, ProbeTarget } from './types.js';

/** Reads one complete (possibly multi-line) SMTP reply. */
async function reply(socket: net.Socket, timeout: number, what: string): Promise<{ code: number; lines: string[] }> {
  const text = await readUntil(socket, (t) => /(^|\n)\d{3} [^\n]*\r?\n/.test(t) || /(^|\n)\d{3}\r?\n/.test(t), timeout, what);
  const lines = text.split(/\r?\n/).filter(Boolean);
  return { code: Number(lines[lines.length - 1].slice(0, 3)), lines };
}

async function ehlo(socket: net.Socket, timeout: number): Promise<string[]> {
  socket.write('EHLO switchboard.probe\r\n');
  const r = await reply(socket, timeout, 'the answer to EHLO');
  if (r.code !== 250) throw new StepError(`The server refused EHLO (${r.lines[r.lines.length - 1]}).`, 'permanent');
  return r.lines.slice(1).map((l) => l.slice(4).toUpperCase());
}

export function smtpFailure(err: any, target: ProbeTarget): StepError {
  const code = Number(err?.responseCode) || 0;
  const text = String(err?.response ?? err?.message ?? '').slice(0, 200);
  if (code === 550 && /5\.7\.30|basic auth/i.test(text)) {
    return new StepError('The server does not accept password sign-in (basic authentication is turned off for this account). Use OAuth 2.0 for this provider.', 'auth');
  }
  if (code === 535 || code === 534 || (err?.code === 'EAUTH' && code >= 500)) {
    return new StepError('The server rejected the user name or password. Some providers (Gmail, Yahoo, iCloud) need an app-specific password.', 'auth');
  }
  if (code === 530) return new StepError('The server requires encryption (STARTTLS) before sign-in. Choose STARTTLS (port 587) or SSL/TLS (port 465).', 'permanent');
  if (code >= 400 && code < 500) return new StepError(`The server is temporarily unavailable (${text}). Try again later.`, 'transient');
  if (err?.code === 'ETIMEDOUT' || /timeout/i.test(text)) return new StepError(`Signing in to ${target.host} timed out. Try again later.`, 'transient');
  if (err?.code === 'EAUTH') return new StepError(`Signing in to ${target.host} failed: ${text}.`, 'auth');
  return new StepError(`Signing in to ${target.host} failed: ${text || 'unknown error'}.`, code >= 500 ? 'permanent' : 'transient');
}

export async function probeSmtp(target: ProbeTarget, opts: ProbeOptions = {}): Promise<ProbeResult> {
  const rec = new StepRecorder();
  const timeout = stepTimeout(opts);
  let keywords: string[] = [];
  try {
    const address = await rec.run('dns', () => resolveHost(target, opts));
    let socket: net.Socket = await rec.run('tcp', () => connectTcp(address, target, opts));
    try {
      if (target.security === 'ssl') socket = await rec.run('tls', () => startTls(socket, target, opts, 'implicit'));
      keywords = await rec.run('greeting', async () => {
        const r = await reply(socket, timeout, 'its SMTP greeting');
        const line = r.lines[r.lines.length - 1];
        if (r.code === 421 || r.code === 554) throw new StepError(`The server refused the connection (${line}). Try again later.`, 'transient');
        if (r.code !== 220) {
          throw new StepError(`The server at ${target.host}:${target.port} did not greet like an SMTP server (it said "${firstLine(line)}"). Check the port: sending uses 465 (SSL/TLS) or 587 (STARTTLS).`, 'permanent');
        }
        return { value: await ehlo(socket, timeout), message: `Greeting: ${firstLine(r.lines[0])}` };
      });
      if (target.security === 'starttls') {
        socket = await rec.run('tls', async () => {
          if (!keywords.includes('STARTTLS')) {
            throw new StepError('The server does not offer STARTTLS, so the password would travel unencrypted. Choose SSL/TLS (port 465) if the server supports it.', 'permanent');
          }
          socket.write('STARTTLS\r\n');
          const r = await reply(socket, timeout, 'the answer to STARTTLS');
          if (r.code !== 220) throw new StepError(`The server refused STARTTLS (${r.lines[r.lines.length - 1]}), so the password would travel unencrypted.`, 'permanent');
          const upgraded = await startTls(socket, target, opts, 'starttls');
          keywords = await ehlo(upgraded.value, timeout); // capabilities change after TLS (RFC 3207)
          return upgraded;
        });
      } else if (target.security === 'none') {
        rec.skip('tls', 'No encryption (security "none"): the password travels unencrypted.');
      }
      socket.write('QUIT\r\n');
    } finally {
      socket.destroy();
    }
  } catch {
    return rec.result('smtp', target, '', { capabilities: keywords });
  }

  if (!target.user || target.password === undefined) {
    rec.skip('login', 'No user name and password given; the login was not tested.');
  } else {
    const transport = nodemailer.createTransport({
      host: target.host,
      port: target.port,
      secure: target.security === 'ssl',
      requireTLS: target.security === 'starttls',
      ignoreTLS: target.security === 'none',
      auth: { user: target.user, pass: target.password },
      tls: { rejectUnauthorized: !target.allowSelfSigned },
      connectionTimeout: timeout,
      greetingTimeout: timeout,
      socketTimeout: timeout * 3,
      logger: false,
    });
    try {
      await rec.run('login', async () => {
        try {
          await transport.verify();
        } catch (err) {
          throw smtpFailure(err, target);
        }
        return { value: null, message: `Signed in as ${target.user}.` };
      });
    } catch {
      return rec.result('smtp', target, '', { capabilities: keywords });
    } finally {
      transport.close();
    }
  }

  try {
    await rec.run('capability', async () => {
      const auth = keywords.find((k) => k.startsWith('AUTH ') || k.startsWith('AUTH='));
      if (target.user && !auth) {
        throw new StepError('The server does not offer sign-in (no AUTH in its capabilities), so it cannot be used to send as this mailbox.', 'permanent');
      }
      const size = keywords.find((k) => k.startsWith('SIZE'));
      return { value: null, message: `Capabilities: ${[auth, size, keywords.includes('8BITMIME') ? '8BITMIME' : ''].filter(Boolean).join(', ') || 'basic SMTP'}.` };
    });
  } catch {
    // recorded
  }
  const reached = target.user ? `Signed in to the SMTP server ${target.host}:${target.port}.` : `Reached the SMTP server ${target.host}:${target.port}; the login was not tested.`;
  return rec.result('smtp', target, reached, { capabilities: keywords });
}
