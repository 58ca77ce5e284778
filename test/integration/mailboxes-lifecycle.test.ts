// Mailboxes after creation (B3, B4, B6): settings incl. sanitised signature, password change
// re-verified against a real Dovecot + smtp-server, the MailboxDirectory contract used by the mail
// module, provider changes, removal, and M4. On SQLite and PostgreSQL.
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { dialects } from '../helpers/db.js';
import { startTestApp, type TestApp, type TestUser } from '../helpers/app.js';
import { startDovecot, type Dovecot } from '../helpers/dovecot.js';
import { startSmtpServer, type TestSmtpServer } from '../helpers/smtp-server.js';
import type { MailboxDirectory } from '../../src/modules/mailboxes/index.js';

const DIALECTS = await dialects();
// Every test talks to Dovecot and smtp-server; on a loaded 2-core machine that can be slow.
vi.setConfig({ testTimeout: 90_000 });

const ANN = { user: 'ann@acme.test', password: 'ann-imap-pw-1' };
const CAROL = { user: 'carol', password: 'carol-pw-2' }; // a server whose user names are the part before "@"

let dc: Dovecot;
let smtp: TestSmtpServer;

beforeAll(async () => {
  [dc, smtp] = await Promise.all([startDovecot({ users: [ANN, CAROL] }), startSmtpServer({ mode: 'starttls', users: [ANN, CAROL] })]);
});
afterAll(async () => {
  await Promise.all([dc?.close(), smtp?.close()]);
});

