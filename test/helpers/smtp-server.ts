// A real SMTP server (npm `smtp-server`) on a random loopback port, for connection-test and sending
// tests. Usage:
//
//   const smtp = await startSmtpServer({ mode: 'starttls', users: [{ user: 'ann', password: 'pw' }] });
//   // smtp.host ('127.0.0.1'), smtp.port, smtp.cert (PEM of the self-signed certificate)
//   ... send with nodemailer { host: smtp.host, port: smtp.port, secure: false, requireTLS: true,
//                              tls: { rejectUnauthorized: false } or { ca: smtp.cert } }
//   const [m] = await smtp.waitForMessages(1);   // m.envelope.mailFrom / rcptTo, m.raw (Buffer), m.user
//   smtp.fail({ stage: 'data', code: 451, times: 2 });  // the next 2 DATA get 451, then normal again
//   smtp.fail({ stage: 'data', drop: true });           // the next DATA: connection dropped mid-DATA
//   smtp.stats.data / .auth / .mail / .connections      // attempt counters, to assert retries
//   await smtp.close();
//
// Modes:
//   - 'implicit-tls': TLS handshake first (port-465 style, RFC 8314);
//   - 'starttls':     plain greeting, STARTTLS offered; AUTH or MAIL before STARTTLS → 530 5.7.0
//                     (port-587 style, RFC 6409 + 3207);
//   - 'plain':        no TLS at all (security "none"; port-25 style), AUTH allowed in the clear.
// Auth: PLAIN and LOGIN against `users`; when `users` is empty/omitted, AUTH is not offered and mail
// is accepted anonymously. Faults are one-shot by default (`times: 1`), consumed in order per stage.
// Stages: 'connect' (greeting replaced by the error and the connection closed), 'auth', 'mail',
// 'rcpt', 'data'. Typical codes: 421/451/454 temporary, 535 bad credentials, 550 (5.7.30 basic auth
// disabled), 552/554 permanent.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import type { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SMTPServer, type SMTPServerSession } from 'smtp-server';

export interface SmtpTestUser {
  user: string;
  password: string;
}

export type SmtpStage = 'connect' | 'auth' | 'mail' | 'rcpt' | 'data';

export interface SmtpFault {
  stage: SmtpStage;
  /** SMTP reply code (421, 451, 454, 535, 550 …). Ignored when `drop` is set. */
  code?: number;
  message?: string;
  /** Close the TCP connection instead of replying (for 'data': after part of the message arrived). */
  drop?: boolean;
  /** How many times this fault fires before normal service resumes (default 1). */
  times?: number;
}

export interface RecordedMessage {
  envelope: { mailFrom: string; rcptTo: string[] };
  /** The message as received (dot-stuffing removed by the server). */
  raw: Buffer;
  /** The authenticated user, or null. */
  user: string | null;
  secure: boolean;
}

export interface StartSmtpOptions {
  mode: 'implicit-tls' | 'starttls' | 'plain';
  users?: SmtpTestUser[];
  /** Port to listen on (default 0 = random free port). */
  port?: number;
}

export interface TestSmtpServer {
  host: string;
  port: number;
  mode: StartSmtpOptions['mode'];
  /** PEM of the self-signed certificate the server presents (trust it as a CA, or skip verification). */
  cert: string;
  messages: RecordedMessage[];
  stats: { connections: number; auth: number; mail: number; rcpt: number; data: number };
  fail(fault: SmtpFault): void;
  clearFaults(): void;
  /** Resolves with the recorded messages once at least `count` arrived (default timeout 10 s). */
  waitForMessages(count: number, timeoutMs?: number): Promise<RecordedMessage[]>;
  close(): Promise<void>;
}

export interface TestCert {
  key: string;
  cert: string;
}

let cachedCert: TestCert | null = null;

