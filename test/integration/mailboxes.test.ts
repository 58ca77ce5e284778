// Adding mailboxes (B1, B2): credentials verified against a real Dovecot (IMAP) and a real
// smtp-server (SMTP) before saving, provider detection and learning, login formats, defaults,
// notification (stored + realtime), the job for the mail module. On SQLite and PostgreSQL.
// Settings, password change, MailboxDirectory and removal: mailboxes-lifecycle.test.ts.
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { dialects } from '../helpers/db.js';
import { startTestApp, type TestApp, type TestUser } from '../helpers/app.js';
import { startDovecot, type Dovecot } from '../helpers/dovecot.js';
import { startSmtpServer, type TestSmtpServer } from '../helpers/smtp-server.js';

const DIALECTS = await dialects();
// Every test talks to Dovecot and smtp-server; on a loaded 2-core machine that can be slow.
vi.setConfig({ testTimeout: 90_000 });

const ANN = { user: 'ann@acme.test', password: 'ann-imap-pw-1' };
const CAROL = { user: 'carol', password: 'carol-pw-2' }; // a server whose user names are the part before "@"

let dc: Dovecot;
let smtp: TestSmtpServer;

beforeAll(async () => {
  [dc, smtp] = await Promise.all([startDovecot({ users: [ANN, CAROL] }), startSmtpServer({ mode: 'starttls', users: [ANN, CAROL] })]);
  await dc.append(
    ANN.user,
    'INBOX',
    `From: Bob <bob@client.test>\r\nTo: ann@acme.test\r\nSubject: Welcome aboard e2e\r\nMessage-ID: <e2e-1@client.test>\r\nDate: ${new Date().toUTCString()}\r\n\r\nHello Ann\r\n`,
  );
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

  it('hands over to the mail module: mail already on the server shows up in the API (B1 end to end)', async () => {
    const until = Date.now() + 40_000;
    let body = '';
    while (Date.now() < until) {
      const r = await t.request('GET', `/api/emails?mailboxId=${mailboxId}`, { token: ann.token });
      body = JSON.stringify(r.body);
      if (r.status === 200 && body.includes('Welcome aboard e2e')) break;
      await new Promise((res) => setTimeout(res, 250));
    }
    expect(body).toContain('Welcome aboard e2e');
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

});
