// The Dovecot test harness itself: login over plain, STARTTLS and implicit TLS, APPEND, Maildir
// seeding, UIDVALIDITY bump and restart on the same ports.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ImapFlow } from 'imapflow';
import { startDovecot, type Dovecot } from '../helpers/dovecot.js';

let dc: Dovecot;
beforeAll(async () => {
  dc = await startDovecot({ users: [{ user: 'alice@example.test', password: 'secret-1' }] });
});
afterAll(async () => {
  await dc?.close();
});

async function login(opts: { port: number; secure: boolean; starttls?: boolean; pass?: string }) {
  const c = new ImapFlow({
    host: dc.host,
    port: opts.port,
    secure: opts.secure,
    doSTARTTLS: opts.starttls,
    tls: { rejectUnauthorized: false },
    auth: { user: 'alice@example.test', pass: opts.pass ?? 'secret-1' },
    logger: false,
  });
  c.on('error', () => {});
  await c.connect();
  return c;
}

describe('dovecot harness', () => {
  it('logs in over plain, STARTTLS and implicit TLS, and advertises CONDSTORE/QRESYNC/IDLE', async () => {
    for (const o of [
      { port: dc.port, secure: false, starttls: false },
      { port: dc.port, secure: false, starttls: true },
      { port: dc.tlsPort, secure: true },
    ]) {
      const c = await login(o);
      expect(c.authenticated).toBeTruthy();
      for (const cap of ['CONDSTORE', 'QRESYNC', 'IDLE', 'UIDPLUS', 'SPECIAL-USE']) {
        expect(c.capabilities.has(cap), cap).toBe(true);
      }
      if (o.starttls || o.secure) expect(c.secureConnection || o.starttls).toBeTruthy();
      await c.logout();
    }
    await expect(login({ port: dc.port, secure: false, pass: 'wrong' })).rejects.toThrow();
  });

  it('appends, seeds, lists special-use folders, bumps UIDVALIDITY and survives a restart', async () => {
    const uid = await dc.append('alice@example.test', 'INBOX', 'Subject: one\r\nMessage-ID: <1@x>\r\n\r\nbody\r\n', ['\\Seen']);
    expect(uid).toBe(1);
    await dc.createFolder('alice@example.test', 'Work/Projects');
    await dc.seedMaildir('alice@example.test', 'Work/Projects', [
      { raw: 'Subject: a\r\n\r\na\r\n' },
      { raw: 'Subject: b\r\n\r\nb\r\n', flags: ['\\Seen'] },
    ]);
    let c = await login({ port: dc.port, secure: false });
    const list = await c.list();
    const sent = list.find((f) => f.specialUse === '\\Sent');
    expect(sent?.path).toBe('Sent');
    expect(list.map((f) => f.path)).toContain('Work/Projects');
    const st = await c.status('Work/Projects', { messages: true, uidValidity: true, highestModseq: true });
    if (!st) throw new Error('STATUS failed');
    expect(st.messages).toBe(2);
    await c.logout();

    const before = st.uidValidity!;
    const after = await dc.bumpUidValidity('alice@example.test', 'Work/Projects');
    expect(BigInt(after)).not.toBe(BigInt(before));

    await dc.restart();
    c = await login({ port: dc.port, secure: false });
    const st2 = await c.status('Work/Projects', { messages: true, uidValidity: true });
    if (!st2) throw new Error('STATUS failed');
    expect(Number(st2.uidValidity)).toBe(after);
    expect(st2.messages).toBe(2);
    await c.logout();
  });
});
