// Conformance of the Telegram emulator with the Bot API wire facts (protocol note): spoken to with
// raw HTTP, not through our connector, so the connector tests cannot hide emulator mistakes.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startTelegramEmulator, type TelegramEmulator, type TgMessage, type TgUpdate } from '../../src/emulators/telegram/index.js';
import { startWebhookReceiver, type WebhookReceiver } from './telegram-receiver.js';

type Mode = 'json' | 'form' | 'query' | 'get';
interface ApiAnswer {
  status: number;
  headers: Headers;
  body: { ok: boolean; result?: any; error_code?: number; description?: string; parameters?: { retry_after?: number } };
}

let tg: TelegramEmulator;
let receiver: WebhookReceiver;

async function api(token: string, method: string, params: Record<string, unknown> = {}, mode: Mode = 'json'): Promise<ApiAnswer> {
  const base = `${tg.url}/bot${token}/${method}`;
  let res: Response;
  if (mode === 'json') {
    res = await fetch(base, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(params) });
  } else {
    const qs = new URLSearchParams(Object.entries(params).map(([k, v]) => [k, typeof v === 'string' ? v : JSON.stringify(v)]));
    if (mode === 'form') {
      res = await fetch(base, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: qs.toString() });
    } else {
      res = await fetch(`${base}?${qs}`, { method: mode === 'get' ? 'GET' : 'POST' });
    }
  }
  return { status: res.status, headers: res.headers, body: (await res.json()) as ApiAnswer['body'] };
}

async function multipart(token: string, method: string, form: FormData): Promise<ApiAnswer> {
  const res = await fetch(`${tg.url}/bot${token}/${method}`, { method: 'POST', body: form });
  return { status: res.status, headers: res.headers, body: (await res.json()) as ApiAnswer['body'] };
}

const ann = { id: 1111111, first_name: 'Ann', last_name: 'Lee', username: 'ann', language_code: 'en' };
const bob = { id: 2222222, first_name: 'Bob' };

function png(width: number, height: number): Buffer {
  const b = Buffer.alloc(64, 7);
  b.writeUInt32BE(0x89504e47, 0);
  b.writeUInt32BE(0x0d0a1a0a, 4);
  b.writeUInt32BE(13, 8);
  b.write('IHDR', 12, 'latin1');
  b.writeUInt32BE(width, 16);
  b.writeUInt32BE(height, 20);
  return b;
}

function newBot(name = 'test_bot'): string {
  return tg.createBot({ username: name, firstName: 'Test' }).token;
}

beforeAll(async () => {
  tg = await startTelegramEmulator({ port: 0 });
  receiver = await startWebhookReceiver();
});
afterAll(async () => {
  await tg?.close();
  await receiver?.close();
});
afterEach(() => {
  receiver.requests.length = 0;
  receiver.respond = () => ({ status: 200 });
});

describe('transport and auth', () => {
  it('answers getMe with the bot user, method names case-insensitive, GET and POST', async () => {
    const { token, id } = tg.createBot({ username: 'acme_bot', firstName: 'Acme' });
    for (const [method, mode] of [['getMe', 'json'], ['GETME', 'get'], ['getme', 'form']] as const) {
      const r = await api(token, method, {}, mode);
      expect(r.status).toBe(200);
      expect(r.body).toMatchObject({ ok: true, result: { id, is_bot: true, first_name: 'Acme', username: 'acme_bot' } });
    }
  });

  it('answers 401 Unauthorized for an unknown token on every method, and for a revoked one', async () => {
    const token = newBot();
    for (const method of ['getMe', 'getUpdates', 'sendMessage', 'setWebhook', 'getWebhookInfo', 'getFile', 'noSuchMethod']) {
      const r = await api('123456:NOT-A-REAL-TOKEN', method, { chat_id: 1, text: 'x' });
      expect(r.status).toBe(401);
      expect(r.body).toEqual({ ok: false, error_code: 401, description: 'Unauthorized' });
    }
    const fresh = tg.revokeToken(token);
    expect((await api(token, 'getMe')).status).toBe(401);
    expect((await api(fresh, 'getMe')).status).toBe(200);
    const dl = await fetch(`${tg.url}/file/bot${token}/documents/file_1.pdf`);
    expect(dl.status).toBe(401);
  });

  it('answers 404 for an unknown method with a valid token', async () => {
    const r = await api(newBot(), 'sendTelepathy');
    expect(r.status).toBe(404);
    expect(r.body.ok).toBe(false);
    expect(r.body.error_code).toBe(404);
  });

  it('accepts parameters as query string, form, JSON and multipart', async () => {
    const token = newBot();
    await tg.customerSends(token, { from: ann, text: 'hi' });
    for (const mode of ['json', 'form', 'query', 'get'] as const) {
      const r = await api(token, 'sendMessage', { chat_id: ann.id, text: `via ${mode}` }, mode);
      expect(r.status, mode).toBe(200);
      expect(r.body.result.text).toBe(`via ${mode}`);
    }
    const form = new FormData();
    form.set('chat_id', String(ann.id));
    form.set('text', 'via multipart');
    expect((await multipart(token, 'sendMessage', form)).body.result.text).toBe('via multipart');
  });

  it('answers junk with envelopes, never a 500', async () => {
    const token = newBot();
    const badMultipart = await fetch(`${tg.url}/bot${token}/sendMessage`, {
      method: 'POST',
      headers: { 'content-type': 'multipart/form-data; boundary=nope' },
      body: 'this is not multipart',
    });
    expect(badMultipart.status).toBe(400);
    for (const path of ['/bot/getMe', '/nothing/here', `/file/bot${token}/`, '/_emulator/nope']) {
      const res = await fetch(`${tg.url}${path}`);
      expect(res.status, path).toBe(404);
    }
    const wrongTypes = await api(token, 'getUpdates', { offset: 'abc', limit: { x: 1 } });
    expect(wrongTypes.status).toBe(400);
    const arrayBody = await fetch(`${tg.url}/bot${token}/getMe`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '[1,2]' });
    expect(arrayBody.status).toBe(400);
  });

  it('rejects malformed JSON with 400, not 500', async () => {
    const token = newBot();
    const res = await fetch(`${tg.url}/bot${token}/sendMessage`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"chat_id":' });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { ok: boolean }).ok).toBe(false);
  });
});