/** Self-signed cert for CN=localhost (+ SAN 127.0.0.1), generated once per process with openssl, never committed. */
export function testTlsCert(): TestCert {
  if (cachedCert) return cachedCert;
  const dir = mkdtempSync(join(tmpdir(), 'sb-tls-'));
  try {
    execFileSync(
      'openssl',
      [
        'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-sha256', '-days', '2',
        '-subj', '/CN=localhost',
        '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1',
        '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'),
      ],
      { stdio: 'pipe' },
    );
    cachedCert = { key: readFileSync(join(dir, 'key.pem'), 'utf8'), cert: readFileSync(join(dir, 'cert.pem'), 'utf8') };
    return cachedCert;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function smtpError(code: number, message: string): Error & { responseCode: number } {
  const err = new Error(message) as Error & { responseCode: number };
  err.responseCode = code;
  return err;
}

const DEFAULT_MESSAGES: Record<number, string> = {
  421: '4.3.2 Service not available, closing transmission channel',
  451: '4.3.0 Temporary local problem, try again later',
  454: '4.7.0 Temporary authentication failure',
  535: '5.7.8 Authentication credentials invalid',
  550: '5.7.30 Basic authentication is not supported for Client Submission.',
  552: '5.3.4 Message size exceeds fixed limit',
  554: '5.7.1 Message rejected',
};

export async function startSmtpServer(opts: StartSmtpOptions): Promise<TestSmtpServer> {
  const { key, cert } = testTlsCert();
  const users = opts.users ?? [];
  const faults: Array<SmtpFault & { left: number }> = [];
  const messages: RecordedMessage[] = [];
  const stats = { connections: 0, auth: 0, mail: 0, rcpt: 0, data: 0 };
  const waiters = new Set<() => void>();
  // Raw TCP sockets by remote port, so a fault can drop the connection mid-DATA.
  const sockets = new Map<number, Socket>();

  const takeFault = (stage: SmtpStage) => {
    const f = faults.find((x) => x.stage === stage && x.left > 0);
    if (!f) return null;
    f.left -= 1;
    return f;
  };
  const faultError = (f: SmtpFault) => {
    const code = f.code ?? 451;
    return smtpError(code, f.message ?? DEFAULT_MESSAGES[code] ?? 'Error');
  };
  const dropConnection = (session: SMTPServerSession) => sockets.get(session.remotePort)?.destroy();

  const server = new SMTPServer({
    secure: opts.mode === 'implicit-tls',
    key,
    cert,
    logger: false,
    disabledCommands: [...(opts.mode === 'plain' ? ['STARTTLS'] : []), ...(users.length === 0 ? ['AUTH'] : [])],
    authMethods: ['PLAIN', 'LOGIN'],
    authOptional: users.length === 0,
    // We answer AUTH-before-STARTTLS ourselves with the standard 530 (smtp-server's own reply is 538).
    allowInsecureAuth: true,
    size: 50 * 1024 * 1024,
    closeTimeout: 1000,
    onConnect(session, cb) {
      stats.connections += 1;
      const f = takeFault('connect');
      if (f?.drop) {
        dropConnection(session);
        return cb(smtpError(421, 'dropped'));
      }
      if (f) return cb(faultError(f));
      cb();
    },
    onAuth(auth, session, cb) {
      stats.auth += 1;
      if (opts.mode === 'starttls' && !session.secure) return cb(smtpError(530, '5.7.0 Must issue a STARTTLS command first'));
      const f = takeFault('auth');
      if (f?.drop) return dropConnection(session);
      if (f) return cb(faultError(f));
      const ok = users.some((u) => u.user === auth.username && u.password === auth.password);
      if (!ok) return cb(smtpError(535, DEFAULT_MESSAGES[535]));
      cb(null, { user: auth.username });
    },
    onMailFrom(address, session, cb) {
      stats.mail += 1;
      if (opts.mode === 'starttls' && !session.secure) return cb(smtpError(530, '5.7.0 Must issue a STARTTLS command first'));
      if (users.length > 0 && !session.user) return cb(smtpError(530, '5.7.0 Authentication required'));
      const f = takeFault('mail');
      if (f?.drop) return dropConnection(session);
      if (f) return cb(faultError(f));
      cb();
    },
    onRcptTo(_address, session, cb) {
      stats.rcpt += 1;
      const f = takeFault('rcpt');
      if (f?.drop) return dropConnection(session);
      if (f) return cb(faultError(f));
      cb();
    },
    onData(stream, session, cb) {
      stats.data += 1;
      const f = takeFault('data');
      const chunks: Buffer[] = [];
      let dropped = false;
      stream.on('data', (c: Buffer) => {
        chunks.push(c);
        if (f?.drop && !dropped) {
          // Part of the message arrived: cut the connection without a reply.
          dropped = true;
          dropConnection(session);
        }
      });
      stream.on('error', () => {});
      stream.on('end', () => {
        if (dropped) return;
        if (f) return cb(faultError(f));
        messages.push({
          envelope: {
            mailFrom: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
            rcptTo: session.envelope.rcptTo.map((r) => r.address),
          },
          raw: Buffer.concat(chunks),
          user: (session.user as string | undefined) ?? null,
          secure: session.secure,
        });
        for (const w of waiters) w();
        cb(null, '2.0.0 OK queued');
      });
    },
  });
  server.on('error', () => {});
  server.server.on('connection', (sock: Socket) => {
    const port = sock.remotePort;
    if (port !== undefined) {
      sockets.set(port, sock);
      sock.once('close', () => sockets.delete(port));
    }
  });

  await new Promise<void>((resolve, reject) => {
    server.server.once('error', reject);
    server.listen(opts.port ?? 0, '127.0.0.1', () => resolve());
  });
  const address = server.server.address();
  const port = typeof address === 'object' && address ? address.port : 0;

  return {
    host: '127.0.0.1',
    port,
    mode: opts.mode,
    cert,
    messages,
    stats,
    fail(fault) {
      faults.push({ ...fault, left: fault.times ?? 1 });
    },
    clearFaults() {
      faults.length = 0;
    },
    waitForMessages(count, timeoutMs = 10_000) {
      if (messages.length >= count) return Promise.resolve(messages.slice());
      return new Promise((resolve, reject) => {
        const check = () => {
          if (messages.length >= count) {
            clearTimeout(timer);
            waiters.delete(check);
            resolve(messages.slice());
          }
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`expected ${count} message(s) on the test SMTP server, got ${messages.length} in ${timeoutMs} ms`));
        }, timeoutMs);
        waiters.add(check);
      });
    },
    async close() {
      // Close sessions from the top (SMTP connection → TLS → TCP): destroying a raw socket under a
      // TLS wrap mid-handshake can crash Node. smtp-server's own grace timer is unref'd, so a
      // half-open session would otherwise leave close() pending with nothing keeping the loop alive.
      const live = (server as unknown as { connections: Set<{ close(): void }> }).connections;
      for (const c of live) {
        try {
          c.close();
        } catch {
          /* already closing */
        }
      }
      const keepAlive = setInterval(() => {}, 1000);
      try {
        await new Promise<void>((resolve) => server.close(() => resolve()));
      } finally {
        clearInterval(keepAlive);
      }
    },
  };
}
