// Emails API (B5) end to end through the real server, mailboxes module and Dovecot, on SQLite and
// PostgreSQL: sync via POST /sync, sync-status, folders, listing with filters, detail with
// sanitised HTML, raw, attachments, contact/account links and the CRM timeline, access control.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dialects } from '../helpers/db.js';
import { startTestApp, type TestApp, type TestUser } from '../helpers/app.js';
import { startDovecot, type Dovecot } from '../helpers/dovecot.js';
import { startSmtpServer, type TestSmtpServer } from '../helpers/smtp-server.js';
import { fixtures, waitFor } from '../fixtures/mail/harness.js';

const DIALECTS = await dialects();
const ANN = { user: 'ann@acme.test', password: 'ann-imap-pw-1' };

let dc: Dovecot;
let smtp: TestSmtpServer;
beforeAll(async () => {
  [dc, smtp] = await Promise.all([startDovecot({ users: [ANN] }), startSmtpServer({ mode: 'starttls', users: [ANN] })]);
  for (const f of fixtures()) await dc.append(ANN.user, 'INBOX', f.raw);
});
afterAll(async () => {
  await Promise.all([dc?.close(), smtp?.close()]);
});

describe.each(DIALECTS)('emails API on %s', (dialect) => {
  let t: TestApp;
  let ann: TestUser;
  let other: TestUser;
  let mailboxId: string;
  let contactId: string;
  let accountId: string;

  beforeAll(async () => {
    t = await startTestApp({ dialect });
    ann = await t.createUser();
    other = await t.createUser();
    const acc = await t.request('POST', '/api/accounts', { token: ann.token, body: { name: 'Client Inc' } });
    expect(acc.status).toBe(201);
    accountId = acc.body.id;
    const c = await t.request('POST', '/api/contacts', { token: ann.token, body: { name: 'Bob Builder', emails: [{ email: 'Bob@Client.example' }], accountId } });
    expect(c.status).toBe(201);
    contactId = c.body.id;
    const p = await t.request('POST', '/api/mail-providers', {
      token: t.adminToken,
      body: { name: 'Acme Mail', type: 'imap', imap: { host: dc.host, port: dc.port, security: 'starttls' }, smtp: { host: smtp.host, port: smtp.port, security: 'starttls' }, allowSelfSigned: true },
    });
    expect(p.status).toBe(201);
    const mb = await t.request('POST', '/api/mailboxes', { token: ann.token, body: { email: ANN.user, password: ANN.password, providerId: p.body.id } });
    expect(mb.status).toBe(201);
    mailboxId = mb.body.id;
  });
  afterAll(async () => {
    await t?.close();
  });

  it('syncs on request and reports status and folders', async () => {
    const r = await t.request('POST', `/api/mailboxes/${mailboxId}/sync`, { token: ann.token });
    expect(r.status).toBe(202);
    const st = (await waitFor(async () => {
      const s = await t.request('GET', `/api/mailboxes/${mailboxId}/sync-status`, { token: ann.token });
      return s.body.lastSuccessAt && s.body.totals.emails === fixtures().length ? s : null;
    }, 30_000))!;
    expect(st.body.state).toMatch(/idle|syncing/);
    expect(st.body.lastError).toBeNull();
    expect(st.body.folders.find((f: any) => f.path === 'INBOX')).toMatchObject({ selected: true });
    const folders = await t.request('GET', `/api/mailboxes/${mailboxId}/folders`, { token: ann.token });
    expect(folders.status).toBe(200);
    expect(folders.body.items.find((f: any) => f.path === 'Sent')).toMatchObject({ specialUse: '\\Sent', selected: true });
    expect((await t.request('GET', `/api/mailboxes/${mailboxId}/sync-status`, { token: other.token })).status).toBe(403);
    expect((await t.request('POST', `/api/mailboxes/${mailboxId}/sync`, { token: other.token })).status).toBe(403);
    expect((await t.request('GET', `/api/mailboxes/not-a-uuid/sync-status`, { token: ann.token })).status).toBe(400);
    expect((await t.request('GET', `/api/mailboxes/00000000-0000-4000-8000-000000000000/sync-status`, { token: ann.token })).status).toBe(404);
  });

  it('lists, filters and pages mail only for readers of the mailbox', async () => {
    const all = await t.request('GET', `/api/emails?mailboxId=${mailboxId}&limit=5`, { token: ann.token });
    expect(all.status).toBe(200);
    expect(all.body.items).toHaveLength(5);
    expect(all.body.nextCursor).toBeTruthy();
    const seen = new Set(all.body.items.map((i: any) => i.id));
    let cursor = all.body.nextCursor;
    while (cursor) {
      const next = await t.request('GET', `/api/emails?mailboxId=${mailboxId}&limit=5&cursor=${encodeURIComponent(cursor)}`, { token: ann.token });
      for (const i of next.body.items) {
        expect(seen.has(i.id)).toBe(false);
        seen.add(i.id);
      }
      cursor = next.body.nextCursor;
    }
    expect(seen.size).toBe(fixtures().length);

    const q = await t.request('GET', `/api/emails?q=${encodeURIComponent('привет')}`, { token: ann.token });
    // Case-insensitive in Cyrillic on both databases (subject, and the 8-bit body's snippet).
    expect(q.body.items.map((i: any) => i.subject).sort()).toEqual(['8-bit body without declaration', 'Привет из КОИ-8', 'Привет, мир!'].sort());
    const byAddr = await t.request('GET', `/api/emails?q=BOB%40client`, { token: ann.token });
    expect(byAddr.body.items.length).toBeGreaterThanOrEqual(2);
    const byContact = await t.request('GET', `/api/emails?contactId=${contactId}`, { token: ann.token });
    expect(byContact.body.items.map((i: any) => i.subject).sort()).toEqual(['Re: Report with attachment', 'Report with attachment']);
    const byFolder = await t.request('GET', `/api/emails?mailboxId=${mailboxId}&folder=Sent`, { token: ann.token });
    expect(byFolder.body.items).toEqual([]);
    const thread = byContact.body.items[0].threadId;
    expect(byContact.body.items[1].threadId).toBe(thread);
    const inThread = await t.request('GET', `/api/emails?threadId=${thread}`, { token: ann.token });
    expect(inThread.body.items).toHaveLength(2);

    expect((await t.request('GET', `/api/emails`, { token: other.token })).body.items).toEqual([]);
    expect((await t.request('GET', `/api/emails?mailboxId=${mailboxId}`, { token: other.token })).status).toBe(403);
    expect((await t.request('GET', `/api/emails?mailboxId=nope`, { token: ann.token })).status).toBe(400);
    expect((await t.request('GET', `/api/emails?q=${encodeURIComponent("' OR 1=1 --")}`, { token: ann.token })).status).toBe(200);
    expect((await t.request('GET', `/api/emails?cursor=garbage`, { token: ann.token })).status).toBe(400);
  });

  it('shows one email with sanitised HTML, attachments, raw source and CRM links; timeline lists it', async () => {
    const list = await t.request('GET', `/api/emails?contactId=${contactId}`, { token: ann.token });
    const report = list.body.items.find((i: any) => i.subject === 'Report with attachment');
    const d = await t.request('GET', `/api/emails/${report.id}`, { token: ann.token });
    expect(d.status).toBe(200);
    expect(d.body.html).not.toContain('<script');
    expect(d.body.blockedImages).toBe(1);
    expect(d.body.links).toEqual(expect.arrayContaining([{ recordType: 'contact', recordId: contactId }, { recordType: 'account', recordId: accountId }]));
    const pdf = d.body.attachments.find((a: any) => a.contentType === 'application/pdf');
    expect(pdf.filename).toBe('отчёт.pdf');
    const a = await fetch(`${t.url}/api/emails/${report.id}/attachments/${pdf.id}`, { headers: { authorization: `Bearer ${ann.token}` } });
    expect(a.status).toBe(200);
    expect(a.headers.get('content-disposition')).toContain("filename*=UTF-8''");
    expect(Buffer.from(await a.arrayBuffer()).toString('latin1')).toContain('%PDF-1.4');
    const withImages = await t.request('GET', `/api/emails/${report.id}?images=1`, { token: ann.token });
    expect(withImages.body.html).toContain('src="https://tracker.example/pixel.gif"');
    const raw = await fetch(`${t.url}/api/emails/${report.id}/raw`, { headers: { authorization: `Bearer ${ann.token}` } });
    expect(raw.headers.get('content-type')).toContain('message/rfc822');
    expect(await raw.text()).toContain('Message-ID: <attach-1@client.example>');

    expect((await t.request('GET', `/api/emails/${report.id}`, { token: other.token })).status).toBe(404);
    expect((await t.request('GET', `/api/emails/${report.id}/raw`, { token: other.token })).status).toBe(404);
    expect((await t.request('GET', `/api/emails/00000000-0000-4000-8000-000000000000`, { token: ann.token })).status).toBe(404);

    const tl = await t.request('GET', `/api/contacts/${contactId}/timeline`, { token: ann.token });
    expect(tl.status).toBe(200);
    expect(tl.body.items.filter((i: any) => i.source === 'mail').map((i: any) => i.title).sort()).toEqual(['Re: Report with attachment', 'Report with attachment']);
    const atl = await t.request('GET', `/api/accounts/${accountId}/timeline`, { token: ann.token });
    expect(atl.body.items.some((i: any) => i.source === 'mail')).toBe(true);
  });

  it('marks a message read and unread on the server too; the next sync agrees; refused in plain words when the server is down', { timeout: 60_000 }, async () => {
    const list = await t.request('GET', `/api/emails?contactId=${contactId}`, { token: ann.token });
    const report = list.body.items.find((i: any) => i.subject === 'Report with attachment');
    const serverFlags = async () => {
      const c = await dc.client(ANN.user);
      try {
        await c.mailboxOpen('INBOX', { readOnly: true });
        const uids = (await c.search({ header: { 'message-id': '<attach-1@client.example>' } }, { uid: true })) || [];
        expect(uids).toHaveLength(1);
        const m = await c.fetchOne(String(uids[0]), { flags: true }, { uid: true });
        return m ? [...(m.flags ?? [])] : [];
      } finally {
        await c.logout();
      }
    };
    const read = await t.request('PATCH', `/api/emails/${report.id}`, { token: ann.token, body: { seen: true } });
    expect(read.status).toBe(200);
    expect(read.body.flags).toContain('\\Seen');
    expect(await serverFlags()).toContain('\\Seen');
    // A sync afterwards reads the server's flags: still read.
    await t.request('POST', `/api/mailboxes/${mailboxId}/sync`, { token: ann.token });
    await new Promise((r) => setTimeout(r, 1500));
    expect((await t.request('GET', `/api/emails/${report.id}`, { token: ann.token })).body.flags).toContain('\\Seen');

    const unread = await t.request('PATCH', `/api/emails/${report.id}`, { token: ann.token, body: { seen: false } });
    expect(unread.status).toBe(200);
    expect(unread.body.flags).not.toContain('\\Seen');
    expect(await serverFlags()).not.toContain('\\Seen');

    // Not yours, unknown, malformed.
    expect((await t.request('PATCH', `/api/emails/${report.id}`, { token: other.token, body: { seen: true } })).status).toBe(404);
    expect((await t.request('PATCH', `/api/emails/00000000-0000-4000-8000-000000000000`, { token: ann.token, body: { seen: true } })).status).toBe(404);
    const bad = await t.request('PATCH', `/api/emails/${report.id}`, { token: ann.token, body: { seen: 'yes' } });
    expect(bad.status).toBe(400);
    expect(JSON.stringify(bad.body)).toContain('seen');

    // The server is down: the change is refused in words and nothing changes here.
    await dc.stop();
    try {
      const down = await t.request('PATCH', `/api/emails/${report.id}`, { token: ann.token, body: { seen: true } });
      expect(down.status).toBe(502);
      expect(down.body.error.message).toMatch(/mail server/i);
      expect((await t.request('GET', `/api/emails/${report.id}`, { token: ann.token })).body.flags).not.toContain('\\Seen');
    } finally {
      await dc.start();
    }
  });

  it('removing the mailbox with deleteMail purges its mail and files; keeping is the other choice', async () => {
    const before = await t.request('GET', `/api/emails?mailboxId=${mailboxId}&limit=1`, { token: ann.token });
    const one = await t.request('GET', `/api/emails/${before.body.items[0].id}`, { token: ann.token });
    expect(one.status).toBe(200);
    const del = await t.request('DELETE', `/api/mailboxes/${mailboxId}?deleteMail=true`, { token: ann.token });
    expect(del.status).toBe(204);
    // The purge removes the emails first and the folder rows last: wait for the whole of it.
    await waitFor(async () => {
      const rows = await t.platform.db.selectFrom('emails').select('id').where('mailbox_id', '=', mailboxId).execute();
      const folders = await t.platform.db.selectFrom('mail_folders').select('id').where('mailbox_id', '=', mailboxId).execute();
      return rows.length === 0 && folders.length === 0;
    }, 30_000);
    // And nothing comes back afterwards (a sync racing the removal must not recreate rows).
    await new Promise((r) => setTimeout(r, 500));
    expect(await t.platform.db.selectFrom('emails').select('id').where('mailbox_id', '=', mailboxId).execute()).toEqual([]);
    expect(await t.platform.db.selectFrom('mail_folders').select('id').where('mailbox_id', '=', mailboxId).execute()).toEqual([]);
    expect((await t.request('GET', `/api/emails/${before.body.items[0].id}`, { token: ann.token })).status).toBe(404);
    expect(await t.platform.leases.holderOf(`mailbox:${mailboxId}`)).toBeNull();
  });

  it('removing the mailbox but keeping its mail leaves that mail readable by its owner only (B6)', async () => {
    const providers = await t.request('GET', '/api/mail-providers?limit=100', { token: t.adminToken });
    const acme = providers.body.items.find((p: any) => p.name === 'Acme Mail');
    const mb = await t.request('POST', '/api/mailboxes', { token: ann.token, body: { email: ANN.user, password: ANN.password, providerId: acme.id } });
    expect(mb.status).toBe(201);
    const keptId = mb.body.id as string;
    await t.request('POST', `/api/mailboxes/${keptId}/sync`, { token: ann.token });
    await waitFor(async () => {
      const s = await t.request('GET', `/api/mailboxes/${keptId}/sync-status`, { token: ann.token });
      return s.body.totals?.emails === fixtures().length;
    }, 30_000);
    const before = await t.request('GET', `/api/emails?mailboxId=${keptId}&limit=100`, { token: ann.token });
    expect(before.body.items).toHaveLength(fixtures().length);

    expect((await t.request('DELETE', `/api/mailboxes/${keptId}?deleteMail=false`, { token: ann.token })).status).toBe(204);
    // The mailbox is gone from the list, its mail is not.
    expect((await t.request('GET', '/api/mailboxes', { token: ann.token })).body.items.map((m: any) => m.id)).not.toContain(keptId);
    await waitFor(async () => !(await t.platform.leases.holderOf(`mailbox:${keptId}`)), 20_000);
    const after = await t.request('GET', `/api/emails?limit=100`, { token: ann.token });
    expect(after.body.items.filter((e: any) => e.mailboxId === keptId)).toHaveLength(fixtures().length);
    const one = await t.request('GET', `/api/emails/${before.body.items[0].id}`, { token: ann.token });
    expect(one.status).toBe(200);
    const tl = await t.request('GET', `/api/contacts/${contactId}/timeline`, { token: ann.token });
    expect(tl.body.items.some((i: any) => i.source === 'mail')).toBe(true);
    // Still nobody else's.
    expect((await t.request('GET', `/api/emails/${before.body.items[0].id}`, { token: other.token })).status).toBe(404);
    expect((await t.request('GET', `/api/emails?limit=100`, { token: other.token })).body.items).toEqual([]);
  });
});
