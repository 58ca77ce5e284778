// Sending (B4) options end to end, on SQLite and PostgreSQL: a real server (all roles), Dovecot and
// the smtp-server harness. Sent copies (provider files them itself vs we APPEND exactly one),
// defaultSender as From, signature data: images as cid: inline parts, threading headers on replies
// to synced mail, attachments byte for byte. Outgoing messages are read back with mailparser, a
// parser independent of ours, so a bug in our parser cannot hide a bug in what we send.
import { createHash, randomBytes } from 'node:crypto';
import { simpleParser, type ParsedMail } from 'mailparser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp, type TestUser } from '../helpers/app.js';
import { dialects } from '../helpers/db.js';
import { startDovecot, type Dovecot } from '../helpers/dovecot.js';
import { startSmtpServer, type RecordedMessage, type TestSmtpServer } from '../helpers/smtp-server.js';
import { waitFor } from '../fixtures/mail/harness.js';

const ANN = { user: 'ann@acme.test', password: 'ann-imap-pw-1' };
const GIL = { user: 'gil@acme.test', password: 'gil-imap-pw-1' };
const PNG = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==';
const GIF = 'R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7';
const DIALECTS = await dialects();
const sha = (b: Uint8Array | Buffer) => createHash('sha256').update(b).digest('hex');
const LONG_REFS = Array.from({ length: 25 }, (_, i) => `<long-${i}@client.example>`);

function inbound(id: string, subject: string, extra = '') {
  return `From: Bob <bob@client.example>\r\nTo: ann@acme.test\r\nSubject: ${subject}\r\nMessage-ID: <${id}>\r\n${extra}Date: Tue, 03 Nov 2026 09:00:00 +0000\r\n\r\nHello.\r\n`;
}

