// P3 system settings registry: every code with its default, typed validation, per-user values,
// secrets write-only and encrypted at rest, the notification sound file.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { dialects } from '../helpers/db.js';

const DIALECTS = await dialects();

describe.each(DIALECTS)('system settings on %s', (dialect) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ dialect, env: { SITE_URL: 'https://crm.example.test' } });
  });
  afterAll(async () => {
    await t?.close();
  });

  it('lists every required code with its default', async () => {
    const r = await t.request('GET', '/api/system-settings', { token: t.adminToken });
    expect(r.status).toBe(200);
    const byCode = Object.fromEntries(r.body.items.map((s: any) => [s.code, s]));
    expect(byCode.MailboxSyncInterval.value).toBe(5);
    expect(byCode.OmniChatOperatorAcceptChatTimeout.value).toBe(5);
    expect(byCode.SimultaneousChats.value).toBe(2);
    expect(byCode.OmniChatNotificationSound.value).toBeNull();
    expect(byCode.SiteUrl.value).toBe('https://crm.example.test');
    expect(byCode.UseSharedGoogleApp.value).toBe(false);
    for (const code of ['GoogleClientId', 'GoogleClientSecret', 'IdentityServerUrl', 'IdentityServerClientId', 'IdentityServerClientSecret']) {
      expect(byCode[code]).toBeDefined();
    }
  });

  it('validates types and ranges with the failing field', async () => {
    const cases: [string, unknown][] = [
      ['MailboxSyncInterval', 'five'],
      ['MailboxSyncInterval', 0],
      ['SimultaneousChats', 1.5],
      ['UseSharedGoogleApp', 'yes'],
      ['SiteUrl', 'not a url'],
      ['SiteUrl', 'ftp://x.example'],
    ];
    for (const [code, value] of cases) {
      const r = await t.request('PUT', `/api/system-settings/${code}`, { token: t.adminToken, body: { value } });
      expect(r.status, `${code}=${JSON.stringify(value)}`).toBe(400);
      expect(r.body.error.code).toBe('VALIDATION_FAILED');
    }
    expect((await t.request('PUT', '/api/system-settings/NoSuchSetting', { token: t.adminToken, body: { value: 1 } })).status).toBe(404);
  });

  it('stores values, resets to default with null, and serves per-user values', async () => {
    const set = await t.request('PUT', '/api/system-settings/SimultaneousChats', { token: t.adminToken, body: { value: 3 } });
    expect(set.status).toBe(200);
    expect(set.body).toMatchObject({ value: 3, isDefault: false });
    const op = await t.createUser();
    await t.request('PUT', '/api/system-settings/SimultaneousChats', { token: t.adminToken, body: { value: 5, userId: op.id } });
    expect(await t.modules.settings.get('SimultaneousChats', op.id)).toBe(5);
    expect(await t.modules.settings.get('SimultaneousChats')).toBe(3);
    const notPerUser = await t.request('PUT', '/api/system-settings/MailboxSyncInterval', { token: t.adminToken, body: { value: 5, userId: op.id } });
    expect(notPerUser.status).toBe(400);
    await t.request('PUT', '/api/system-settings/SimultaneousChats', { token: t.adminToken, body: { value: null } });
    expect(await t.modules.settings.get('SimultaneousChats')).toBe(2);
    expect(await t.modules.settings.get('SimultaneousChats', op.id)).toBe(5);
  });

  it('keeps secrets write-only and encrypted at rest', async () => {
    const secret = 'GOCSPX-super-secret-value';
    const r = await t.request('PUT', '/api/system-settings/GoogleClientSecret', { token: t.adminToken, body: { value: secret } });
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ hasValue: true, value: null });
    const all = await t.request('GET', '/api/system-settings', { token: t.adminToken });
    expect(JSON.stringify(all.body)).not.toContain(secret);
    expect(JSON.stringify((await t.request('GET', '/api/system-settings/GoogleClientSecret', { token: t.adminToken })).body)).not.toContain(secret);
    const rows = await t.db.db.selectFrom('secrets').select(['ref', 'envelope']).execute();
    const row = rows.find((x) => x.ref === 'setting:GoogleClientSecret')!;
    expect(row.envelope.startsWith('sb1.')).toBe(true);
    expect(row.envelope).not.toContain(secret);
    expect(await t.modules.settings.getSecret('GoogleClientSecret')).toBe(secret);
    const sys = await t.db.db.selectFrom('system_settings').select('value').execute();
    expect(JSON.stringify(sys)).not.toContain(secret);
  });

  it('lets operators read client-visible settings but not secrets or admin-only ones', async () => {
    const u = await t.createUser();
    const list = await t.request('GET', '/api/system-settings', { token: u.token });
    expect(list.status).toBe(200);
    const codes = list.body.items.map((s: any) => s.code);
    expect(codes).toContain('OmniChatNotificationSound');
    expect(codes).not.toContain('GoogleClientSecret');
    expect((await t.request('GET', '/api/system-settings/GoogleClientId', { token: u.token })).status).toBe(403);
  });

  it('serves the built-in sound, accepts an uploaded one, and clears back to built-in', async () => {
    const u = await t.createUser();
    const builtin = await fetch(`${t.url}/api/system-settings/OmniChatNotificationSound/file`, { headers: { authorization: `Bearer ${u.token}` } });
    expect(builtin.status).toBe(200);
    expect(builtin.headers.get('content-type')).toBe('audio/wav');
    const wav = Buffer.from(await builtin.arrayBuffer());
    expect(wav.subarray(0, 4).toString()).toBe('RIFF');

    const form = new FormData();
    form.append('file', new Blob([Buffer.from('ID3fake-mp3-bytes')], { type: 'audio/mpeg' }), 'ding.mp3');
    const up = await fetch(`${t.url}/api/system-settings/OmniChatNotificationSound/file`, { method: 'PUT', headers: { authorization: `Bearer ${t.adminToken}` }, body: form });
    expect(up.status).toBe(200);
    expect(((await up.json()) as any).value).toMatchObject({ fileName: 'ding.mp3', contentType: 'audio/mpeg' });
    const got = await fetch(`${t.url}/api/system-settings/OmniChatNotificationSound/file`, { headers: { authorization: `Bearer ${u.token}` } });
    expect(got.headers.get('content-type')).toBe('audio/mpeg');
    expect(Buffer.from(await got.arrayBuffer()).toString()).toBe('ID3fake-mp3-bytes');

    const notAudio = new FormData();
    notAudio.append('file', new Blob(['<script>'], { type: 'text/html' }), 'x.html');
    const bad = await fetch(`${t.url}/api/system-settings/OmniChatNotificationSound/file`, { method: 'PUT', headers: { authorization: `Bearer ${t.adminToken}` }, body: notAudio });
    expect(bad.status).toBe(400);

    await t.request('PUT', '/api/system-settings/OmniChatNotificationSound', { token: t.adminToken, body: { value: null } });
    const back = await fetch(`${t.url}/api/system-settings/OmniChatNotificationSound/file`, { headers: { authorization: `Bearer ${u.token}` } });
    expect(back.headers.get('content-type')).toBe('audio/wav');
  });
});
