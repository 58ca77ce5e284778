// IMAP connection test: DNS → TCP → TLS (implicit) → greeting → STARTTLS (when chosen) on a raw
// socket, then login + capabilities with imapflow (the library the sync engine uses, so a probe that
// passes means sync can sign in the same way).
import type net from 'node:net';
import { ImapFlow } from 'imapflow';
import {
  StepError,
  StepRecorder,
  connectTcp,
  firstLine,
  readUntil,
  resolveHost,
  startTls,
  stepTimeout,
} from './steps.js';
import type { ProbeOptions, ProbeResult, ProbeTarget } from './types.js';

const silentLogger = { debug() {}, info() {}, warn() {}, error() {} };

async function rawSession(target: ProbeTarget, opts: ProbeOptions, rec: StepRecorder): Promise<void> {
  const timeout = stepTimeout(opts);
  const address = await rec.run('dns', () => resolveHost(target, opts));
  let socket: net.Socket = await rec.run('tcp', () => connectTcp(address, target, opts));
  try {
    if (target.security === 'ssl') socket = await rec.run('tls', () => startTls(socket, target, opts, 'implicit'));
    await rec.run('greeting', async () => {
      const text = await readUntil(socket, (t) => t.includes('\r\n') || t.includes('\n'), timeout, 'its IMAP greeting');
      const line = firstLine(text);
      if (/^\* (OK|PREAUTH)\b/i.test(line)) return { value: null, message: `Greeting: ${line}` };
      if (/^\* BYE\b/i.test(line)) throw new StepError(`The server refused the connection: ${line.slice(6) || 'BYE'}. Try again later.`, 'transient');
      throw new StepError(`The server at ${target.host}:${target.port} did not greet like an IMAP server (it said "${line}"). Check the port: IMAP uses 993 (SSL/TLS) or 143 (STARTTLS).`, 'permanent');
    });
    if (target.security === 'starttls') {
      socket = await rec.run('tls', async () => {
        // Ask for capabilities first so "no STARTTLS" is reported as such, not as a confusing BAD.
        const caps = await readCapabilityLine(socket, timeout);
        if (!caps.includes('STARTTLS')) {
          throw new StepError('The server does not offer STARTTLS, so the password would travel unencrypted. Choose SSL/TLS (port 993) if the server supports it.', 'permanent');
        }
        socket.write('p2 STARTTLS\r\n');
        const reply = await readUntil(socket, (t) => /^p2 /m.test(t), timeout, 'the answer to STARTTLS');
        if (!/^p2 OK/im.test(reply)) throw new StepError('The server refused STARTTLS, so the password would travel unencrypted.', 'permanent');
        return startTls(socket, target, opts, 'starttls');
      });
    } else if (target.security === 'none') {
      rec.skip('tls', 'No encryption (security "none"): the password travels unencrypted.');
    }
    socket.write('p9 LOGOUT\r\n');
  } finally {
    socket.destroy();
  }
}

async function readCapabilityLine(socket: net.Socket, timeout: number): Promise<string[]> {
  socket.write('p1 CAPABILITY\r\n');
  const text = await readUntil(socket, (t) => /^p1 /m.test(t), timeout, 'its capabilities');
  const line = text.split(/\r?\n/).find((l) => /^\* CAPABILITY /i.test(l)) ?? '';
  return line.slice('* CAPABILITY '.length).toUpperCase().split(/\s+/).filter(Boolean);
}

function loginFailure(err: any, target: ProbeTarget): StepError {
  const text = String(err?.responseText ?? err?.response ?? err?.message ?? '');
  if (err?.authenticationFailed) {
    if (/\[UNAVAILABLE\]|temporar/i.test(text)) return new StepError(`The server could not check the password right now (${text || 'temporarily unavailable'}). Try again later.`, 'transient');
    const hint = /app.?specific|application.?specific|web login|\[ALERT\]/i.test(text) ? ` The server says: "${text.slice(0, 200)}".` : '';
    return new StepError(`The server rejected the user name or password.${hint} Some providers (Gmail, Yahoo, iCloud) need an app-specific password.`, 'auth');
  }
  if (err?.tlsFailed) return new StepError('The server does not offer STARTTLS, so the password would travel unencrypted.', 'permanent');
  if (err?.code === 'ETIMEDOUT' || /timeout/i.test(text)) return new StepError(`Signing in to ${target.host} timed out. Try again later.`, 'transient');
  return new StepError(`Signing in to ${target.host} failed: ${text || 'unknown error'}.`, 'transient');
}

export async function probeImap(target: ProbeTarget, opts: ProbeOptions = {}): Promise<ProbeResult> {
  const rec = new StepRecorder();
  try {
    await rawSession(target, opts, rec);
  } catch {
    return rec.result('imap', target, '');
  }
  if (!target.user || target.password === undefined) {
    rec.skip('login', 'No user name and password given; the login was not tested.');
    return rec.result('imap', target, `Reached the IMAP server ${target.host}:${target.port}; the login was not tested.`);
  }
  const timeout = stepTimeout(opts);
  const client = new ImapFlow({
    host: target.host,
    port: target.port,
    secure: target.security === 'ssl',
    doSTARTTLS: target.security === 'starttls' ? true : target.security === 'none' ? false : undefined,
    auth: { user: target.user, pass: target.password },
    tls: { rejectUnauthorized: !target.allowSelfSigned },
    logger: silentLogger as any,
    connectionTimeout: timeout,
    greetingTimeout: timeout,
    socketTimeout: timeout * 3,
    disableAutoIdle: true,
    verifyOnly: false,
  } as any);
  client.on('error', () => {});
  let capabilities: string[] = [];
  let sentFolder: string | null = null;
  try {
    await rec.run('login', async () => {
      try {
        await client.connect();
      } catch (err) {
        throw loginFailure(err, target);
      }
      return { value: null, message: `Signed in as ${target.user}.` };
    });
    capabilities = await rec.run('capability', async () => {
      const caps = [...client.capabilities.keys()].map((c) => c.toUpperCase());
      if (!caps.some((c) => c === 'IMAP4REV1' || c === 'IMAP4REV2')) {
        throw new StepError('The server does not announce IMAP4rev1 or IMAP4rev2, so Switchboard cannot sync it.', 'permanent');
      }
      try {
        const folders = await client.list();
        sentFolder = folders.find((f) => f.specialUse === '\\Sent')?.path ?? null;
      } catch {
        // Listing is a convenience for defaults; a failure here does not make the mailbox unusable.
      }
      const notable = ['IDLE', 'CONDSTORE', 'QRESYNC', 'UIDPLUS', 'SPECIAL-USE', 'MOVE'].filter((c) => caps.includes(c));
      return { value: caps, message: `Capabilities: ${notable.length ? notable.join(', ') : 'basic IMAP only'}${caps.includes('IDLE') ? '' : ' (no IDLE: new mail arrives on the periodic sync)'}.` };
    });
  } catch {
    // The failure is recorded in rec.
  } finally {
    try {
      await client.logout();
    } catch {
      client.close();
    }
  }
  return rec.result('imap', target, `Signed in to the IMAP server ${target.host}:${target.port}.`, { capabilities, sentFolder });
}