describe('getUpdates', () => {
  it('queues updates with increasing update_id and confirms them by offset', async () => {
    const token = newBot();
    const u1 = await tg.customerSends(token, { from: ann, text: 'one' });
    const u2 = await tg.customerSends(token, { from: ann, text: 'two' });
    const u3 = await tg.customerSends(token, { from: bob, text: 'three' });
    expect(u2.update_id).toBe(u1.update_id + 1);
    expect(u3.update_id).toBe(u2.update_id + 1);

    let r = await api(token, 'getUpdates');
    expect(r.body.result.map((u: TgUpdate) => u.message?.text)).toEqual(['one', 'two', 'three']);
    // Not confirmed yet: the same updates come again.
    r = await api(token, 'getUpdates', { limit: 2 });
    expect(r.body.result.map((u: TgUpdate) => u.update_id)).toEqual([u1.update_id, u2.update_id]);
    // offset = last + 1 confirms everything before it.
    r = await api(token, 'getUpdates', { offset: u2.update_id + 1 }, 'query');
    expect(r.body.result.map((u: TgUpdate) => u.update_id)).toEqual([u3.update_id]);
    r = await api(token, 'getUpdates', { offset: u1.update_id }, 'form');
    expect(r.body.result.map((u: TgUpdate) => u.update_id)).toEqual([u3.update_id]); // confirmed ones do not come back
    r = await api(token, 'getUpdates', { offset: u3.update_id + 1 });
    expect(r.body.result).toEqual([]);
    expect(tg.webhookInfo(token).pending_update_count).toBe(0);
  });

  it('takes from the end of the queue with a negative offset', async () => {
    const token = newBot();
    for (const t of ['a', 'b', 'c', 'd']) await tg.customerSends(token, { from: ann, text: t });
    const r = await api(token, 'getUpdates', { offset: -2 });
    expect(r.body.result.map((u: TgUpdate) => u.message?.text)).toEqual(['c', 'd']);
    expect((await api(token, 'getUpdates')).body.result).toHaveLength(2);
  });

  it('holds a long poll and returns early when an update arrives', async () => {
    const token = newBot();
    const started = Date.now();
    const poll = api(token, 'getUpdates', { timeout: 20 });
    await new Promise((r) => setTimeout(r, 300));
    await tg.customerSends(token, { from: ann, text: 'wake up' });
    const r = await poll;
    const elapsed = Date.now() - started;
    expect(r.body.result.map((u: TgUpdate) => u.message?.text)).toEqual(['wake up']);
    expect(elapsed).toBeGreaterThanOrEqual(250);
    expect(elapsed).toBeLessThan(10_000);
  });

  it('returns [] when the long-poll timeout passes without updates', async () => {
    const token = newBot();
    const started = Date.now();
    const r = await api(token, 'getUpdates', { timeout: 1 });
    expect(r.body).toEqual({ ok: true, result: [] });
    expect(Date.now() - started).toBeGreaterThanOrEqual(900);
  });

  it('terminates the older of two concurrent polls with 409', async () => {
    const token = newBot();
    const older = api(token, 'getUpdates', { timeout: 20 });
    await new Promise((r) => setTimeout(r, 200));
    const newer = api(token, 'getUpdates', { timeout: 20 });
    const o = await older;
    expect(o.status).toBe(409);
    expect(o.body.description).toMatch(/terminated by other getUpdates request/);
    await tg.customerSends(token, { from: ann, text: 'for the newer one' });
    const n = await newer;
    expect(n.status).toBe(200);
    expect(n.body.result[0].message.text).toBe('for the newer one');
  });

  it('refuses getUpdates with 409 while a webhook is set', async () => {
    const token = newBot();
    expect((await api(token, 'setWebhook', { url: `${receiver.url}/hook` })).body.result).toBe(true);
    const r = await api(token, 'getUpdates');
    expect(r.status).toBe(409);
    expect(r.body.description).toMatch(/webhook is active/);
    await api(token, 'deleteWebhook');
    expect((await api(token, 'getUpdates')).status).toBe(200);
  });

  it('answers a held poll with 409 when a webhook is set meanwhile', async () => {
    const token = newBot();
    const poll = api(token, 'getUpdates', { timeout: 20 });
    await new Promise((r) => setTimeout(r, 200));
    await api(token, 'setWebhook', { url: `${receiver.url}/hook` });
    expect((await poll).status).toBe(409);
  });
});