describe.each(DIALECTS)('sending options on %s', (dialect) => {
  let dc: Dovecot;
  let smtp: TestSmtpServer;
  let t: TestApp;
  let ann: TestUser;
  let gil: TestUser;
  let annBox: string;
  let gilBox: string;

  beforeAll(async () => {
    [dc, smtp] = await Promise.all([startDovecot({ users: [ANN, GIL] }), startSmtpServer({ mode: 'starttls', users: [ANN, GIL] })]);
    await dc.append(ANN.user, 'INBOX', inbound('thread-1@client.example', 'Project kickoff'));
    await dc.append(ANN.user, 'INBOX', inbound('thread-3@client.example', 'RE: Project kickoff', 'In-Reply-To: <thread-2@client.example>\r\n'));
    await dc.append(ANN.user, 'INBOX', inbound('long-25@client.example', 'Long thread', `In-Reply-To: <long-24@client.example>\r\nReferences: ${LONG_REFS.join(' ')}\r\n`));
    t = await startTestApp({ dialect });
    ann = await t.createUser();
    gil = await t.createUser();
    const provider = async (name: string, providerSavesSent: boolean) => {
      const p = await t.request('POST', '/api/mail-providers', {
        token: t.adminToken,
        body: { name, type: 'imap', imap: { host: dc.host, port: dc.port, security: 'starttls' }, smtp: { host: smtp.host, port: smtp.port, security: 'starttls' }, allowSelfSigned: true, providerSavesSent },
      });
      expect(p.status).toBe(201);
      expect(p.body.providerSavesSent).toBe(providerSavesSent);
      return p.body.id as string;
    };
    const [plain, filesSent] = [await provider('Plain IMAP', false), await provider('Files Sent itself', true)];
    const a = await t.request('POST', '/api/mailboxes', { token: ann.token, body: { email: ANN.user, password: ANN.password, providerId: plain } });
    const g = await t.request('POST', '/api/mailboxes', { token: gil.token, body: { email: GIL.user, password: GIL.password, providerId: filesSent } });
    expect([a.status, g.status]).toEqual([201, 201]);
    [annBox, gilBox] = [a.body.id, g.body.id];
    await waitFor(async () => (await t.request('GET', `/api/emails?mailboxId=${annBox}`, { token: ann.token })).body.items?.length === 3, 30_000);
  });
  afterAll(async () => {
    await t?.close();
    await Promise.all([dc?.close(), smtp?.close()]);
  });

  /** Every message in a user's Sent folder on Dovecot, parsed. */
  async function sentOnServer(user: string): Promise<{ messageId: string; raw: Buffer }[]> {
    const c = await dc.client(user);
    try {
      await c.mailboxOpen('Sent');
      const out: { messageId: string; raw: Buffer }[] = [];
      if (c.mailbox && c.mailbox.exists === 0) return out;
      for await (const m of c.fetch('1:*', { envelope: true, source: true })) out.push({ messageId: m.envelope?.messageId ?? '', raw: m.source! });
      return out;
    } finally {
      await c.logout();
    }
  }

  async function submitted(messageId: string): Promise<{ rec: RecordedMessage; mail: ParsedMail }> {
    const rec = (await waitFor(() => smtp.messages.find((m) => m.raw.toString('latin1').includes(`Message-ID: ${messageId}`)), 20_000))!;
    // keepCidLinks: by default mailparser rewrites cid: references into data: URLs.
    return { rec, mail: await simpleParser(rec.raw, { keepCidLinks: true }) };
  }

  async function send(user: TestUser, body: Record<string, unknown>) {
    const r = await t.request('POST', '/api/emails/send', { token: user.token, body });
    expect(r.status, JSON.stringify(r.body)).toBe(201);
    return r.body as { emailId: string; messageId: string; threadId: string; savedToSent: boolean };
  }

  async function syncAndWait(user: TestUser, mailboxId: string) {
    const before = (await t.request('GET', `/api/mailboxes/${mailboxId}/sync-status`, { token: user.token })).body.lastSuccessAt;
    expect((await t.request('POST', `/api/mailboxes/${mailboxId}/sync`, { token: user.token })).status).toBeLessThan(300);
    await waitFor(async () => {
      const st = (await t.request('GET', `/api/mailboxes/${mailboxId}/sync-status`, { token: user.token })).body;
      return st.state === 'idle' && st.lastSuccessAt && st.lastSuccessAt !== before;
    }, 60_000);
  }

  it('a plain provider gets exactly one APPEND to \\Sent; a provider that files Sent itself gets none, and its own copy is not stored twice', { timeout: 120_000 }, async () => {
    const a = await send(ann, { mailboxId: annBox, to: ['bob@client.example'], subject: 'Plain copy', text: 'one copy' });
    expect(a.savedToSent).toBe(true);
    await submitted(a.messageId);
    expect((await sentOnServer(ANN.user)).filter((m) => `<${m.messageId.replace(/^<|>$/g, '')}>` === a.messageId)).toHaveLength(1);
    // A later sync of Sent meets the appended copy and keeps one email.
    await syncAndWait(ann, annBox);
    expect((await sentOnServer(ANN.user)).length).toBe(1);
    const annOut = (await t.request('GET', `/api/emails?mailboxId=${annBox}&folder=Sent`, { token: ann.token })).body.items;
    expect(annOut.map((e: any) => e.id)).toEqual([a.emailId]);

    const g = await send(gil, { mailboxId: gilBox, to: ['bob@client.example'], subject: 'Provider copy', text: 'filed by the provider' });
    expect(g.savedToSent).toBe(false);
    const { rec } = await submitted(g.messageId);
    expect(await sentOnServer(GIL.user)).toEqual([]);
    expect((await t.request('GET', `/api/emails/${g.emailId}`, { token: gil.token })).body.folders).toEqual([]);
    // The provider files the submitted message in Sent (as Gmail does); the next sync links that
    // copy to the stored email instead of adding a second one.
    await dc.append(GIL.user, 'Sent', rec.raw, ['\\Seen']);
    await syncAndWait(gil, gilBox);
    const gilAll = (await t.request('GET', `/api/emails?mailboxId=${gilBox}`, { token: gil.token })).body.items;
    expect(gilAll.map((e: any) => e.id)).toEqual([g.emailId]);
    expect(gilAll[0]).toMatchObject({ direction: 'out', folders: ['Sent'] });
  });

  it('uses the default sender as From (header and envelope), with the alias; without one, the mailbox address', async () => {
    expect((await t.request('PATCH', `/api/mailboxes/${annBox}`, { token: ann.token, body: { defaultSender: 'Sales@Acme.test', alias: 'Acme Sales' } })).status).toBe(200);
    const r = await send(ann, { mailboxId: annBox, to: ['carol@client.example'], subject: 'From sales', text: 'hi' });
    const { rec, mail } = await submitted(r.messageId);
    expect(mail.from?.value).toEqual([{ name: 'Acme Sales', address: 'sales@acme.test' }]);
    expect(rec.envelope.mailFrom).toBe('sales@acme.test');
    expect(r.messageId).toMatch(/@acme\.test>$/);
    expect((await t.request('GET', `/api/emails/${r.emailId}`, { token: ann.token })).body.from).toEqual({ name: 'Acme Sales', address: 'sales@acme.test' });

    expect((await t.request('PATCH', `/api/mailboxes/${annBox}`, { token: ann.token, body: { defaultSender: null, alias: null } })).status).toBe(200);
    const r2 = await send(ann, { mailboxId: annBox, to: ['carol@client.example'], subject: 'From me', text: 'hi' });
    const s2 = await submitted(r2.messageId);
    expect(s2.mail.from?.value).toEqual([{ name: '', address: ANN.user }]);
    expect(s2.rec.envelope.mailFrom).toBe(ANN.user);
  });

  it('turns signature data: images into inline cid: parts that the HTML references', async () => {
    const signatureHtml = `<p>Gil, Acme</p><img src="data:image/png;base64,${PNG}" alt="logo"><img src='data:image/gif;base64,${GIF}' alt="badge">`;
    expect((await t.request('PATCH', `/api/mailboxes/${gilBox}`, { token: gil.token, body: { useSignature: true, signatureHtml } })).status).toBe(200);
    const r = await send(gil, { mailboxId: gilBox, to: ['dan@client.example'], subject: 'Signed', html: '<p>Body text</p>' });
    const { rec, mail } = await submitted(r.messageId);
    const raw = rec.raw.toString('latin1');
    expect(raw).toMatch(/Content-Type: multipart\/related/i);
    expect(raw).not.toContain('data:image');
    const inline = mail.attachments.filter((a) => a.contentDisposition === 'inline');
    expect(inline.map((a) => a.contentType).sort()).toEqual(['image/gif', 'image/png']);
    for (const a of inline) {
      expect(a.cid).toMatch(/^sig-[0-9a-f-]+@acme\.test$/);
      expect(mail.html).toContain(`src="cid:${a.cid}"`);
    }
    expect(sha(inline.find((a) => a.contentType === 'image/png')!.content)).toBe(sha(Buffer.from(PNG, 'base64')));
    expect(sha(inline.find((a) => a.contentType === 'image/gif')!.content)).toBe(sha(Buffer.from(GIF, 'base64')));
    expect(mail.html).toContain('Body text');
    // The stored copy shows the images from our attachment route.
    const stored = (await t.request('GET', `/api/emails/${r.emailId}`, { token: gil.token })).body;
    expect(stored.attachments.filter((a: any) => a.inline)).toHaveLength(2);
    expect(stored.html.match(new RegExp(`/api/emails/${r.emailId}/attachments/`, 'g'))).toHaveLength(2);
    await t.request('PATCH', `/api/mailboxes/${gilBox}`, { token: gil.token, body: { useSignature: false } });
  });

  it('threads replies to synced mail: In-Reply-To, References (built, extended, trimmed), subject and thread', async () => {
    const items = (await t.request('GET', `/api/emails?mailboxId=${annBox}&folder=INBOX`, { token: ann.token })).body.items as any[];
    const by = (id: string) => items.find((e) => e.messageId === id)!;
    const head = async (r: { messageId: string }) => {
      const raw = (await submitted(r.messageId)).rec.raw.toString('latin1');
      return raw.slice(0, raw.indexOf('\r\n\r\n')).replace(/\r\n[ \t]+/g, ' ');
    };
    const refsOf = (h: string) => /^References: (.*)$/m.exec(h)?.[1].split(' ') ?? [];

    // A first message: References is just the parent.
    const kickoff = by('thread-1@client.example');
    const r1 = await send(ann, { mailboxId: annBox, to: ['bob@client.example'], text: 'ok', inReplyToEmailId: kickoff.id });
    const h1 = await head(r1);
    expect(h1).toMatch(/^In-Reply-To: <thread-1@client\.example>$/m);
    expect(refsOf(h1)).toEqual(['<thread-1@client.example>']);
    expect(h1).toMatch(/^Subject: Re: Project kickoff$/m);
    expect(r1.threadId).toBe(kickoff.threadId);

    // Parent with In-Reply-To only: References = its In-Reply-To + itself; "RE:" is not doubled.
    const second = by('thread-3@client.example');
    const h2 = await head(await send(ann, { mailboxId: annBox, to: ['bob@client.example'], text: 'ok', inReplyToEmailId: second.id }));
    expect(refsOf(h2)).toEqual(['<thread-2@client.example>', '<thread-3@client.example>']);
    expect(h2).toMatch(/^Subject: RE: Project kickoff$/m);

    // A long chain is trimmed from the middle: the root and the newest ids stay.
    const long = by('long-25@client.example');
    const r3 = await send(ann, { mailboxId: annBox, to: ['bob@client.example'], text: 'ok', inReplyToEmailId: long.id });
    const refs = refsOf(await head(r3));
    expect(refs).toHaveLength(20);
    expect(refs[0]).toBe('<long-0@client.example>');
    expect(refs.slice(1)).toEqual([...LONG_REFS.slice(7), '<long-25@client.example>']);
    const stored = (await t.request('GET', `/api/emails/${r3.emailId}`, { token: ann.token })).body;
    expect(stored).toMatchObject({ inReplyTo: 'long-25@client.example', threadId: long.threadId, subject: 'Re: Long thread' });
  });

  it('delivers attachments byte for byte (multipart files and JSON base64), stored and filed the same', { timeout: 60_000 }, async () => {
    const bin = randomBytes(300 * 1024);
    // Lines starting with a dot and bare LFs: SMTP dot-stuffing and line-ending traps.
    const text = Buffer.from('first\r\n.\r\n..two dots\nbare LF\r\n.last line without newline');
    const small = randomBytes(4096);
    const form = new FormData();
    form.append('message', JSON.stringify({ mailboxId: annBox, to: ['erin@client.example'], subject: 'Binary files', text: 'attached', attachments: [{ filename: 'small.dat', contentType: 'application/octet-stream', contentBase64: small.toString('base64') }] }));
    form.append('file', new Blob([bin], { type: 'application/octet-stream' }), 'отчёт 2026.bin');
    form.append('file', new Blob([text], { type: 'text/plain' }), 'notes.txt');
    const res = await fetch(`${t.url}/api/emails/send`, { method: 'POST', headers: { authorization: `Bearer ${ann.token}` }, body: form });
    expect(res.status).toBe(201);
    const r = (await res.json()) as { emailId: string; messageId: string };
    const want = new Map([['small.dat', sha(small)], ['отчёт 2026.bin', sha(bin)], ['notes.txt', sha(text)]]);

    const { mail } = await submitted(r.messageId);
    expect(new Map(mail.attachments.map((a) => [a.filename!, sha(a.content)]))).toEqual(want);

    const stored = (await t.request('GET', `/api/emails/${r.emailId}`, { token: ann.token })).body;
    const got = new Map<string, string>();
    for (const a of stored.attachments) {
      const dl = await fetch(`${t.url}/api/emails/${r.emailId}/attachments/${a.id}`, { headers: { authorization: `Bearer ${ann.token}` } });
      expect(dl.status).toBe(200);
      got.set(a.filename, sha(Buffer.from(await dl.arrayBuffer())));
    }
    expect(got).toEqual(want);

    const copy = (await sentOnServer(ANN.user)).find((m) => `<${m.messageId.replace(/^<|>$/g, '')}>` === r.messageId)!;
    const filed = await simpleParser(copy.raw);
    expect(new Map(filed.attachments.map((a) => [a.filename!, sha(a.content)]))).toEqual(want);
  });
});
