// Sending (B4) refusals and hostile input, on SQLite and PostgreSQL, against a real server, Dovecot
// and the smtp-server harness: who may send (and what they are told), address validation, header
// injection through subject / alias / attachments / received Message-IDs, partial recipient
// refusal, and a queued message whose mailbox stopped sending before the retry.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp, type TestUser } from '../helpers/app.js';
import { dialects } from '../helpers/db.js';
import { startDovecot, type Dovecot } from '../helpers/dovecot.js';
import { startSmtpServer, type TestSmtpServer } from '../helpers/smtp-server.js';
import { waitFor } from '../fixtures/mail/harness.js';

const ANN = { user: 'ann@acme.test', password: 'ann-imap-pw-1' };
const DIALECTS = await dialects();
const OUTLOOK_ID = 'AM0PR01MB5678C0FFEE12@AM0PR01MB5678.eurprd01.prod.OUTLOOK.com';

describe.each(DIALECTS)('sending guards on %s', (dialect) => {
  let dc: Dovecot;
  let smtp: TestSmtpServer;
  let t: TestApp;
  let ann: TestUser;
  let other: TestUser;
  let mailboxId: string;

  beforeAll(async () => {
    [dc, smtp] = await Promise.all([startDovecot({ users: [ANN] }), startSmtpServer({ mode: 'starttls', users: [ANN] })]);
    await dc.append(
      ANN.user,
      'INBOX',
      `From: Olga <olga@client.example>\r\nTo: ann@acme.test\r\nSubject: Outlook thread\r\nMessage-ID: <${OUTLOOK_ID}>\r\n` +
        `In-Reply-To: <Root-1@Client.Example>\r\nReferences: <Root-1@Client.Example>\r\nDate: Tue, 03 Nov 2026 09:00:00 +0000\r\n\r\nHi.\r\n`,
    );
    t = await startTestApp({ dialect });
    ann = await t.createUser();
    other = await t.createUser();
    const p = await t.request('POST', '/api/mail-providers', {
      token: t.adminToken,
      body: { name: 'Acme Mail', type: 'imap', imap: { host: dc.host, port: dc.port, security: 'starttls' }, smtp: { host: smtp.host, port: smtp.port, security: 'starttls' }, allowSelfSigned: true },
    });
    const mb = await t.request('POST', '/api/mailboxes', { token: ann.token, body: { email: ANN.user, password: ANN.password, providerId: p.body.id } });
    expect(mb.status).toBe(201);
    mailboxId = mb.body.id;
    await waitFor(async () => (await t.request('GET', `/api/emails?mailboxId=${mailboxId}`, { token: ann.token })).body.items?.length === 1, 30_000);
  });
  afterAll(async () => {
    await t?.close();
    await Promise.all([dc?.close(), smtp?.close()]);
  });

  const send = (body: unknown, token = ann.token) => t.request('POST', '/api/emails/send', { token, body });
  const outgoing = async () => Number((await t.db.db.selectFrom('emails').select((eb) => eb.fn.countAll().as('n')).where('direction', '=', 'out').executeTakeFirstOrThrow()).n);
  const headOf = (raw: Buffer) => {
    const s = raw.toString('latin1');
    return s.slice(0, s.indexOf('\r\n\r\n'));
  };
  const submittedWith = async (subject: string) => (await waitFor(() => smtp.messages.find((m) => headOf(m.raw).includes(`Subject: ${subject}`)), 20_000))!;

  it('refuses, with a reason and before any SMTP connection: another user’s mailbox (403), an unknown one (404), one with sending off (403 SENDING_DISABLED)', async () => {
    const connections = smtp.stats.connections;
    const before = await outgoing();
    const foreign = await send({ mailboxId, to: ['x@client.example'], subject: 's', text: 't' }, other.token);
    expect(foreign.status).toBe(403);
    expect(foreign.body.error.message).toMatch(/not yours/);
    const unknown = await send({ mailboxId: '00000000-0000-4000-8000-000000000000', to: ['x@client.example'], subject: 's' });
    expect(unknown.status).toBe(404);
    const malformed = await send({ mailboxId: 'not-a-uuid', to: ['x@client.example'], subject: 's' });
    expect(malformed.status).toBe(400);
    expect(malformed.body.error.details.fields.map((f: any) => f.field)).toEqual(['mailboxId']);

    expect((await t.request('PATCH', `/api/mailboxes/${mailboxId}`, { token: ann.token, body: { sendEnabled: false } })).status).toBe(200);
    const off = await send({ mailboxId, to: ['x@client.example'], subject: 's', text: 't' });
    expect(off.status).toBe(403);
    expect(off.body.error.code).toBe('SENDING_DISABLED');
    expect(off.body.error.message).toMatch(/Sending is turned off/);
    expect(smtp.stats.connections).toBe(connections);
    expect(await outgoing()).toBe(before);
    expect((await t.request('PATCH', `/api/mailboxes/${mailboxId}`, { token: ann.token, body: { sendEnabled: true } })).status).toBe(200);
    expect((await send({ mailboxId, to: ['x@client.example'], subject: 'Allowed again', text: 't' })).status).toBe(201);
  });

  it('a queued message is not sent once sending was turned off before its retry', async () => {
    smtp.fail({ stage: 'mail', code: 451, times: 1 });
    const q = await send({ mailboxId, to: ['y@client.example'], subject: 'Queued then off', text: 't' });
    expect(q.status).toBe(202);
    expect((await t.request('PATCH', `/api/mailboxes/${mailboxId}`, { token: ann.token, body: { sendEnabled: false } })).status).toBe(200);
    const ob = (await waitFor(async () => {
      const r = await t.db.db.selectFrom('mail_outbox').select(['state', 'last_error']).where('email_id', '=', q.body.emailId).executeTakeFirst();
      return r?.state === 'failed' ? r : null;
    }, 30_000))!;
    expect(ob.last_error).toMatch(/turned off/);
    expect(smtp.messages.some((m) => headOf(m.raw).includes('Subject: Queued then off'))).toBe(false);
    expect((await t.request('PATCH', `/api/mailboxes/${mailboxId}`, { token: ann.token, body: { sendEnabled: true } })).status).toBe(200);
  });

  it('validates every address (400 with the field), sending nothing', async () => {
    const connections = smtp.stats.connections;
    const bad = ['bob@client.example\r\nRCPT TO:<evil@x.test>', 'a@x.test, b@x.test', 'Bob <bob@client.example>', 'bob@', '@client.example', 'bob', `${'a'.repeat(320)}@x.test`, 'bob@client.example\u0000'];
    for (const addr of bad) {
      for (const field of ['to', 'cc', 'bcc'] as const) {
        const body: Record<string, unknown> = { mailboxId, to: ['ok@client.example'], subject: 'addr', [field]: [addr] };
        const r = await send(body);
        expect(r.status, `${field}: ${JSON.stringify(addr)}`).toBe(400);
        expect(r.body.error.code).toBe('VALIDATION_FAILED');
        // (NUL is refused for the whole API before the route, naming the field as body.<path>.)
        expect(r.body.error.details.fields.map((f: any) => f.field.replace(/^body\./, ''))).toContain(`${field}.0`);
      }
    }
    expect(smtp.stats.connections).toBe(connections);
  });

  it('makes header injection impossible: subject, attachment fields (400) and an alias with line breaks (flattened)', async () => {
    const injected = 'Hello\r\nBcc: evil@x.test';
    const s = await send({ mailboxId, to: ['z@client.example'], subject: injected, text: 't' });
    expect(s.status).toBe(400);
    expect(s.body.error.details.fields.map((f: any) => f.field)).toEqual(['subject']);
    for (const attachment of [
      { filename: 'a\r\nX-Evil: 1.txt', contentType: 'text/plain', contentBase64: 'aGk=' },
      { filename: 'a.txt', contentType: 'text/plain\r\nX-Evil: 1', contentBase64: 'aGk=' },
      { filename: 'a.txt', contentType: 'text/plain', contentBase64: 'not base64!' },
    ]) {
      const r = await send({ mailboxId, to: ['z@client.example'], subject: 'att', attachments: [attachment] });
      expect(r.status, JSON.stringify(attachment)).toBe(400);
      expect(r.body.error.code).toBe('VALIDATION_FAILED');
    }
    expect((await send({ mailboxId, to: ['z@client.example'], subject: 'nul\u0000', text: 't' })).status).toBe(400);

    // The alias comes from the mailbox settings; whatever they hold, it leaves as one line.
    const patch = await t.request('PATCH', `/api/mailboxes/${mailboxId}`, { token: ann.token, body: { alias: 'Ann\r\nBcc: evil@x.test' } });
    if (patch.status === 200) {
      const r = await send({ mailboxId, to: ['z@client.example'], subject: 'Alias check', text: 't' });
      expect(r.status).toBe(201);
      const msg = await submittedWith('Alias check');
      expect(msg.envelope.rcptTo).toEqual(['z@client.example']);
      const head = headOf(msg.raw);
      expect(head).not.toMatch(/^Bcc:/im);
      expect(head).toMatch(/^From: "?Ann Bcc: evil@x\.test"? <ann@acme\.test>$/m);
      await t.request('PATCH', `/api/mailboxes/${mailboxId}`, { token: ann.token, body: { alias: null } });
    } else {
      expect(patch.status).toBe(400);
    }
  });

  it('keeps a received Message-ID’s own spelling in In-Reply-To and References (other clients compare them exactly)', async () => {
    const parent = (await t.request('GET', `/api/emails?mailboxId=${mailboxId}&folder=INBOX`, { token: ann.token })).body.items[0];
    const r = await send({ mailboxId, to: ['olga@client.example'], text: 'ok', inReplyToEmailId: parent.id });
    expect(r.status).toBe(201);
    const head = headOf((await submittedWith('Re: Outlook thread')).raw).replace(/\r\n[ \t]+/g, ' ');
    expect(head).toMatch(new RegExp(`^In-Reply-To: <${OUTLOOK_ID.replace(/\./g, '\\.')}>$`, 'm'));
    expect(head).toMatch(new RegExp(`^References: <Root-1@Client\\.Example> <${OUTLOOK_ID.replace(/\./g, '\\.')}>$`, 'm'));
    // Our own store still threads it with the parent (its ids are case-folded for joining).
    expect(r.body.threadId).toBe(parent.threadId);
  });

  it('reports recipients the server refused while it accepted the others; odd bodies are not 500s', async () => {
    smtp.fail({ stage: 'rcpt', code: 550, message: '5.1.1 No such user here', times: 1 });
    const r = await send({ mailboxId, to: ['gone@client.example', 'here@client.example'], subject: 'Partly', text: 't' });
    expect(r.status).toBe(201);
    expect(r.body.rejectedRecipients).toEqual(['gone@client.example']);
    expect((await submittedWith('Partly')).envelope.rcptTo).toEqual(['here@client.example']);

    const nul = await send({ mailboxId, to: ['here@client.example'], subject: 'Odd body', text: 'a\u0000b', html: '<p>a\u0000b</p>' });
    expect([201, 400]).toContain(nul.status);
    const noMessage = new FormData();
    noMessage.append('file', new Blob([Buffer.from('x')]), 'x.txt');
    const mp = await fetch(`${t.url}/api/emails/send`, { method: 'POST', headers: { authorization: `Bearer ${ann.token}` }, body: noMessage });
    expect(mp.status).toBe(400);
  });
});