describe('webhooks', () => {
  it('validates secret_token, max_connections and the URL', async () => {
    const token = newBot();
    for (const secret of ['has space', 'a'.repeat(257), 'semi;colon', 'ünï']) {
      const r = await api(token, 'setWebhook', { url: `${receiver.url}/hook`, secret_token: secret });
      expect(r.status, secret).toBe(400);
    }
    expect((await api(token, 'setWebhook', { url: `${receiver.url}/hook`, secret_token: 'A-z_09'.repeat(40) })).status).toBe(200);
    expect((await api(token, 'setWebhook', { url: `${receiver.url}/hook`, max_connections: 0 })).status).toBe(400);
    expect((await api(token, 'setWebhook', { url: 'not a url' })).status).toBe(400);
    expect((await api(token, 'setWebhook', { url: 'ftp://example.com/hook' })).status).toBe(400);
    // Non-strict by default: plain http on any port is fine (the emulator and the tests run locally).
    expect((await api(token, 'setWebhook', { url: 'http://127.0.0.1:5999/hook' })).status).toBe(200);
    // url "" removes the webhook.
    expect((await api(token, 'setWebhook', { url: '' })).status).toBe(200);
    expect(tg.webhookInfo(token).url).toBe('');
  });

  it('enforces HTTPS and ports 443/80/88/8443 with strictWebhookUrls', async () => {
    const strict = await startTelegramEmulator({ strictWebhookUrls: true });
    try {
      const { token } = strict.createBot({ username: 'strict_bot' });
      const set = async (url: string) => {
        const res = await fetch(`${strict.url}/bot${token}/setWebhook`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ url }),
        });
        return res.status;
      };
      expect(await set('http://example.com/hook')).toBe(400);
      expect(await set('https://example.com:1234/hook')).toBe(400);
      expect(await set('https://example.com:8443/hook')).toBe(200);
      expect(await set('https://example.com/hook')).toBe(200);
    } finally {
      await strict.close();
    }
  });

  it('reports webhook state in getWebhookInfo and drops pending updates on request', async () => {
    const token = newBot();
    await tg.customerSends(token, { from: ann, text: 'queued 1' });
    await tg.customerSends(token, { from: ann, text: 'queued 2' });
    let info = (await api(token, 'getWebhookInfo')).body.result;
    expect(info).toMatchObject({ url: '', has_custom_certificate: false, pending_update_count: 2 });
    receiver.respond = () => ({ status: 500 });
    await api(token, 'setWebhook', { url: `${receiver.url}/drop`, drop_pending_updates: true, max_connections: 5 });
    info = (await api(token, 'getWebhookInfo')).body.result;
    expect(info).toMatchObject({ url: `${receiver.url}/drop`, pending_update_count: 0, max_connections: 5 });
    await tg.customerSends(token, { from: ann, text: 'will fail' });
    info = (await api(token, 'getWebhookInfo')).body.result;
    expect(info.pending_update_count).toBe(1);
    expect(info.last_error_message).toMatch(/500/);
    expect(typeof info.last_error_date).toBe('number');
    expect(Math.abs(info.last_error_date - Date.now() / 1000)).toBeLessThan(60);
    await api(token, 'deleteWebhook', { drop_pending_updates: true });
    info = (await api(token, 'getWebhookInfo')).body.result;
    expect(info).toMatchObject({ url: '', pending_update_count: 0 });
  });

  it('POSTs each update with the secret header, in order', async () => {
    const token = newBot();
    await api(token, 'setWebhook', { url: `${receiver.url}/hook`, secret_token: 's3cret_T-1' });
    const sent: TgUpdate[] = [];
    for (const t of ['first', 'second', 'third']) sent.push(await tg.customerSends(token, { from: ann, text: t }));
    const reqs = await receiver.waitFor(3);
    expect(reqs.map((r) => r.method)).toEqual(['POST', 'POST', 'POST']);
    expect(reqs.map((r) => r.path)).toEqual(['/hook', '/hook', '/hook']);
    expect(reqs.map((r) => r.headers['x-telegram-bot-api-secret-token'])).toEqual(['s3cret_T-1', 's3cret_T-1', 's3cret_T-1']);
    expect(reqs.map((r) => r.headers['content-type'])).toEqual(Array(3).fill('application/json'));
    expect(reqs.map((r) => r.body)).toEqual(sent);
    expect(tg.webhookInfo(token).pending_update_count).toBe(0);
  });

  it('retries a failing delivery with backoff, keeps order, then succeeds', async () => {
    const token = newBot();
    // Fail the first two attempts, then accept.
    receiver.respond = (_req, i) => ({ status: i < 2 ? 503 : 200 });
    await api(token, 'setWebhook', { url: `${receiver.url}/flaky` });
    const u1 = await tg.customerSends(token, { from: ann, text: 'A' });
    const u2 = await tg.customerSends(token, { from: ann, text: 'B' });
    const reqs = await receiver.waitFor(4);
    const ids = reqs.map((r) => (r.body as TgUpdate).update_id);
    expect(ids).toEqual([u1.update_id, u1.update_id, u1.update_id, u2.update_id]);
    await expect.poll(() => tg.webhookInfo(token).pending_update_count, { timeout: 5000 }).toBe(0);
    expect(tg.webhookInfo(token).last_error_message).toMatch(/503/);
  });

  it('delivers different chats in parallel (up to max_connections) but each chat strictly in order', async () => {
    const token = newBot();
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    // Ann's first update hangs until released; everything else is answered at once.
    receiver.respond = async (req) => {
      if ((req.body as TgUpdate).message?.text === 'ann 1') await gate;
      return { status: 200 };
    };
    await api(token, 'setWebhook', { url: `${receiver.url}/parallel`, max_connections: 10 });
    const pending = [
      tg.customerSends(token, { from: ann, text: 'ann 1' }),
      tg.customerSends(token, { from: ann, text: 'ann 2' }),
      tg.customerSends(token, { from: bob, text: 'bob 1' }),
      tg.customerSends(token, { from: bob, text: 'bob 2' }),
    ];
    const texts = () => receiver.requests.map((r) => (r.body as TgUpdate).message?.text);
    // Bob is not held up by Ann's slow delivery; Ann's second update waits behind her first.
    await expect.poll(texts, { timeout: 5000 }).toEqual(['ann 1', 'bob 1', 'bob 2']);
    expect(tg.webhookInfo(token).pending_update_count).toBe(2);
    release();
    await Promise.all(pending);
    await expect.poll(texts, { timeout: 5000 }).toEqual(['ann 1', 'bob 1', 'bob 2', 'ann 2']);
    await expect.poll(() => tg.webhookInfo(token).pending_update_count, { timeout: 5000 }).toBe(0);
  });

  it('delivers one at a time with max_connections 1', async () => {
    const token = newBot();
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    receiver.respond = async (req) => {
      if ((req.body as TgUpdate).message?.text === 'ann 1') await gate;
      return { status: 200 };
    };
    await api(token, 'setWebhook', { url: `${receiver.url}/serial`, max_connections: 1 });
    const pending = [
      tg.customerSends(token, { from: ann, text: 'ann 1' }),
      tg.customerSends(token, { from: bob, text: 'bob 1' }),
    ];
    await receiver.waitFor(1);
    await new Promise((r) => setTimeout(r, 200));
    expect(receiver.requests).toHaveLength(1);
    release();
    await Promise.all(pending);
    await receiver.waitFor(2);
    expect(receiver.requests.map((r) => (r.body as TgUpdate).message?.text)).toEqual(['ann 1', 'bob 1']);
  });

  it('keeps updates pending after retries run out, and delivers them once the endpoint recovers', async () => {
    const fast = await startTelegramEmulator({ webhookRetryDelaysMs: [50, 50] });
    try {
      const { token } = fast.createBot({ username: 'retry_bot' });
      receiver.respond = () => ({ status: 500 });
      await fetch(`${fast.url}/bot${token}/setWebhook?url=${encodeURIComponent(`${receiver.url}/down`)}`);
      await fast.customerSends(token, { from: ann, text: 'lost?' });
      await receiver.waitFor(3); // first try + 2 retries
      await new Promise((r) => setTimeout(r, 300));
      expect(receiver.requests).toHaveLength(3);
      expect(fast.webhookInfo(token).pending_update_count).toBe(1);
      receiver.respond = () => ({ status: 200 });
      await fast.customerSends(token, { from: ann, text: 'next' });
      const reqs = await receiver.waitFor(5);
      expect(reqs.slice(3).map((r) => (r.body as TgUpdate).message?.text)).toEqual(['lost?', 'next']);
      expect(fast.webhookInfo(token).pending_update_count).toBe(0);
    } finally {
      await fast.close();
    }
  });

  it('records connection errors in last_error_message', async () => {
    const token = newBot();
    const dead = await startWebhookReceiver();
    const url = `${dead.url}/gone`;
    await dead.close();
    await api(token, 'setWebhook', { url });
    await tg.customerSends(token, { from: ann, text: 'nobody home' });
    const info = tg.webhookInfo(token);
    expect(info.pending_update_count).toBe(1);
    expect(info.last_error_message).toMatch(/Connection refused|Connection failed/);
    await api(token, 'deleteWebhook', { drop_pending_updates: true });
  });

  it('routeOrigin delivers a public webhook URL to another origin (the emulator\'s DNS); calls() logs every call', async () => {
    const token = newBot();
    const site = 'https://crm.example.com';
    tg.routeOrigin(site, receiver.url);
    await api(token, 'setWebhook', { url: `${site}/hook?x=1` });
    await tg.customerSends(token, { from: ann, text: 'via the map' });
    expect(receiver.requests.map((r) => r.path)).toEqual(['/hook?x=1']);
    // Pointing the name at a closed port: Telegram cannot reach the server.
    tg.routeOrigin(site, 'http://127.0.0.1:9');
    await tg.customerSends(token, { from: ann, text: 'unreachable' });
    expect(tg.webhookInfo(token)).toMatchObject({ url: `${site}/hook?x=1`, pending_update_count: 1, last_error_message: 'Connection refused' });
    tg.routeOrigin(site, null);
    await api(token, 'deleteWebhook', { drop_pending_updates: true });
    expect(tg.calls(token).map((c) => [c.method, c.status])).toEqual([['setwebhook', 200], ['deletewebhook', 200]]);
    await api(`${token}x`, 'getMe');
    expect(tg.calls(`${token}x`).map((c) => [c.method, c.status])).toEqual([['getme', 401]]);
  });

  it('holdMethod makes the next calls of a method wait until released', async () => {
    const token = newBot();
    const hold = tg.holdMethod(token, 'getMe');
    let done = false;
    const call = api(token, 'getMe').then((r) => ((done = true), r));
    await new Promise((r) => setTimeout(r, 100));
    expect(hold.waiting()).toBe(1);
    expect(done).toBe(false);
    hold.release();
    expect((await call).body.ok).toBe(true);
    expect((await api(token, 'getMe')).body.ok).toBe(true);
  });

  it('pushRaw delivers with a wrong or missing secret so the bot side can reject it', async () => {
    const token = newBot();
    await api(token, 'setWebhook', { url: `${receiver.url}/guarded`, secret_token: 'right' });
    receiver.respond = (req) => ({ status: req.headers['x-telegram-bot-api-secret-token'] === 'right' ? 200 : 401 });
    const fake = { update_id: 1, message: { message_id: 1, date: 0, chat: { id: 1, type: 'private' }, text: 'x' } };
    expect(await tg.pushRaw(token, fake, { secret: 'wrong' })).toMatchObject({ ok: false, status: 401 });
    expect(await tg.pushRaw(token, fake, { secret: null })).toMatchObject({ ok: false, status: 401 });
    expect(await tg.pushRaw(token, fake)).toMatchObject({ ok: true, status: 200 });
    expect(receiver.requests.map((r) => r.headers['x-telegram-bot-api-secret-token'])).toEqual(['wrong', undefined, 'right']);
    // pushRaw does not touch the queue.
    expect(tg.webhookInfo(token).pending_update_count).toBe(0);
  });

  it('executes a method call returned in the webhook answer', async () => {
    const token = newBot();
    receiver.respond = (req) => ({
      status: 200,
      body: { method: 'sendMessage', chat_id: (req.body as TgUpdate).message?.chat.id, text: 'auto-reply' },
    });
    await api(token, 'setWebhook', { url: `${receiver.url}/reply` });
    await tg.customerSends(token, { from: ann, text: 'hello?' });
    const m = await tg.waitForSent(token, (x) => x.text === 'auto-reply', 5000);
    expect(m.chat.id).toBe(ann.id);
  });
});