describe.each(DIALECTS)('mailbox lifecycle on %s', (dialect) => {
  let t: TestApp;
  let ann: TestUser;
  let other: TestUser;
  let providerId: string;
  let localPartProviderId: string;
  let mailboxId: string;

  beforeAll(async () => {
    t = await startTestApp({ dialect });
    ann = await t.createUser();
    other = await t.createUser();
    const p = await t.request('POST', '/api/mail-providers', {
      token: t.adminToken,
      body: {
        name: 'Acme Mail',
        type: 'imap',
        imap: { host: dc.host, port: dc.port, security: 'starttls' },
        smtp: { host: smtp.host, port: smtp.port, security: 'starttls' },
        allowSelfSigned: true,
      },
    });
    expect(p.status).toBe(201);
    providerId = p.body.id;
    const lp = await t.request('POST', '/api/mail-providers', {
      token: t.adminToken,
      body: {
        name: 'Local Part Mail',
        type: 'imap',
        imap: { host: dc.host, port: dc.tlsPort, security: 'ssl' },
        smtp: { host: smtp.host, port: smtp.port, security: 'starttls' },
        loginFormat: 'local-part',
        allowSelfSigned: true,
      },
    });
    expect(lp.status).toBe(201);
    localPartProviderId = lp.body.id;
    // Ann: one mailbox on each provider; another user on Acme too (for M4).
    const a = await t.request('POST', '/api/mailboxes', { token: ann.token, body: { email: ANN.user, password: ANN.password, providerId } });
    expect(a.status, JSON.stringify(a.body)).toBe(201);
    mailboxId = a.body.id;
    const c = await t.request('POST', '/api/mailboxes', { token: ann.token, body: { email: 'carol@elsewhere.test', password: CAROL.password, providerId: localPartProviderId } });
    expect(c.status, JSON.stringify(c.body)).toBe(201);
    const o = await t.request('POST', '/api/mailboxes', { token: other.token, body: { email: ANN.user, password: ANN.password, providerId } });
    expect(o.status, JSON.stringify(o.body)).toBe(201);
  });
  afterAll(async () => {
    await t?.close();
  });

  it('hands mailboxes to the mail module again when their provider\'s servers change', async () => {
    const count = async () => (await t.db.db.selectFrom('jobs').select('data').where('name', '=', 'mail.mailbox-changed').execute()).filter((j) => JSON.parse(j.data).mailboxId === mailboxId).length;
    const before = await count();
    await t.request('PATCH', `/api/mail-providers/${providerId}`, { token: t.adminToken, body: { name: 'Acme Mail (renamed)' } });
    expect(await count()).toBe(before); // a rename changes no connection
    const r = await t.request('PATCH', `/api/mail-providers/${providerId}`, { token: t.adminToken, body: { imap: { port: dc.port, security: 'starttls' }, providerSavesSent: true } });
    expect(r.status).toBe(200);
    expect(await count()).toBe(before + 1);
    await t.request('PATCH', `/api/mail-providers/${providerId}`, { token: t.adminToken, body: { name: 'Acme Mail', providerSavesSent: false } });
  });

  it('keeps mailboxes private: another user gets 404', async () => {
    expect((await t.request('GET', `/api/mailboxes/${mailboxId}`, { token: other.token })).status).toBe(404);
    expect((await t.request('PATCH', `/api/mailboxes/${mailboxId}`, { token: other.token, body: { autoLoad: false } })).status).toBe(404);
    expect((await t.request('DELETE', `/api/mailboxes/${mailboxId}`, { token: other.token })).status).toBe(404);
  });

  it('edits every setting and sanitises the signature, keeping inline images (B3, B4, B6)', async () => {
    const png = 'data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==';
    const html = `<div style="color:#333;position:fixed" onclick="steal()">Ann<br><img src="${png}" alt="logo"><img src="cid:logo@acme"><img src="data:image/svg+xml;base64,PHN2Zz48L3N2Zz4="><script>alert(1)</script><a href="javascript:alert(1)">x</a></div>`;
    const r = await t.request('PATCH', `/api/mailboxes/${mailboxId}`, {
      token: ann.token,
      body: {
        loadPeriod: '3months',
        autoLoad: false,
        allFolders: false,
        selectedFolders: ['INBOX', 'Projects', 'Projects/Alpha'],
        sendEnabled: false,
        defaultSender: 'Sales@Acme.test',
        alias: 'Ann from Acme',
        useSignature: true,
        signatureHtml: html,
      },
    });
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    const s = r.body.settings;
    expect(s).toMatchObject({ loadPeriod: '3months', autoLoad: false, selectedFolders: ['INBOX', 'Projects', 'Projects/Alpha'], sendEnabled: false, defaultSender: 'sales@acme.test', alias: 'Ann from Acme', useSignature: true });
    expect(s.signatureHtml).toContain(png);
    expect(s.signatureHtml).toContain('src="cid:logo@acme"');
    expect(s.signatureHtml).toContain('color:#333');
    expect(s.signatureHtml).not.toMatch(/script|onclick|javascript:|svg|position/);
    // Persisted.
    expect((await t.request('GET', `/api/mailboxes/${mailboxId}`, { token: ann.token })).body.settings).toEqual(s);

    const bad = await t.request('PATCH', `/api/mailboxes/${mailboxId}`, { token: ann.token, body: { allFolders: false, selectedFolders: [] } });
    expect(bad.status).toBe(400);
    const period = await t.request('PATCH', `/api/mailboxes/${mailboxId}`, { token: ann.token, body: { loadPeriod: 'year' } });
    expect(period.status).toBe(400);
    // A line break in the alias would start a new header in From: refused, naming the field.
    const injected = await t.request('PATCH', `/api/mailboxes/${mailboxId}`, { token: ann.token, body: { alias: 'Ann\r\nBcc: spy@evil.test' } });
    expect(injected.status).toBe(400);
    expect(injected.body.error.details.fields.map((f: { field: string }) => f.field)).toContain('body.alias');
    const jobs = async () => (await t.db.db.selectFrom('jobs').select('data').where('name', '=', 'mail.mailbox-changed').execute()).filter((j) => JSON.parse(j.data).mailboxId === mailboxId).length;
    const before = await jobs();
    const back = await t.request('PATCH', `/api/mailboxes/${mailboxId}`, { token: ann.token, body: { autoLoad: true, sendEnabled: true } });
    expect(back.body.settings).toMatchObject({ autoLoad: true, sendEnabled: true, loadPeriod: '3months' });
    expect(await jobs()).toBe(before + 1); // autoLoad matters to the sync
    await t.request('PATCH', `/api/mailboxes/${mailboxId}`, { token: ann.token, body: { alias: 'Ann from Acme', useSignature: true } });
    expect(await jobs()).toBe(before + 1); // send settings are read at send time: no job
  });

  it('re-verifies a password change and keeps the old password when the new one is wrong', async () => {
    const wrong = await t.request('PATCH', `/api/mailboxes/${mailboxId}`, { token: ann.token, body: { password: 'not-it', alias: 'Changed' } });
    expect(wrong.status).toBe(422);
    expect(wrong.body.error.details.failedStep).toBe('login');
    expect(await t.platform.secrets.get(`mailbox:${mailboxId}:password`)).toBe(ANN.password);
    expect((await t.request('GET', `/api/mailboxes/${mailboxId}`, { token: ann.token })).body.settings.alias).toBe('Ann from Acme');
  });

  it('serves the mail module through MailboxDirectory, including re-auth marking (contract)', async () => {
    const dir = t.modules.mailboxDirectory as MailboxDirectory;
    const conn = await dir.connection(mailboxId);
    expect(conn.imap).toEqual({ host: dc.host, port: dc.port, security: 'starttls', auth: { user: 'ann@acme.test', password: ANN.password } });
    expect(conn.smtp).toMatchObject({ host: smtp.host, port: smtp.port, security: 'starttls', auth: { user: 'ann@acme.test', password: ANN.password } });
    expect(conn.providerSavesSent).toBe(false);
    expect(conn.allowSelfSigned).toBe(true);
    expect((await dir.get(mailboxId))?.settings.loadPeriod).toBe('3months');
    expect(await dir.get('00000000-0000-4000-8000-000000000000')).toBeNull();
    await expect(dir.connection('00000000-0000-4000-8000-000000000000')).rejects.toMatchObject({ statusCode: 404 });
    expect(await dir.readableBy(ann.id)).toHaveLength(2);
    expect((await dir.sendableBy(ann.id)).includes(mailboxId)).toBe(true);
    expect((await dir.listSyncable()).map((m) => m.id)).toContain(mailboxId);

    await dir.markNeedsReauth(mailboxId, 'AUTHENTICATIONFAILED');
    await dir.markNeedsReauth(mailboxId, 'AUTHENTICATIONFAILED'); // repeated failures notify once
    const m = await t.request('GET', `/api/mailboxes/${mailboxId}`, { token: ann.token });
    expect(m.body).toMatchObject({ status: 'needs-reauth', statusReason: 'AUTHENTICATIONFAILED' });
    expect((await dir.listSyncable()).map((x) => x.id)).not.toContain(mailboxId);
    const notes = (await t.request('GET', '/api/notifications', { token: ann.token })).body.items.filter((x: any) => x.kind === 'mailbox.needs-reauth');
    expect(notes).toHaveLength(1);

    // Entering the (right) password again re-verifies and reactivates.
    const fixed = await t.request('PATCH', `/api/mailboxes/${mailboxId}`, { token: ann.token, body: { password: ANN.password } });
    expect(fixed.status).toBe(200);
    expect(fixed.body).toMatchObject({ status: 'active', statusReason: null });
  });

  it('removes a mailbox, its secrets, and tells the mail module whether to delete mail (B6)', async () => {
    const r = await t.request('DELETE', `/api/mailboxes/${mailboxId}?deleteMail=true`, { token: ann.token });
    expect(r.status).toBe(204);
    expect((await t.request('GET', `/api/mailboxes/${mailboxId}`, { token: ann.token })).status).toBe(404);
    expect(await t.platform.secrets.get(`mailbox:${mailboxId}:password`)).toBeNull();
    const jobs = await t.db.db.selectFrom('jobs').select(['data']).where('name', '=', 'mail.mailbox-removed').execute();
    expect(jobs.map((j) => JSON.parse(j.data))).toContainEqual({ mailboxId, deleteMail: true });
    expect((await t.request('DELETE', `/api/mailboxes/${mailboxId}`, { token: ann.token })).status).toBe(404);

    const carol = (await t.request('GET', '/api/mailboxes', { token: ann.token })).body.items[0];
    expect((await t.request('DELETE', `/api/mailboxes/${carol.id}`, { token: ann.token })).status).toBe(204);
    const kept = await t.db.db.selectFrom('jobs').select(['data']).where('name', '=', 'mail.mailbox-removed').execute();
    expect(kept.map((j) => JSON.parse(j.data))).toContainEqual({ mailboxId: carol.id, deleteMail: false });
  });

  it('refuses to delete the provider while another user still has a mailbox on it (M4)', async () => {
    const r = await t.request('DELETE', `/api/mail-providers/${providerId}`, { token: t.adminToken });
    expect(r.status).toBe(409);
    expect(r.body.error.message).toMatch(/1 mailbox uses it/);
  });
});
