// Mailboxes (B1, B2, B6) end to end: credentials verified against a real Dovecot (IMAP) and a real
// smtp-server (SMTP) before saving, login formats, defaults, notification (stored + realtime),
// jobs for the mail module, settings incl. sanitised signature, password change, removal; and the
// MailboxDirectory contract. On SQLite and PostgreSQL.
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dialects } from '../helpers/db.js';
import { startTestApp, type TestApp, type TestUser } from '../helpers/app.js';
import { startDovecot, type Dovecot } from '../helpers/dovecot.js';
import { startSmtpServer, type TestSmtpServer } from '../helpers/smtp-server.js';
import type { MailboxDirectory } from '../../src/modules/mailboxes/index.js';

const DIALECTS = await dialects();

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

async function waitFor(cond: () => boolean | Promise<boolean>, what: string, timeoutMs = 15_000) {
  const until = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe.each(DIALECTS)('mailboxes on %s', (dialect) => {
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
  });
  afterAll(async () => {
    await t?.close();
  });

  it('does not create a mailbox when the password is wrong, naming the failing step', async () => {
    const r = await t.request('POST', '/api/mailboxes', { token: ann.token, body: { email: ANN.user, password: 'wrong', providerId } });
    expect(r.status).toBe(422);
    expect(r.body.error.code).toBe('MAILBOX_VERIFICATION_FAILED');
    expect(r.body.error.message).toContain('The server rejected the user name or password.');
    expect(r.body.error.details.failedStep).toBe('login');
    expect(r.body.error.details.imap.steps.map((s: any) => s.step)).toContain('login');
    expect((await t.request('GET', '/api/mailboxes', { token: ann.token })).body.items).toEqual([]);
    // Nothing learned from a failed attempt.
    const d = await t.request('GET', '/api/mail-provider-domains?q=acme.test', { token: ann.token });
    expect(d.body.items).toEqual([]);
  });

  it('asks for the provider when the domain is unknown', async () => {
    (t.modules.mailProviders as any).useMxResolver(async () => []);
    const r = await t.request('POST', '/api/mailboxes', { token: ann.token, body: { email: ANN.user, password: ANN.password } });
    expect(r.status).toBe(400);
    expect(r.body.error.details.fields[0].field).toBe('providerId');
  });

  it('creates a verified mailbox with defaults, notifies the user live and hands it to the mail module (B1)', async () => {
    // Listen on the realtime socket to see the notification pushed.
    const ws = new WebSocket(`${t.url.replace('http', 'ws')}/api/realtime?token=${ann.token}`);
    const events: any[] = [];
    ws.on('message', (raw) => events.push(JSON.parse(raw.toString())));
    await waitFor(() => events.some((e) => e.type === 'hello'), 'realtime hello');

    const r = await t.request('POST', '/api/mailboxes', { token: ann.token, body: { email: 'Ann@Acme.test', password: ANN.password, providerId } });
    expect(r.status, JSON.stringify(r.body)).toBe(201);
    mailboxId = r.body.id;
    expect(r.body).toMatchObject({
      email: 'ann@acme.test',
      login: 'ann@acme.test',
      providerId,
      providerName: 'Acme Mail',
      kind: 'imap',
      status: 'active',
      hasPassword: true,
      userId: ann.id,
      settings: {
        loadPeriod: 'month',
        autoLoad: true,
        allFolders: false,
        selectedFolders: ['INBOX', 'Sent'],
        sendEnabled: true,
        defaultSender: null,
        alias: null,
        useSignature: false,
        signatureHtml: null,
      },
    });
    expect(JSON.stringify(r.body)).not.toContain(ANN.password);
    expect(await t.platform.secrets.get(`mailbox:${mailboxId}:password`)).toBe(ANN.password);

    // M3: the hand-picked provider is learned for the domain; the next user is detected.
    const det = await t.request('POST', '/api/mailboxes/detect', { token: other.token, body: { email: 'bob@acme.test' } });
    expect(det.body).toMatchObject({ source: 'directory', provider: { id: providerId } });
    const d = await t.request('GET', '/api/mail-provider-domains?q=acme.test', { token: ann.token });
    expect(d.body.items).toEqual([expect.objectContaining({ domain: 'acme.test', source: 'learned', providerId })]);

    // The mail module learns about it through a durable job.
    const jobs = await t.db.db.selectFrom('jobs').select(['name', 'data']).where('name', '=', 'mail.mailbox-changed').execute();
    expect(jobs.map((j) => JSON.parse(j.data))).toContainEqual({ mailboxId });

    // The notification is stored, with links to the mail and to the settings, and pushed live.
    const n = await t.request('GET', '/api/notifications', { token: ann.token });
    expect(n.status).toBe(200);
    const note = n.body.items.find((x: any) => x.kind === 'mailbox.connected');
    expect(note).toMatchObject({ read: false, title: expect.stringContaining('ann@acme.test') });
    expect(note.links.map((l: any) => l.rel)).toEqual(['mail', 'mailbox-settings']);
    expect(note.links.map((l: any) => l.href)).toEqual([`/panel/email?mailboxId=${mailboxId}`, `/profile/mailboxes/${mailboxId}`]);
    await waitFor(() => events.some((e) => e.type === 'notification' && e.data.id === note.id), 'realtime notification');
    ws.close();
    const read = await t.request('POST', `/api/notifications/${note.id}/read`, { token: ann.token });
    expect(read.body.read).toBe(true);
    expect((await t.request('GET', '/api/notifications?unread=true', { token: ann.token })).body.items).toEqual([]);
    // Another user cannot mark it.
    expect((await t.request('POST', `/api/notifications/${note.id}/read`, { token: other.token })).status).toBe(404);
  });

  it('refuses the same address twice for one user (409) but lets another user add it (B2)', async () => {
    const again = await t.request('POST', '/api/mailboxes', { token: ann.token, body: { email: ANN.user, password: ANN.password } });
    expect(again.status).toBe(409);
    const theirs = await t.request('POST', '/api/mailboxes', { token: other.token, body: { email: ANN.user, password: ANN.password } });
    expect(theirs.status).toBe(201); // detected through the learned domain
    expect((await t.request('GET', '/api/mailboxes', { token: other.token })).body.items).toHaveLength(1);
  });

  it('applies the "part before @" login format and supports several mailboxes per user (B2)', async () => {
    const r = await t.request('POST', '/api/mailboxes', { token: ann.token, body: { email: 'carol@elsewhere.test', password: CAROL.password, providerId: localPartProviderId } });
    expect(r.status, JSON.stringify(r.body)).toBe(201);
    expect(r.body.login).toBe('carol');
    const list = await t.request('GET', '/api/mailboxes', { token: ann.token });
    expect(list.body.items.map((m: any) => m.email)).toEqual(['ann@acme.test', 'carol@elsewhere.test']);
  });

  // Storage plays no part in the next two: run them on one dialect only (Dovecot's failed-login delay is 2 s).
  it.runIf(dialect === DIALECTS[0])('tests a saved provider with a user\'s credentials through the API (M5)', async () => {
    const ok = await t.request('POST', `/api/mail-providers/${providerId}/test`, { token: t.adminToken, body: { email: ANN.user, password: ANN.password } });
    expect(ok.status).toBe(200);
    expect(ok.body).toMatchObject({ ok: true, failedStep: null, imap: { ok: true, protocol: 'imap' }, smtp: { ok: true, protocol: 'smtp' } });
    expect(ok.body.imap.steps.map((x: any) => x.step)).toEqual(['dns', 'tcp', 'greeting', 'tls', 'login', 'capability']);
    const bad = await t.request('POST', `/api/mail-providers/${providerId}/test`, { token: t.adminToken, body: { email: ANN.user, password: 'nope' } });
    expect(bad.status).toBe(200);
    expect(bad.body).toMatchObject({ ok: false, failedStep: 'login' });
    expect(bad.body.message).toMatch(/^Incoming \(IMAP\): The server rejected the user name or password\./);
  });

  it('asks for the user name when the provider\'s login format is "manual"', async () => {
    const p = await t.request('POST', '/api/mail-providers', {
      token: t.adminToken,
      body: { name: 'Manual Mail', type: 'imap', imap: { host: dc.host, port: dc.tlsPort, security: 'ssl' }, smtp: { host: smtp.host, port: smtp.port, security: 'starttls' }, loginFormat: 'manual', allowSelfSigned: true },
    });
    const missing = await t.request('POST', '/api/mailboxes', { token: other.token, body: { email: 'c.smith@manual.test', password: CAROL.password, providerId: p.body.id } });
    expect(missing.status).toBe(400);
    expect(missing.body.error.details.fields.map((f: any) => f.field)).toContain('login');
    const ok = await t.request('POST', '/api/mailboxes', { token: other.token, body: { email: 'c.smith@manual.test', password: CAROL.password, providerId: p.body.id, login: 'carol' } });
    expect(ok.status, JSON.stringify(ok.body)).toBe(201);
    expect(ok.body.login).toBe('carol');
    expect((await t.request('DELETE', `/api/mailboxes/${ok.body.id}`, { token: other.token })).status).toBe(204);
  });

  it.runIf(dialect === DIALECTS[0])('says plainly that Exchange and OAuth providers cannot take mailboxes yet', async () => {
    const ex = await t.request('POST', '/api/mail-providers', { token: t.adminToken, body: { name: 'Corp Exchange', type: 'exchange', exchange: { serviceAddress: 'mail.corp.test' } } });
    const r = await t.request('POST', '/api/mailboxes', { token: other.token, body: { email: 'x@corp.test', password: 'pw', providerId: ex.body.id } });
    expect(r.status).toBe(422);
    expect(r.body.error).toMatchObject({ code: 'NOT_SUPPORTED' });
    const oauth = await t.request('POST', '/api/mail-providers', {
      token: t.adminToken,
      body: { name: 'OAuth Only', type: 'imap', imap: { host: dc.host }, smtp: { host: smtp.host }, authMethod: 'oauth2', clientId: 'id', clientSecret: 'secret' },
    });
    const o = await t.request('POST', '/api/mailboxes', { token: other.token, body: { email: 'x@oauth.test', password: 'pw', providerId: oauth.body.id } });
    expect(o.status).toBe(422);
    expect(o.body.error.message).toMatch(/OAuth 2.0/);
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
    const back = await t.request('PATCH', `/api/mailboxes/${mailboxId}`, { token: ann.token, body: { autoLoad: true, sendEnabled: true } });
    expect(back.body.settings).toMatchObject({ autoLoad: true, sendEnabled: true, loadPeriod: '3months' });
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
