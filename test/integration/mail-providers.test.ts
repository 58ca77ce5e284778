// Provider catalog (M1, M2, M4), domain directory and detection (M3) through the HTTP API, on SQLite
// and PostgreSQL.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dialects } from '../helpers/db.js';
import { startTestApp, type TestApp, type TestUser } from '../helpers/app.js';
import type { MailProvidersService } from '../../src/modules/mail-providers/index.js';
import { newId, nowIso } from '../../src/platform/db/index.js';

const DIALECTS = await dialects();

describe.each(DIALECTS)('mail providers on %s', (dialect) => {
  let t: TestApp;
  let user: TestUser;
  const admin = () => ({ token: t.adminToken });

  beforeAll(async () => {
    t = await startTestApp({ dialect });
    user = await t.createUser();
  });
  afterAll(async () => {
    await t?.close();
  });

  async function all(token: string) {
    const r = await t.request('GET', '/api/mail-providers?limit=500', { token });
    expect(r.status).toBe(200);
    return r.body.items as any[];
  }

  it('ships the preconfigured providers with correct servers (M2), visible to any signed-in user', async () => {
    const items = await all(user.token);
    const by = (key: string) => items.find((p) => p.key === key);
    expect(by('gmail')).toMatchObject({
      name: 'Gmail',
      type: 'imap',
      imap: { host: 'imap.gmail.com', port: 993, security: 'ssl' },
      smtp: { host: 'smtp.gmail.com', port: 465, security: 'ssl' },
      loginFormat: 'email',
      authMethod: 'basic',
      providerSavesSent: true,
      preconfigured: true,
      hasClientSecret: false,
    });
    expect(by('gmail').domains).toEqual(expect.arrayContaining(['gmail.com', 'googlemail.com']));
    expect(by('microsoft365')).toMatchObject({
      imap: { host: 'outlook.office365.com', port: 993, security: 'ssl' },
      smtp: { host: 'smtp.office365.com', port: 587, security: 'starttls' },
      providerSavesSent: true,
    });
    expect(by('icloud')).toMatchObject({ imap: { host: 'imap.mail.me.com', port: 993 }, smtp: { host: 'smtp.mail.me.com', port: 587, security: 'starttls' } });
    expect(by('yahoo').smtp).toEqual({ host: 'smtp.mail.yahoo.com', port: 465, security: 'ssl' });
    expect(by('aol').imap.host).toBe('imap.aol.com');
    expect(by('zoho').imap.host).toBe('imap.zoho.com');
    expect(by('yandex')).toMatchObject({ imap: { host: 'imap.yandex.ru', port: 993 }, smtp: { host: 'smtp.yandex.ru', port: 465 }, providerSavesSent: false });
    expect(by('mailru').domains).toEqual(expect.arrayContaining(['mail.ru', 'bk.ru', 'list.ru', 'inbox.ru']));
    expect(items.filter((p) => p.preconfigured)).toHaveLength(8);
  });

  it('fills the usual port from the security and the security from the port (M1)', async () => {
    const r = await t.request('POST', '/api/mail-providers', {
      ...admin(),
      body: { name: 'Fill Co', type: 'imap', imap: { host: 'IMAP.Fill.example', security: 'starttls' }, smtp: { host: 'smtp.fill.example', port: 465 } },
    });
    expect(r.status).toBe(201);
    expect(r.body.imap).toEqual({ host: 'imap.fill.example', port: 143, security: 'starttls' });
    expect(r.body.smtp).toEqual({ host: 'smtp.fill.example', port: 465, security: 'ssl' });
    expect(r.body.preconfigured).toBe(false);

    const p = await t.request('PATCH', `/api/mail-providers/${r.body.id}`, { ...admin(), body: { smtp: { port: 587 } } });
    expect(p.status).toBe(200);
    // A new port without a security takes the usual security of that port, not the old one.
    expect(p.body.smtp).toEqual({ host: 'smtp.fill.example', port: 587, security: 'starttls' });
    const q = await t.request('PATCH', `/api/mail-providers/${r.body.id}`, { ...admin(), body: { imap: { host: 'imap2.fill.example' } } });
    expect(q.body.imap).toEqual({ host: 'imap2.fill.example', port: 143, security: 'starttls' });
  });

  it('accepts unusual explicit pairs but rejects port 455 as a typo for 465', async () => {
    const odd = await t.request('POST', '/api/mail-providers', {
      ...admin(),
      body: { name: 'Odd Ports', type: 'imap', imap: { host: 'mail.odd.example', port: 10993, security: 'ssl' }, smtp: { host: 'mail.odd.example', port: 2525, security: 'starttls' } },
    });
    expect(odd.status).toBe(201);
    expect(odd.body.smtp).toEqual({ host: 'mail.odd.example', port: 2525, security: 'starttls' });

    const typo = await t.request('POST', '/api/mail-providers', {
      ...admin(),
      body: { name: 'Typo', type: 'imap', imap: { host: 'imap.typo.example' }, smtp: { host: 'smtp.typo.example', port: 455 } },
    });
    expect(typo.status).toBe(400);
    expect(typo.body.error.code).toBe('VALIDATION_FAILED');
    const f = typo.body.error.details.fields.find((x: any) => x.field === 'smtp.port');
    expect(f.message).toMatch(/typo for 465/);

    const noSec = await t.request('POST', '/api/mail-providers', {
      ...admin(),
      body: { name: 'No Sec', type: 'imap', imap: { host: 'imap.x.example', port: 7777 }, smtp: { host: 'smtp.x.example' } },
    });
    expect(noSec.status).toBe(400);
    expect(noSec.body.error.details.fields.map((x: any) => x.field)).toContain('imap.security');

    const missing = await t.request('POST', '/api/mail-providers', { ...admin(), body: { name: 'Missing', type: 'imap', imap: { host: 'imap.x.example' } } });
    expect(missing.status).toBe(400);
    expect(missing.body.error.details.fields.map((x: any) => x.field)).toContain('smtp.host');
  });

  it('requires client ID and secret for OAuth 2.0 and never returns the secret', async () => {
    const noSecret = await t.request('POST', '/api/mail-providers', {
      ...admin(),
      body: { name: 'OAuth Co', type: 'imap', imap: { host: 'imap.o.example' }, smtp: { host: 'smtp.o.example' }, authMethod: 'oauth2', clientId: 'app-1' },
    });
    expect(noSecret.status).toBe(400);
    expect(noSecret.body.error.details.fields.map((x: any) => x.field)).toContain('clientSecret');
    const noId = await t.request('POST', '/api/mail-providers', {
      ...admin(),
      body: { name: 'OAuth Co', type: 'imap', imap: { host: 'imap.o.example' }, smtp: { host: 'smtp.o.example' }, authMethod: 'oauth2', clientSecret: 's3cr3t-value' },
    });
    expect(noId.status).toBe(400);
    expect(noId.body.error.details.fields.map((x: any) => x.field)).toContain('clientId');

    const ok = await t.request('POST', '/api/mail-providers', {
      ...admin(),
      body: { name: 'OAuth Co', type: 'imap', imap: { host: 'imap.o.example' }, smtp: { host: 'smtp.o.example' }, authMethod: 'oauth2', clientId: 'app-1', clientSecret: 'very-s3cr3t-value' },
    });
    expect(ok.status).toBe(201);
    expect(ok.body).toMatchObject({ authMethod: 'oauth2', clientId: 'app-1', hasClientSecret: true });
    expect(JSON.stringify(ok.body)).not.toContain('very-s3cr3t-value');
    const listed = await t.request('GET', '/api/mail-providers?limit=500', { token: user.token });
    expect(JSON.stringify(listed.body)).not.toContain('very-s3cr3t-value');
    // Stored only encrypted, through the SecretStore.
    expect(await t.platform.secrets.get(`mail-provider:${ok.body.id}:client-secret`)).toBe('very-s3cr3t-value');
    const raw = await t.db.db.selectFrom('secrets').select('envelope').execute();
    expect(JSON.stringify(raw)).not.toContain('very-s3cr3t-value');

    // Switching back to basic drops the secret.
    const basic = await t.request('PATCH', `/api/mail-providers/${ok.body.id}`, { ...admin(), body: { authMethod: 'basic' } });
    expect(basic.status).toBe(200);
    expect(basic.body).toMatchObject({ authMethod: 'basic', hasClientSecret: false, clientId: null });
    expect(await t.platform.secrets.get(`mail-provider:${ok.body.id}:client-secret`)).toBeNull();
  });

  it('validates Exchange providers: service address required, load and/or send on', async () => {
    const none = await t.request('POST', '/api/mail-providers', {
      ...admin(),
      body: { name: 'Exch', type: 'exchange', exchange: { serviceAddress: 'mail.corp.example', loadEmails: false, sendEmails: false } },
    });
    expect(none.status).toBe(400);
    expect(none.body.error.details.fields.map((x: any) => x.field)).toContain('exchange.loadEmails');
    const ok = await t.request('POST', '/api/mail-providers', {
      ...admin(),
      body: { name: 'Exch', type: 'exchange', exchange: { serviceAddress: 'https://mail.corp.example/EWS/Exchange.asmx', sendEmails: false } },
    });
    expect(ok.status).toBe(201);
    expect(ok.body).toMatchObject({ type: 'exchange', imap: null, smtp: null, exchange: { serviceAddress: 'https://mail.corp.example/EWS/Exchange.asmx', loadEmails: true, sendEmails: false } });
  });

  it('refuses writes from non-administrators with 403 naming CanManageAdministration', async () => {
    const r = await t.request('POST', '/api/mail-providers', { token: user.token, body: { name: 'Nope', type: 'imap', imap: { host: 'a.example' }, smtp: { host: 'b.example' } } });
    expect(r.status).toBe(403);
    expect(r.body.error).toMatchObject({ code: 'FORBIDDEN', details: { operation: 'CanManageAdministration' } });
  });

  it('answers 409 for a duplicate name', async () => {
    const r = await t.request('POST', '/api/mail-providers', { ...admin(), body: { name: 'Gmail', type: 'imap', imap: { host: 'a.example' }, smtp: { host: 'b.example' } } });
    expect(r.status).toBe(409);
  });

  it('keeps a domain directory and learns nothing by itself (M3)', async () => {
    const list = await t.request('GET', '/api/mail-provider-domains?limit=500', { token: user.token });
    expect(list.status).toBe(200);
    const gmail = list.body.items.find((d: any) => d.domain === 'gmail.com');
    expect(gmail).toMatchObject({ providerName: 'Gmail', source: 'seed' });
    const ya = list.body.items.find((d: any) => d.domain === 'ya.ru');
    expect(ya.providerName).toBe('Yandex Mail');

    const p = (await all(t.adminToken)).find((x) => x.name === 'Fill Co');
    const add = await t.request('POST', '/api/mail-provider-domains', { ...admin(), body: { domain: 'Fill.Example', providerId: p.id } });
    expect(add.status).toBe(201);
    expect(add.body).toMatchObject({ domain: 'fill.example', providerId: p.id, source: 'admin' });
    const again = await t.request('POST', '/api/mail-provider-domains', { ...admin(), body: { domain: 'fill.example', providerId: p.id } });
    expect(again.status).toBe(409);
    const taken = await t.request('POST', '/api/mail-provider-domains', { ...admin(), body: { domain: 'gmail.com', providerId: p.id } });
    expect(taken.status).toBe(409);
    expect(taken.body.error.message).toMatch(/Gmail/);

    const det = await t.request('POST', '/api/mailboxes/detect', { token: user.token, body: { email: 'Someone@FILL.example' } });
    expect(det.status).toBe(200);
    expect(det.body).toMatchObject({ source: 'directory', authMethod: 'basic', domain: 'fill.example' });
    expect(det.body.provider.name).toBe('Fill Co');

    const del = await t.request('DELETE', '/api/mail-provider-domains/fill.example', admin());
    expect(del.status).toBe(204);
    const gone = await t.request('DELETE', '/api/mail-provider-domains/fill.example', admin());
    expect(gone.status).toBe(404);
  });

  it('detects by directory first, then suggests by MX, else says it does not know', async () => {
    const providers = t.modules.mailProviders as MailProvidersService;
    const asked: string[] = [];
    providers.useMxResolver(async (domain) => {
      asked.push(domain);
      if (domain === 'acme-google.example') return [{ exchange: 'alt1.aspmx.l.google.com', priority: 5 }, { exchange: 'aspmx.l.google.com', priority: 1 }];
      if (domain === 'acme-ms.example') return [{ exchange: 'acme-ms-example.mail.protection.outlook.com', priority: 0 }];
      if (domain === 'slow.example') return new Promise(() => {}); // never answers
      throw Object.assign(new Error('no data'), { code: 'ENODATA' });
    });
    const gmail = await t.request('POST', '/api/mailboxes/detect', { token: user.token, body: { email: 'ann@gmail.com' } });
    expect(gmail.body).toMatchObject({ source: 'directory', provider: { key: 'gmail' } });
    expect(asked).toEqual([]); // the directory answered; no DNS asked

    const g = await t.request('POST', '/api/mailboxes/detect', { token: user.token, body: { email: 'bob@acme-google.example' } });
    expect(g.body).toMatchObject({ source: 'mx', provider: { key: 'gmail' }, authMethod: 'basic' });
    const m = await t.request('POST', '/api/mailboxes/detect', { token: user.token, body: { email: 'bob@acme-ms.example' } });
    expect(m.body).toMatchObject({ source: 'mx', provider: { key: 'microsoft365' } });
    const none = await t.request('POST', '/api/mailboxes/detect', { token: user.token, body: { email: 'bob@nomx.example' } });
    expect(none.body).toEqual({ provider: null, authMethod: null, source: null, domain: 'nomx.example' });
    const started = Date.now();
    const slow = await t.request('POST', '/api/mailboxes/detect', { token: user.token, body: { email: 'bob@slow.example' } });
    expect(slow.body.provider).toBeNull();
    expect(Date.now() - started).toBeLessThan(10_000);

    // A suggestion is not learned: the directory still does not know the domain.
    const d = await t.request('GET', '/api/mail-provider-domains?q=acme-google', { token: user.token });
    expect(d.body.items).toEqual([]);
  });

  it('refuses to delete a provider while mailboxes use it, saying how many (M4)', async () => {
    const p = await t.request('POST', '/api/mail-providers', { ...admin(), body: { name: 'Used Co', type: 'imap', imap: { host: 'imap.used.example' }, smtp: { host: 'smtp.used.example' } } });
    const now = nowIso();
    for (const email of ['a@used.example', 'b@used.example']) {
      await t.db.db
        .insertInto('mailboxes')
        .values({
          id: newId(), user_id: user.id, email, login: email, provider_id: p.body.id, kind: 'imap', status: 'active', status_reason: null,
          load_period: 'month', auto_load: 1, all_folders: 0, selected_folders: '["INBOX"]', send_enabled: 1, default_sender: null, alias: null,
          use_signature: 0, signature_html: null, created_at: now, updated_at: now,
        })
        .execute();
    }
    const r = await t.request('DELETE', `/api/mail-providers/${p.body.id}`, admin());
    expect(r.status).toBe(409);
    expect(r.body.error.message).toMatch(/2 mailboxes use it/);
    expect(r.body.error.details.mailboxCount).toBe(2);
    const still = await t.request('GET', `/api/mail-providers/${p.body.id}`, { token: user.token });
    expect(still.body.mailboxCount).toBe(2);

    await t.db.db.deleteFrom('mailboxes').where('provider_id', '=', p.body.id).execute();
    await t.request('POST', '/api/mail-provider-domains', { ...admin(), body: { domain: 'used.example', providerId: p.body.id } });
    const ok = await t.request('DELETE', `/api/mail-providers/${p.body.id}`, admin());
    expect(ok.status).toBe(204);
    expect((await t.request('GET', `/api/mail-providers/${p.body.id}`, admin())).status).toBe(404);
    // Its domains went with it.
    const d = await t.request('GET', '/api/mail-provider-domains?q=used.example', admin());
    expect(d.body.items).toEqual([]);
  });

  it('pages the provider list with a cursor without repeats', async () => {
    const first = await t.request('GET', '/api/mail-providers?limit=3', { token: user.token });
    expect(first.body.items).toHaveLength(3);
    expect(first.body.nextCursor).toBeTruthy();
    const seen = new Set(first.body.items.map((p: any) => p.id));
    let cursor = first.body.nextCursor;
    while (cursor) {
      const page = await t.request('GET', `/api/mail-providers?limit=3&cursor=${cursor}`, { token: user.token });
      for (const p of page.body.items) {
        expect(seen.has(p.id)).toBe(false);
        seen.add(p.id);
      }
      cursor = page.body.nextCursor;
    }
    expect(seen.size).toBe((await all(user.token)).length);
  });
});