describe('sending', () => {
  it('returns Messages with new message_ids and correct shapes', async () => {
    const { token, id } = tg.createBot({ username: 'shape_bot', firstName: 'Shape' });
    const incoming = await tg.customerSends(token, { from: ann, text: 'hi' });
    expect(incoming.message).toMatchObject({
      message_id: expect.any(Number),
      from: { id: ann.id, is_bot: false, first_name: 'Ann', last_name: 'Lee', username: 'ann', language_code: 'en' },
      chat: { id: ann.id, type: 'private', first_name: 'Ann', last_name: 'Lee', username: 'ann' },
      text: 'hi',
    });
    expect(Math.abs(incoming.message!.date - Date.now() / 1000)).toBeLessThan(60);
    const a = (await api(token, 'sendMessage', { chat_id: ann.id, text: 'one' })).body.result as TgMessage;
    const b = (await api(token, 'sendMessage', { chat_id: String(ann.id), text: 'two' })).body.result as TgMessage;
    expect(a).toMatchObject({ from: { id, is_bot: true, username: 'shape_bot' }, chat: { id: ann.id, type: 'private' }, text: 'one' });
    expect(b.message_id).toBeGreaterThan(a.message_id);
    expect(a.message_id).toBeGreaterThan(incoming.message!.message_id);
    expect(tg.sentMessages(token, ann.id).map((m) => m.text)).toEqual(['one', 'two']);
    expect(await tg.waitForSent(token, (m) => m.text === 'two', 100)).toEqual(b);
    await expect(tg.waitForSent(token, (m) => m.text === 'never', 100)).rejects.toThrow(/waitForSent/);
  });

  it('validates text length 1–4096 and the chat', async () => {
    const token = newBot();
    await tg.customerSends(token, { from: ann, text: 'hi' });
    expect((await api(token, 'sendMessage', { chat_id: ann.id, text: '' })).status).toBe(400);
    expect((await api(token, 'sendMessage', { chat_id: ann.id })).status).toBe(400);
    expect((await api(token, 'sendMessage', { chat_id: ann.id, text: 'x'.repeat(4096) })).status).toBe(200);
    const long = await api(token, 'sendMessage', { chat_id: ann.id, text: 'x'.repeat(4097) });
    expect(long.status).toBe(400);
    expect(long.body).toMatchObject({ ok: false, error_code: 400 });
    expect((await api(token, 'sendMessage', { chat_id: 999, text: 'who?' })).body).toMatchObject({ error_code: 400, description: 'Bad Request: chat not found' });
    expect((await api(token, 'sendMessage', { text: 'no chat' })).status).toBe(400);
  });

  it('answers 429 with retry_after and Retry-After when injected, per method and chat', async () => {
    const token = newBot();
    await tg.customerSends(token, { from: ann, text: 'hi' });
    await tg.customerSends(token, { from: bob, text: 'hi' });
    tg.inject429(token, { method: 'sendMessage', chatId: ann.id, retryAfter: 7, times: 2 });
    // Another chat and another method are not limited.
    expect((await api(token, 'sendMessage', { chat_id: bob.id, text: 'ok' })).status).toBe(200);
    expect((await api(token, 'getMe')).status).toBe(200);
    for (let i = 0; i < 2; i += 1) {
      const r = await api(token, 'SendMessage', { chat_id: ann.id, text: 'too fast' });
      expect(r.status).toBe(429);
      expect(r.body).toEqual({ ok: false, error_code: 429, description: 'Too Many Requests: retry after 7', parameters: { retry_after: 7 } });
      expect(r.headers.get('retry-after')).toBe('7');
    }
    expect((await api(token, 'sendMessage', { chat_id: ann.id, text: 'now fine' })).status).toBe(200);
    // Global rule: any method.
    tg.inject429(token, { retryAfter: 3, times: 1 });
    expect((await api(token, 'getUpdates')).body.parameters).toEqual({ retry_after: 3 });
    expect((await api(token, 'getUpdates')).status).toBe(200);
  });

  it('applies Telegram-like flood control when enabled', async () => {
    const limited = await startTelegramEmulator({ floodControl: { perChatPerSecond: 2, perBotPerSecond: 3 } });
    try {
      const { token } = limited.createBot({ username: 'flood_bot' });
      await limited.customerSends(token, { from: ann, text: 'hi' });
      await limited.customerSends(token, { from: bob, text: 'hi' });
      const send = async (chat: number) => {
        const res = await fetch(`${limited.url}/bot${token}/sendMessage`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ chat_id: chat, text: 'x' }),
        });
        return { status: res.status, body: (await res.json()) as ApiAnswer['body'] };
      };
      // Sent at once (well within one second): the bot may send 3 in total, at most 2 to Ann.
      const chats = [ann.id, ann.id, ann.id, bob.id, bob.id];
      const results = await Promise.all(chats.map((c) => send(c)));
      const ok = chats.filter((_, i) => results[i].status === 200);
      expect(results.filter((r) => r.status === 429)).toHaveLength(2);
      expect(ok).toHaveLength(3);
      expect(ok.filter((c) => c === ann.id).length).toBeLessThanOrEqual(2);
      for (const r of results.filter((x) => x.status === 429)) expect(r.body.parameters?.retry_after).toBeGreaterThanOrEqual(1);
      await new Promise((r) => setTimeout(r, 1100));
      expect((await send(ann.id)).status).toBe(200);
    } finally {
      await limited.close();
    }
  });

  it('queues a my_chat_member "kicked" update when a blocking user is set to notify', async () => {
    const token = newBot();
    const hi = await tg.customerSends(token, { from: ann, text: 'hi' });
    await api(token, 'getUpdates', { offset: hi.update_id + 1 });
    tg.blockByUser(token, ann.id, { notify: true });
    const updates = (await api(token, 'getUpdates')).body.result as TgUpdate[];
    expect(updates).toHaveLength(1);
    expect(updates[0]).toMatchObject({
      my_chat_member: { chat: { id: ann.id }, from: { id: ann.id }, new_chat_member: { status: 'kicked', user: { is_bot: true } } },
    });
  });

  it('answers 403 when the user blocked the bot, until they write again', async () => {
    const token = newBot();
    await tg.customerSends(token, { from: ann, text: 'hi' });
    tg.blockByUser(token, ann.id);
    const r = await api(token, 'sendMessage', { chat_id: ann.id, text: 'still there?' });
    expect(r.status).toBe(403);
    expect(r.body).toEqual({ ok: false, error_code: 403, description: 'Forbidden: bot was blocked by the user' });
    const form = new FormData();
    form.set('chat_id', String(ann.id));
    form.set('document', new Blob([Buffer.from('x')]), 'x.txt');
    expect((await multipart(token, 'sendDocument', form)).status).toBe(403);
    await tg.customerSends(token, { from: ann, text: 'I am back' });
    expect((await api(token, 'sendMessage', { chat_id: ann.id, text: 'welcome back' })).status).toBe(200);
  });
});

