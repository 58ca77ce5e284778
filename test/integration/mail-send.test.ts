// Sending (B4) end to end: real server + mailboxes module + smtp-server harness + Dovecot.
// Alias, default sender, signature with an inline image, Bcc only in the envelope, reply threading
// headers, attachments (multipart), copy in Dovecot's \Sent, 4xx → queued and retried, 5xx → refused.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp, type TestUser } from '../helpers/app.js';
import { dialects } from '../helpers/db.js';
import { startDovecot, type Dovecot } from '../helpers/dovecot.js';
import { startSmtpServer, type TestSmtpServer } from '../helpers/smtp-server.js';
import { waitFor } from '../fixtures/mail/harness.js';
import { parseMessage } from '../../src/modules/mail/parse.js';

const ANN = { user: 'ann@acme.test', password: 'ann-imap-pw-1' };
const PNG = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==';
const DIALECTS = await dialects();

// The outgoing copy, the outbox row and the Sent location are all stored: run on both engines.
describe.each(DIALECTS)('sending on %s', (dialect) => {
  let dc: Dovecot;
  let smtp: TestSmtpServer;
  let t: TestApp;
  let ann: TestUser;
  let other: TestUser;
  let mailboxId: string;

  beforeAll(async () => {
    [dc, smtp] = await Promise.all([startDovecot({ users: [ANN] }), startSmtpServer({ mode: 'starttls', users: [ANN] })]);
    await dc.append(ANN.user, 'INBOX', 'From: Bob <bob@client.example>\r\nTo: ann@acme.test\r\nSubject: Quote request\r\nMessage-ID: <quote-1@client.example>\r\nReferences: <older-0@client.example>\r\nIn-Reply-To: <older-0@client.example>\r\nDate: Tue, 03 Nov 2026 09:00:00 +0000\r\n\r\nPlease quote.\r\n');
    t = await startTestApp({ dialect });
    ann = await t.createUser();
    other = await t.createUser();
    const p = await t.request('POST', '/api/mail-providers', {
      token: t.adminToken,
      body: { name: 'Acme Mail', type: 'imap', imap: { host: dc.host, port: dc.port, security: 'starttls' }, smtp: { host: smtp.host, port: smtp.port, security: 'starttls' }, allowSelfSigned: true },
    });
    expect(p.status).toBe(201);
    const mb = await t.request('POST', '/api/mailboxes', { token: ann.token, body: { email: ANN.user, password: ANN.password, providerId: p.body.id } });
    expect(mb.status).toBe(201);
    mailboxId = mb.body.id;
    const patch = await t.request('PATCH', `/api/mailboxes/${mailboxId}`, {
      token: ann.token,
      body: { alias: 'Ann Example', useSignature: true, signatureHtml: `<p>Ann, Acme</p><img src="data:image/png;base64,${PNG}" alt="logo">` },
    });
    expect(patch.status).toBe(200);
    await waitFor(async () => (await t.request('GET', `/api/emails?mailboxId=${mailboxId}`, { token: ann.token })).body.items?.length === 1, 30_000);
  });
  afterAll(async () => {
    await t?.close();
    await Promise.all([dc?.close(), smtp?.close()]);
  });

  async function sentFolderMessageIds(): Promise<string[]> {
    const c = await dc.client(ANN.user);
    try {
      await c.mailboxOpen('Sent');
      const out: string[] = [];
      for await (const m of c.fetch('1:*', { envelope: true })) out.push(m.envelope?.messageId ?? '');
      return out;
    } catch {
      return [];
    } finally {
      await c.logout();
    }
  }

  // Generous limits: this file drives a real server, Dovecot and an SMTP server on a shared 2-core box.
  describe('sending', { timeout: 120_000 }, () => {
    it('sends a reply with alias, signature image, threading headers and Bcc only in the envelope; stores it and files it in Sent', async () => {
      const parent = (await t.request('GET', `/api/emails?mailboxId=${mailboxId}`, { token: ann.token })).body.items[0];
      const r = await t.request('POST', '/api/emails/send', {
        token: ann.token,
        body: { mailboxId, to: ['bob@client.example'], bcc: ['boss@acme.test'], text: 'Here is the quote.', inReplyToEmailId: parent.id },
      });
      expect(r.status).toBe(201);
      expect(r.body).toMatchObject({ status: 'sent', savedToSent: true });
      const [msg] = await smtp.waitForMessages(1);
      expect(msg.envelope.rcptTo.sort()).toEqual(['bob@client.example', 'boss@acme.test']);
      const raw = msg.raw.toString('utf8');
      const head = raw.slice(0, raw.indexOf('\r\n\r\n'));
      expect(head).toMatch(/^From: Ann Example <ann@acme\.test>$/m);
      expect(head).toMatch(/^Subject: Re: Quote request$/m);
      expect(head).toMatch(/^In-Reply-To: <quote-1@client\.example>$/m);
      expect(head.replace(/\r\n\s+/g, ' ')).toMatch(/^References: <older-0@client\.example> <quote-1@client\.example>$/m);
      expect(head).not.toMatch(/^Bcc:/im);
      expect(head).toMatch(/^Message-ID: <[0-9a-f-]+@acme\.test>$/m);
      const parsed = await parseMessage(msg.raw);
      const sig = parsed.attachments.find((a) => a.contentId?.startsWith('sig-'));
      expect(sig?.inline).toBe(true);
      expect(parsed.html).toContain(`src="cid:${sig!.contentId}"`);
      expect(parsed.html).not.toContain('data:image/png');
      expect(parsed.html).toContain('Here is the quote.');
      expect(parsed.text).toContain('Ann, Acme');

      const stored = await t.request('GET', `/api/emails/${r.body.emailId}`, { token: ann.token });
      expect(stored.body).toMatchObject({ direction: 'out', subject: 'Re: Quote request', threadId: parent.threadId });
      expect(stored.body.bcc).toEqual([{ name: '', address: 'boss@acme.test' }]);
      expect(stored.body.attachments.filter((a: any) => a.inline)).toHaveLength(1);
      expect(stored.body.folders).toEqual(['Sent']);
      expect(await sentFolderMessageIds()).toContain(r.body.messageId);
      // A later sync of Sent finds the same message and keeps one email.
      await t.request('POST', `/api/mailboxes/${mailboxId}/sync`, { token: ann.token });
      await waitFor(async () => (await t.request('GET', `/api/mailboxes/${mailboxId}/sync-status`, { token: ann.token })).body.state === 'idle', 60_000);
      const outs = (await t.request('GET', `/api/emails?mailboxId=${mailboxId}&q=quote`, { token: ann.token })).body.items.filter((i: any) => i.direction === 'out');
      expect(outs).toHaveLength(1);
    });

    it('accepts multipart with file attachments', async () => {
      const form = new FormData();
      form.append('message', JSON.stringify({ mailboxId, to: ['carol@client.example'], subject: 'Files', text: 'see attached' }));
      form.append('file', new Blob([Buffer.from('col1,col2\n1,2\n')], { type: 'text/csv' }), 'data.csv');
      const res = await fetch(`${t.url}/api/emails/send`, { method: 'POST', headers: { authorization: `Bearer ${ann.token}` }, body: form });
      expect(res.status).toBe(201);
      const body = (await res.json()) as { emailId: string };
      const msgs = await smtp.waitForMessages(2);
      expect(msgs[1].raw.toString('utf8')).toContain('filename=data.csv');
      const stored = await t.request('GET', `/api/emails/${body.emailId}`, { token: ann.token });
      expect(stored.body.attachments.map((a: any) => a.filename)).toContain('data.csv');
    });

    it('4xx → queued and retried by a job until delivered; 5xx → refused in plain words', async () => {
      smtp.fail({ stage: 'mail', code: 451, times: 1 });
      const r = await t.request('POST', '/api/emails/send', { token: ann.token, body: { mailboxId, to: ['dave@client.example'], subject: 'Later', text: 'retry me' } });
      expect(r.status).toBe(202);
      expect(r.body.status).toBe('queued');
      await waitFor(() => smtp.messages.some((m) => m.raw.toString('utf8').includes('Subject: Later')), 60_000);
      await waitFor(async () => (await sentFolderMessageIds()).includes(r.body.messageId), 60_000);

      smtp.fail({ stage: 'rcpt', code: 550, message: '5.1.1 No such user here', times: 1 });
      const bad = await t.request('POST', '/api/emails/send', { token: ann.token, body: { mailboxId, to: ['nobody@client.example'], subject: 'Bounce', text: 'x' } });
      expect(bad.status).toBe(422);
      expect(bad.body.error.code).toBe('SEND_REJECTED');
      expect(bad.body.error.message).toContain('No such user');
    });

    it('refuses senders without the right and bad input', async () => {
      expect((await t.request('POST', '/api/emails/send', { token: other.token, body: { mailboxId, to: ['x@y.test'], subject: 's' } })).status).toBe(403);
      expect((await t.request('POST', '/api/emails/send', { token: ann.token, body: { mailboxId, to: ['not-an-address'], subject: 's' } })).status).toBe(400);
      expect((await t.request('POST', '/api/emails/send', { token: ann.token, body: { mailboxId, to: [] } })).status).toBe(400);
      expect((await t.request('POST', '/api/emails/send', { token: ann.token, raw: '{"broken', contentType: 'application/json' })).status).toBe(400);
      await t.request('PATCH', `/api/mailboxes/${mailboxId}`, { token: ann.token, body: { sendEnabled: false } });
      expect((await t.request('POST', '/api/emails/send', { token: ann.token, body: { mailboxId, to: ['x@y.test'], subject: 's' } })).status).toBe(403);
    });
  });
});
