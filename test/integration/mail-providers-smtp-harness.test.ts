// The SMTP test harness itself (test/helpers/smtp-server.ts), so the sending tests that rely on it
// (mail-B) stand on something proven: modes, recording, fault injection.
import net from 'node:net';
import nodemailer from 'nodemailer';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSmtpServer, type TestSmtpServer } from '../helpers/smtp-server.js';

const users = [{ user: 'ann@example.test', password: 'pw-1' }];
let sub: TestSmtpServer; // 587-style
let smtps: TestSmtpServer; // 465-style

beforeAll(async () => {
  [sub, smtps] = await Promise.all([startSmtpServer({ mode: 'starttls', users }), startSmtpServer({ mode: 'implicit-tls', users })]);
});
afterAll(async () => {
  await Promise.all([sub?.close(), smtps?.close()]);
});

function transport(s: TestSmtpServer) {
  return nodemailer.createTransport({
    host: s.host,
    port: s.port,
    secure: s.mode === 'implicit-tls',
    requireTLS: s.mode === 'starttls',
    auth: { user: 'ann@example.test', pass: 'pw-1' },
    tls: { ca: s.cert, servername: 'localhost' },
  });
}

const message = {
  from: 'ann@example.test',
  to: 'bob@example.test',
  bcc: 'secret@example.test',
  subject: 'Hello',
  text: 'line one\n.starts with a dot\nend',
};

describe('SMTP harness', () => {
  it('records envelope (Bcc only in RCPT) and the un-dot-stuffed message over STARTTLS, trusting its cert as a CA', async () => {
    const before = sub.messages.length;
    await transport(sub).sendMail(message);
    const [m] = (await sub.waitForMessages(before + 1)).slice(before);
    expect(m.envelope).toEqual({ mailFrom: 'ann@example.test', rcptTo: ['bob@example.test', 'secret@example.test'] });
    expect(m.user).toBe('ann@example.test');
    expect(m.secure).toBe(true);
    const raw = m.raw.toString();
    expect(raw).toContain('\r\n.starts with a dot\r\n');
    expect(raw).not.toMatch(/^Bcc:/im);
  });

  it('works over implicit TLS', async () => {
    const before = smtps.messages.length;
    await transport(smtps).sendMail(message);
    expect((await smtps.waitForMessages(before + 1)).length).toBe(before + 1);
  });

  it('answers AUTH before STARTTLS with 530', async () => {
    const sock = net.connect(sub.port, sub.host);
    const lines: string[] = [];
    sock.on('data', (d) => lines.push(...d.toString().split('\r\n').filter(Boolean)));
    const waitLine = (re: RegExp) =>
      new Promise<string>((resolve, reject) => {
        const t = setInterval(() => {
          const l = lines.find((x) => re.test(x));
          if (l) {
            clearInterval(t);
            resolve(l);
          }
        }, 10);
        setTimeout(() => {
          clearInterval(t);
          reject(new Error(`no line ${re}: ${lines.join(' | ')}`));
        }, 5000);
      });
    await waitLine(/^220 /);
    sock.write('EHLO test\r\n');
    await waitLine(/^250 /);
    sock.write(`AUTH PLAIN ${Buffer.from('\0ann@example.test\0pw-1').toString('base64')}\r\n`);
    expect(await waitLine(/^530 /)).toMatch(/STARTTLS/);
    sock.destroy();
  });

  it('injects temporary and permanent failures, once each, and counts attempts', async () => {
    sub.fail({ stage: 'data', code: 451 });
    const dataBefore = sub.stats.data;
    const t = transport(sub);
    await expect(t.sendMail(message)).rejects.toMatchObject({ responseCode: 451 });
    await t.sendMail(message); // the fault was one-shot
    expect(sub.stats.data - dataBefore).toBe(2);

    sub.fail({ stage: 'auth', code: 535 });
    await expect(transport(sub).sendMail(message)).rejects.toMatchObject({ responseCode: 535 });
    sub.fail({ stage: 'auth', code: 550 });
    await expect(transport(sub).sendMail(message)).rejects.toMatchObject({ responseCode: 550, response: expect.stringContaining('5.7.30') });
    sub.fail({ stage: 'connect', code: 421 });
    await expect(transport(sub).sendMail(message)).rejects.toMatchObject({ responseCode: 421 });
    sub.fail({ stage: 'rcpt', code: 454, times: 2 });
    await expect(transport(sub).sendMail(message)).rejects.toMatchObject({ responseCode: 454 });
    sub.clearFaults();
    await transport(sub).sendMail(message);
  });

  it('drops the connection mid-DATA without recording the message', async () => {
    const before = sub.messages.length;
    sub.fail({ stage: 'data', drop: true });
    await expect(transport(sub).sendMail({ ...message, text: 'x'.repeat(200_000) })).rejects.toBeTruthy();
    expect(sub.messages.length).toBe(before);
  });
});
