// Body limits: ordinary JSON routes take at most SWITCHBOARD_JSON_BODY_LIMIT (1 MB by default);
// uploads (multipart files, and mail send's inline base64 attachments) keep SWITCHBOARD_BODY_LIMIT.
// An anonymous caller is refused before any body is read.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../helpers/app.js';

const MB = 1024 * 1024;

describe('request body limits', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(async () => {
    await t?.close();
  });

  it('an ordinary JSON route refuses a body over 1 MB with 413 PAYLOAD_TOO_LARGE', async () => {
    const res = await t.request('POST', '/api/roles', { token: t.adminToken, body: { name: 'Big', description: 'x'.repeat(1.5 * MB) } });
    expect(res.status).toBe(413);
    expect(res.body.error.code).toBe('PAYLOAD_TOO_LARGE');
    // Just under the limit is parsed (and then judged by the schema).
    const under = await t.request('POST', '/api/roles', { token: t.adminToken, body: { name: 'Big', description: 'x'.repeat(MB - 100) } });
    expect(under.status).toBe(400);
    expect(under.body.error.code).toBe('VALIDATION_FAILED');
  });

  it('an anonymous caller gets 401, not 413: the body is never read', async () => {
    const res = await t.request('POST', '/api/roles', { body: { name: 'Big', description: 'x'.repeat(5 * MB) } });
    expect(res.status).toBe(401);
  });

  it('a multipart upload route still accepts a 2 MB file', async () => {
    const bytes = Buffer.alloc(2_000_000, 7);
    bytes.write('ID3', 0);
    const form = new FormData();
    form.append('file', new Blob([bytes], { type: 'audio/mpeg' }), 'big-ding.mp3');
    const res = await fetch(`${t.url}/api/system-settings/OmniChatNotificationSound/file`, { method: 'PUT', headers: { authorization: `Bearer ${t.adminToken}` }, body: form });
    expect(res.status).toBe(200);
    expect(((await res.json()) as any).value).toMatchObject({ fileName: 'big-ding.mp3', size: 2_000_000 });
  });

  it('mail send takes attachments inline as base64, so its JSON body may exceed 1 MB', async () => {
    const res = await t.request('POST', '/api/emails/send', {
      token: t.adminToken,
      body: { mailboxId: '00000000-0000-4000-8000-000000000000', to: ['bob@example.test'], subject: 'x', attachments: [{ filename: 'a.bin', contentBase64: 'A'.repeat(3 * MB) }] },
    });
    // Parsed and checked: the mailbox does not exist. Not a 413.
    expect(res.status).not.toBe(413);
    expect(res.status).toBeLessThan(500);
  });
});