describe('files', () => {
  it('uploads a document by multipart, then getFile + download returns the same bytes', async () => {
    const token = newBot();
    await tg.customerSends(token, { from: ann, text: 'send me the invoice' });
    const bytes = Buffer.from('%PDF-1.4 invoice bytes \u0000\u0001\u00ff', 'latin1');
    const form = new FormData();
    form.set('chat_id', String(ann.id));
    form.set('caption', 'Your invoice');
    form.set('document', new Blob([bytes], { type: 'application/pdf' }), 'invoice.pdf');
    const sent = await multipart(token, 'sendDocument', form);
    expect(sent.status).toBe(200);
    const msg = sent.body.result as TgMessage;
    expect(msg.caption).toBe('Your invoice');
    expect(msg.document).toMatchObject({ file_name: 'invoice.pdf', mime_type: 'application/pdf', file_size: bytes.length });
    const file = (await api(token, 'getFile', { file_id: msg.document!.file_id })).body.result;
    expect(file).toMatchObject({ file_id: msg.document!.file_id, file_unique_id: msg.document!.file_unique_id, file_size: bytes.length });
    const dl = await fetch(`${tg.url}/file/bot${token}/${file.file_path}`);
    expect(dl.status).toBe(200);
    expect(Buffer.from(await dl.arrayBuffer())).toEqual(bytes);
    expect(tg.fileBytes(msg.document!.file_id)).toEqual(bytes);
    // Another bot cannot read it.
    const other = newBot('other_bot');
    expect((await fetch(`${tg.url}/file/bot${other}/${file.file_path}`)).status).toBe(404);
    expect((await api(other, 'getFile', { file_id: msg.document!.file_id })).status).toBe(400);
  });

  it('sends photos as PhotoSize arrays smallest→largest, reuses file_ids, accepts attach:// and URLs', async () => {
    const token = newBot();
    await tg.customerSends(token, { from: ann, text: 'photo please' });
    const image = png(1280, 720);
    const form = new FormData();
    form.set('chat_id', String(ann.id));
    form.set('photo', 'attach://pic');
    form.set('pic', new Blob([new Uint8Array(image)], { type: 'image/png' }), 'pic.png');
    const first = (await multipart(token, 'sendPhoto', form)).body.result as TgMessage;
    const sizes = first.photo!;
    expect(sizes.length).toBeGreaterThanOrEqual(2);
    const areas = sizes.map((s) => s.width * s.height);
    expect([...areas].sort((a, b) => a - b)).toEqual(areas);
    expect(sizes[sizes.length - 1]).toMatchObject({ width: 1280, height: 720 });
    const largest = sizes[sizes.length - 1].file_id;
    // Re-send by file_id.
    const again = (await api(token, 'sendPhoto', { chat_id: ann.id, photo: largest, caption: 'again' })).body.result as TgMessage;
    expect(again.photo!.at(-1)!.file_unique_id).toBe(sizes.at(-1)!.file_unique_id);
    expect(again.message_id).toBeGreaterThan(first.message_id);
    // Send a document by URL.
    receiver.files.set('terms.txt', { bytes: Buffer.from('terms and conditions'), contentType: 'text/plain' });
    const byUrl = (await api(token, 'sendDocument', { chat_id: ann.id, document: `${receiver.url}/files/terms.txt` })).body.result as TgMessage;
    expect(byUrl.document).toMatchObject({ file_name: 'terms.txt', mime_type: 'text/plain' });
    expect(tg.fileBytes(byUrl.document!.file_id)!.toString()).toBe('terms and conditions');
    // Unknown file_id / missing file.
    expect((await api(token, 'sendPhoto', { chat_id: ann.id, photo: 'AgACnope' })).status).toBe(400);
    expect((await api(token, 'sendDocument', { chat_id: ann.id })).status).toBe(400);
    expect((await api(token, 'sendPhoto', { chat_id: ann.id, photo: largest, caption: 'c'.repeat(1025) })).status).toBe(400);
  });

  it('delivers customer photos and documents with proper shapes and downloadable files', async () => {
    const token = newBot();
    const image = png(800, 600);
    const p = await tg.customerSends(token, { from: ann, photo: { bytes: image, caption: 'look' } });
    expect(p.message!.caption).toBe('look');
    expect(p.message!.text).toBeUndefined();
    const sizes = p.message!.photo!;
    expect(sizes.at(-1)).toMatchObject({ width: 800, height: 600, file_size: image.length });
    expect(sizes[0].width).toBeLessThan(800);
    const d = await tg.customerSends(token, {
      from: ann,
      document: { bytes: Buffer.from('a,b\n1,2\n'), fileName: 'data.csv', mimeType: 'text/csv' },
    });
    expect(d.message!.document).toMatchObject({ file_name: 'data.csv', mime_type: 'text/csv', file_size: 8 });
    const f = (await api(token, 'getFile', { file_id: d.message!.document!.file_id })).body.result;
    expect(f.file_path).toMatch(/\.csv$/);
    const dl = await fetch(`${tg.url}/file/bot${token}/${f.file_path}`);
    expect(await dl.text()).toBe('a,b\n1,2\n');
  });

  it('refuses getFile for files over 20 MB with 400', async () => {
    const token = newBot();
    const big = Buffer.alloc(20 * 1024 * 1024 + 1, 1);
    const u = await tg.customerSends(token, { from: ann, document: { bytes: big, fileName: 'big.bin', mimeType: 'application/octet-stream' } });
    const r = await api(token, 'getFile', { file_id: u.message!.document!.file_id });
    expect(r.status).toBe(400);
    expect(r.body).toMatchObject({ ok: false, error_code: 400 });
  });
});

describe('customer page', () => {
  it('serves the HTML page and lets a person write to a bot and read the replies', async () => {
    const { token, id } = tg.createBot({ username: 'page_bot' });
    const page = await fetch(`${tg.url}/`);
    expect(page.headers.get('content-type')).toMatch(/text\/html/);
    expect(await page.text()).toContain('Telegram emulator');
    const bots = (await (await fetch(`${tg.url}/_emulator/bots`)).json()) as Array<{ id: number; token: string }>;
    expect(bots.find((b) => b.id === id)?.token).toBe(token);
    const form = new FormData();
    form.set('fromId', '5550001');
    form.set('firstName', 'Person');
    form.set('text', 'hello from the page');
    const res = await fetch(`${tg.url}/_emulator/bots/${id}/messages`, { method: 'POST', body: form });
    expect(res.status).toBe(201);
    const updates = (await api(token, 'getUpdates')).body.result as TgUpdate[];
    expect(updates.map((u) => u.message?.text)).toEqual(['hello from the page']);
    await api(token, 'sendMessage', { chat_id: 5550001, text: 'operator here' });
    const transcript = (await (await fetch(`${tg.url}/_emulator/bots/${id}/chats/5550001/transcript`)).json()) as Array<{ direction: string; message: TgMessage }>;
    expect(transcript.map((t) => [t.direction, t.message.text])).toEqual([
      ['in', 'hello from the page'],
      ['out', 'operator here'],
    ]);
    const sent = (await (await fetch(`${tg.url}/_emulator/bots/${id}/sent?chatId=5550001`)).json()) as TgMessage[];
    expect(sent.map((m) => m.text)).toEqual(['operator here']);
  });

  it('creates bots and takes customer messages over the control API (for out-of-process tests)', async () => {
    const created = await fetch(`${tg.url}/_emulator/bots`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'remote_bot', firstName: 'Remote' }),
    });
    expect(created.status).toBe(201);
    const { token, id } = (await created.json()) as { token: string; id: number };
    expect((await api(token, 'getMe')).body.result).toMatchObject({ id, username: 'remote_bot', first_name: 'Remote' });
    const msg = await fetch(`${tg.url}/_emulator/bots/${id}/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ fromId: 42, firstName: 'Zoe', text: 'remote hello' }),
    });
    expect(msg.status).toBe(201);
    expect(((await api(token, 'getUpdates')).body.result as TgUpdate[]).map((u) => u.message?.text)).toEqual(['remote hello']);
    expect((await fetch(`${tg.url}/_emulator/bots/${id}/messages`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' })).status).toBe(400);
    expect((await fetch(`${tg.url}/_emulator/bots/999/sent`)).status).toBe(404);
  });
});
