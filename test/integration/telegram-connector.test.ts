// The Telegram connector (client, error classification, poller, webhook secret check, file
// download) against the emulator over real HTTP.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTelegramEmulator, type TelegramEmulator } from '../../src/emulators/telegram/index.js';
import {
  TelegramError,
  createPoller,
  createTelegramClient,
  describeTelegramError,
  diagnoseWebhook,
  normalizeUpdate,
  verifyWebhookSecret,
  newWebhookSecret,
  SECRET_HEADER,
  type NormalizedMessageUpdate,
  type PollerLogger,
  type TelegramUpdate,
} from '../../src/connectors/telegram/index.js';
import { startWebhookReceiver } from './telegram-receiver.js';

let tg: TelegramEmulator;
const ann = { id: 1111111, first_name: 'Ann', username: 'ann' };

/** Captures log lines so tests can check the token never appears in them. */
function captureLogger(): PollerLogger & { lines: string[] } {
  const lines: string[] = [];
  const log = (obj: object, msg?: string) => lines.push(`${msg ?? ''} ${JSON.stringify(obj)}`);
  return { lines, info: log, warn: log, error: log };
}

async function caught(p: Promise<unknown>): Promise<TelegramError> {
  try {
    await p;
  } catch (err) {
    expect(err).toBeInstanceOf(TelegramError);
    return err as TelegramError;
  }
  throw new Error('expected a TelegramError');
}

function until(cond: () => boolean, timeoutMs = 10_000): Promise<void> {
  return expect.poll(cond, { timeout: timeoutMs, interval: 20 }).toBe(true);
}

beforeAll(async () => {
  tg = await startTelegramEmulator();
});
afterAll(async () => {
  await tg?.close();
});

describe('client', () => {
  it('verifies a token with getMe and sends text, photos and documents', async () => {
    const { token, id } = tg.createBot({ username: 'conn_bot', firstName: 'Conn' });
    const client = createTelegramClient({ apiRoot: `${tg.url}/`, token });
    expect(await client.getMe()).toMatchObject({ id, is_bot: true, username: 'conn_bot' });
    await tg.customerSends(token, { from: ann, text: 'hi' });
    const text = await client.sendMessage(ann.id, 'Hello Ann');
    expect(text).toMatchObject({ chat: { id: ann.id }, text: 'Hello Ann' });
    const photo = await client.sendPhoto(ann.id, { bytes: Buffer.from('not really a jpeg'), fileName: 'p.jpg', mimeType: 'image/jpeg', caption: 'pic' });
    expect(photo.caption).toBe('pic');
    expect(tg.fileBytes(photo.photo!.at(-1)!.file_id)!.toString()).toBe('not really a jpeg');
    const doc = await client.sendDocument(ann.id, { bytes: Buffer.from('ÄÖÜ report'), fileName: 'report ü.txt', mimeType: 'text/plain' });
    expect(doc.document).toMatchObject({ file_name: 'report ü.txt', mime_type: 'text/plain' });
    expect(tg.fileBytes(doc.document!.file_id)!.toString()).toBe('ÄÖÜ report');
    expect(tg.sentMessages(token, ann.id)).toHaveLength(3);
    // Photos are limited to 10 MB (send big images as documents).
    const huge = await caught(client.sendPhoto(ann.id, { bytes: Buffer.alloc(10 * 1024 * 1024 + 1), fileName: 'huge.jpg', mimeType: 'image/jpeg' }));
    expect(huge).toMatchObject({ kind: 'bad-request', status: 400 });
  });

  it('classifies failures and never shows the token', async () => {
    const { token } = tg.createBot({ username: 'err_bot' });
    const client = createTelegramClient({ apiRoot: tg.url, token });
    await tg.customerSends(token, { from: ann, text: 'hi' });

    const tooLong = await caught(client.sendMessage(ann.id, 'x'.repeat(5000)));
    expect(tooLong).toMatchObject({ kind: 'bad-request', status: 400, method: 'sendMessage' });

    tg.inject429(token, { method: 'sendMessage', retryAfter: 12, times: 1 });
    expect(await caught(client.sendMessage(ann.id, 'fast'))).toMatchObject({ kind: 'rate-limited', status: 429, retryAfter: 12 });

    tg.blockByUser(token, ann.id);
    const blocked = await caught(client.sendMessage(ann.id, 'hello?'));
    expect(blocked).toMatchObject({ kind: 'forbidden', status: 403 });
    expect(describeTelegramError(blocked)).toMatch(/blocked the bot/);
    tg.unblockByUser(token, ann.id);

    expect(await caught(client.call('noSuchMethod'))).toMatchObject({ kind: 'not-found', status: 404 });

    const receiver = await startWebhookReceiver();
    await client.setWebhook({ url: `${receiver.url}/h`, secretToken: 'abc' });
    const conflict = await caught(client.getUpdates({ timeout: 0 }));
    expect(conflict).toMatchObject({ kind: 'conflict', status: 409, conflictKind: 'webhook' });
    expect(describeTelegramError(conflict)).toMatch(/webhook/i);
    await client.deleteWebhook();
    await receiver.close();

    const newToken = tg.revokeToken(token);
    const auth = await caught(client.getMe());
    expect(auth).toMatchObject({ kind: 'auth', status: 401 });
    expect(describeTelegramError(auth)).toBe('The bot token was rejected by Telegram (revoked or mistyped). Get the current token from @BotFather and enter it again.');

    for (const err of [tooLong, blocked, conflict, auth]) {
      expect(`${err.message} ${err.description} ${err.stack}`).not.toContain(token.split(':')[1]);
    }
    expect(newToken).not.toBe(token);
  });

  it('reports network failures and 5xx answers as transient, without the token', async () => {
    const token = '123456789:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA';
    // A port nobody listens on.
    const probe = createServer();
    await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
    const port = (probe.address() as AddressInfo).port;
    await new Promise<void>((r) => probe.close(() => r()));
    const refused = await caught(createTelegramClient({ apiRoot: `http://127.0.0.1:${port}`, token }).getMe());
    expect(refused).toMatchObject({ kind: 'transient', status: 0 });
    expect(`${refused.message} ${refused.stack}`).not.toContain('AAAAAAAAAA');
    expect(describeTelegramError(refused)).toMatch(/retry/);

    // A proxy in front of a self-hosted Bot API server answering 502 with HTML.
    const proxy = createServer((req, res) => {
      res.writeHead(502, { 'content-type': 'text/html' }).end(`<h1>Bad gateway for ${req.url}</h1>`);
    });
    await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', r));
    try {
      const url = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;
      const bad = await caught(createTelegramClient({ apiRoot: url, token }).sendMessage(1, 'x'));
      expect(bad).toMatchObject({ kind: 'transient', status: 502 });
      // A slow server: the client's own timeout turns into a transient error.
      const slow = createTelegramClient({ apiRoot: tg.url, token: tg.createBot({ username: 'slow_bot' }).token, timeoutMs: 200 });
      const timedOut = await caught(slow.call('getUpdates', { timeout: 5 }));
      expect(timedOut).toMatchObject({ kind: 'transient', status: 0 });
    } finally {
      proxy.closeAllConnections();
      await new Promise<void>((r) => proxy.close(() => r()));
    }
  });

  it('passes the caller\'s abort through as an AbortError, not a Telegram failure', async () => {
    const { token } = tg.createBot({ username: 'abort_bot' });
    const client = createTelegramClient({ apiRoot: tg.url, token });
    const ac = new AbortController();
    const poll = client.getUpdates({ timeout: 20, signal: ac.signal });
    setTimeout(() => ac.abort(), 100);
    const err = await poll.then(
      () => null,
      (e: unknown) => e as Error,
    );
    expect(err).not.toBeInstanceOf(TelegramError);
    expect(err?.name).toBe('AbortError');
    // The emulator noticed the hang-up: a new poll is not a "terminated by other getUpdates" case.
    expect(await client.getUpdates({ timeout: 0 })).toEqual([]);
  });

  it('downloads files a customer sent (getFile + downloadFile), refusing >20 MB', async () => {
    const { token } = tg.createBot({ username: 'files_bot' });
    const client = createTelegramClient({ apiRoot: tg.url, token });
    const bytes = Buffer.from(Array.from({ length: 5000 }, (_, i) => i % 256));
    const u = await tg.customerSends(token, { from: ann, document: { bytes, fileName: 'blob.bin', mimeType: 'application/octet-stream', caption: 'data' } });
    const n = normalizeUpdate(u as TelegramUpdate) as NormalizedMessageUpdate;
    expect(n.files).toEqual([
      { kind: 'document', fileId: expect.any(String), fileUniqueId: expect.any(String), fileName: 'blob.bin', mimeType: 'application/octet-stream', size: 5000 },
    ]);
    const file = await client.getFile(n.files[0].fileId);
    expect(await client.downloadFile(file.file_path!)).toEqual(bytes);
    // The caller's size cap applies while downloading.
    expect(await caught(client.downloadFile(file.file_path!, { maxBytes: 100 }))).toMatchObject({ kind: 'bad-request', description: 'file is too big' });
    const missing = await caught(client.downloadFile('documents/nope.bin'));
    expect(missing.kind).toBe('not-found');
    const big = await tg.customerSends(token, { from: ann, document: { bytes: Buffer.alloc(21 * 1024 * 1024), fileName: 'big.bin', mimeType: 'application/octet-stream' } });
    expect(await caught(client.getFile(big.message!.document!.file_id))).toMatchObject({ kind: 'bad-request', status: 400 });
  });
});

describe('webhook mode', () => {
  it('registers a webhook with a secret; deliveries carry it and forged ones fail verification', async () => {
    const { token } = tg.createBot({ username: 'hook_bot' });
    const client = createTelegramClient({ apiRoot: tg.url, token });
    const secret = newWebhookSecret();
    expect(secret).toMatch(/^[A-Za-z0-9_-]{1,256}$/);
    const receiver = await startWebhookReceiver();
    receiver.respond = (req) => ({ status: verifyWebhookSecret(req.headers[SECRET_HEADER], secret) ? 200 : 401 });
    try {
      await client.setWebhook({ url: `${receiver.url}/webhooks/telegram/1`, secretToken: secret, dropPendingUpdates: true, allowedUpdates: ['message', 'edited_message'] });
      const info = await client.getWebhookInfo();
      expect(info).toMatchObject({ url: `${receiver.url}/webhooks/telegram/1`, pending_update_count: 0, allowed_updates: ['message', 'edited_message'] });
      const u = await tg.customerSends(token, { from: ann, text: 'via webhook' });
      expect(receiver.requests.map((r) => r.body)).toEqual([u]);
      expect((await client.getWebhookInfo()).pending_update_count).toBe(0);
      expect(await tg.pushRaw(token, u, { secret: 'forged' })).toMatchObject({ status: 401 });
      expect(await tg.pushRaw(token, u, { secret: null })).toMatchObject({ status: 401 });
      expect(await tg.pushRaw(token, u, { secret: secret.slice(0, -1) })).toMatchObject({ status: 401 });
      // Filtered by allowed_updates: a callback_query is never queued.
      await tg.enqueueRaw(token, { callback_query: { id: '1' } });
      expect((await client.getWebhookInfo()).pending_update_count).toBe(0);
      expect(await client.deleteWebhook({ dropPendingUpdates: true })).toBe(true);
      expect((await client.getWebhookInfo()).url).toBe('');
    } finally {
      await receiver.close();
    }
  });
});

describe('webhook diagnostics', () => {
  it('sees delivery failures, a lost webhook and a foreign one through getWebhookInfo', async () => {
    const { token } = tg.createBot({ username: 'diag_bot' });
    const client = createTelegramClient({ apiRoot: tg.url, token });
    const dead = await startWebhookReceiver();
    const ours = `${dead.url}/webhooks/telegram/abc`;
    await dead.close();
    await client.setWebhook({ url: ours, secretToken: 'x' });
    await tg.customerSends(token, { from: ann, text: 'lost in transit' });
    const failing = diagnoseWebhook(await client.getWebhookInfo(), ours);
    expect(failing).toMatchObject({ state: 'failing', pendingUpdates: 1, needsReregistration: false, lastError: { message: 'Connection refused' } });
    // Another program removes it: we must re-register.
    await createTelegramClient({ apiRoot: tg.url, token }).deleteWebhook();
    expect(diagnoseWebhook(await client.getWebhookInfo(), ours)).toMatchObject({ state: 'missing', needsReregistration: true, pendingUpdates: 1 });
    await client.setWebhook({ url: 'http://127.0.0.1:1/elsewhere', secretToken: 'y' });
    expect(diagnoseWebhook(await client.getWebhookInfo(), ours).state).toBe('other-url');
    await client.deleteWebhook({ dropPendingUpdates: true });
  });
});

describe('poller', () => {
  it('delivers updates in order and confirms them only after the handler succeeded', async () => {
    const { token } = tg.createBot({ username: 'poll_bot' });
    const client = createTelegramClient({ apiRoot: tg.url, token });
    const ac = new AbortController();
    const seen: number[] = [];
    let failNext = true;
    const logger = captureLogger();
    const errors: string[] = [];
    // Both queued before the poller starts, so the first (failing) batch is exactly [u1, u2].
    const u1 = await tg.customerSends(token, { from: ann, text: 'one' });
    const u2 = await tg.customerSends(token, { from: ann, text: 'two' });
    const poller = createPoller({
      client,
      signal: ac.signal,
      logger,
      timeoutSeconds: 2,
      backoffMs: 50,
      onError: (_e, explanation) => errors.push(explanation),
      onUpdates: async (updates) => {
        seen.push(...updates.map((u) => u.update_id));
        if (failNext) {
          failNext = false;
          throw new Error('database is down');
        }
      },
    });
    // First handler call fails → the same updates come again (not confirmed); the second succeeds.
    await until(() => poller.offset() === u2.update_id + 1);
    expect(seen).toEqual([u1.update_id, u2.update_id, u1.update_id, u2.update_id]);
    expect(errors).toHaveLength(1);
    // The next long poll confirms them at the emulator.
    await until(() => tg.pendingUpdates(token).length === 0);
    const u3 = await tg.customerSends(token, { from: ann, text: 'three' });
    await until(() => seen.includes(u3.update_id));
    ac.abort();
    expect(await poller.done).toEqual({ reason: 'aborted', offset: u3.update_id + 1 });
    expect(logger.lines.join('\n')).not.toContain(token.split(':')[1]);
  });

  it('resumes from a persisted offset so a crash re-delivers only unconfirmed updates', async () => {
    const { token } = tg.createBot({ username: 'crash_bot' });
    const client = createTelegramClient({ apiRoot: tg.url, token });
    const u1 = await tg.customerSends(token, { from: ann, text: 'done before crash' });
    const u2 = await tg.customerSends(token, { from: ann, text: 'in flight' });
    // Process 1 handled u1, stored offset u1+1, then crashed while handling u2.
    const ac = new AbortController();
    const seen: number[] = [];
    const poller = createPoller({
      client,
      signal: ac.signal,
      logger: captureLogger(),
      timeoutSeconds: 1,
      initialOffset: u1.update_id + 1,
      onUpdates: async (us) => {
        seen.push(...us.map((u) => u.update_id));
      },
    });
    await until(() => seen.includes(u2.update_id));
    ac.abort();
    await poller.done;
    expect(seen).toEqual([u2.update_id]);
  });

  it('waits exactly retry_after on 429, then carries on', async () => {
    const { token } = tg.createBot({ username: 'slowdown_bot' });
    const client = createTelegramClient({ apiRoot: tg.url, token });
    tg.inject429(token, { method: 'getUpdates', retryAfter: 1, times: 1 });
    await tg.customerSends(token, { from: ann, text: 'after the wait' });
    const ac = new AbortController();
    const waits: number[] = [];
    const texts: string[] = [];
    const started = Date.now();
    let gotAt = 0;
    const poller = createPoller({
      client,
      signal: ac.signal,
      logger: captureLogger(),
      timeoutSeconds: 1,
      sleep: async (ms, signal) => {
        waits.push(ms);
        await new Promise<void>((r) => {
          const t = setTimeout(r, ms);
          signal.addEventListener('abort', () => (clearTimeout(t), r()), { once: true });
        });
      },
      onUpdates: async (us) => {
        texts.push(...us.map((u) => u.message?.text ?? ''));
        gotAt = Date.now();
      },
    });
    await until(() => texts.length === 1);
    ac.abort();
    await poller.done;
    expect(waits).toEqual([1000]);
    expect(texts).toEqual(['after the wait']);
    expect(gotAt - started).toBeGreaterThanOrEqual(1000);
  });

  it('backs off on transient errors and recovers', async () => {
    const { token } = tg.createBot({ username: 'flaky_bot' });
    const real = createTelegramClient({ apiRoot: tg.url, token });
    let failures = 2;
    const flaky = {
      getUpdates: (input: Parameters<typeof real.getUpdates>[0]) => {
        if (failures > 0) {
          failures -= 1;
          return Promise.reject(new TelegramError('transient', 502, 'Bad Gateway', undefined, 'getUpdates'));
        }
        return real.getUpdates(input);
      },
    };
    const waits: number[] = [];
    const ac = new AbortController();
    const seen: string[] = [];
    const poller = createPoller({
      client: flaky,
      signal: ac.signal,
      logger: captureLogger(),
      timeoutSeconds: 1,
      backoffMs: 20,
      sleep: async (ms) => {
        waits.push(ms);
        await new Promise((r) => setTimeout(r, ms));
      },
      onUpdates: async (us) => {
        seen.push(...us.map((u) => u.message?.text ?? ''));
      },
    });
    await tg.customerSends(token, { from: ann, text: 'eventually' });
    await until(() => seen.length === 1);
    ac.abort();
    await poller.done;
    expect(waits).toEqual([20, 40]);
  });

  it('stops and reports when the token is revoked', async () => {
    const { token } = tg.createBot({ username: 'revoked_bot' });
    const client = createTelegramClient({ apiRoot: tg.url, token });
    const explanations: string[] = [];
    const logger = captureLogger();
    const ac = new AbortController();
    const poller = createPoller({
      client,
      signal: ac.signal,
      logger,
      timeoutSeconds: 10,
      onError: (_e, text) => explanations.push(text),
      onUpdates: async () => {},
    });
    await new Promise((r) => setTimeout(r, 200)); // let it start a long poll
    tg.revokeToken(token);
    const result = await poller.done;
    expect(result.reason).toBe('auth');
    expect(result.error).toMatchObject({ kind: 'auth', status: 401 });
    expect(explanations).toEqual([describeTelegramError(result.error)]);
    expect(logger.lines.join('\n')).not.toContain(token.split(':')[1]);
    ac.abort();
  });

  it('stops on a webhook conflict and keeps going on a competing poller', async () => {
    const { token } = tg.createBot({ username: 'conflict_bot' });
    const client = createTelegramClient({ apiRoot: tg.url, token });
    const receiver = await startWebhookReceiver();
    try {
      // Another poller keeps terminating ours once; ours reports and continues.
      const explanations: string[] = [];
      const ac = new AbortController();
      const seen: string[] = [];
      const poller = createPoller({
        client,
        signal: ac.signal,
        logger: captureLogger(),
        timeoutSeconds: 10,
        backoffMs: 20,
        onError: (_e, text) => explanations.push(text),
        onUpdates: async (us) => {
          seen.push(...us.map((u) => u.message?.text ?? ''));
        },
      });
      await new Promise((r) => setTimeout(r, 200));
      const intruder = await client.getUpdates({ timeout: 0 });
      expect(intruder).toEqual([]);
      await until(() => explanations.length === 1);
      expect(explanations[0]).toMatch(/Another program is polling this bot/);
      await tg.customerSends(token, { from: ann, text: 'still polling' });
      await until(() => seen.includes('still polling'));

      // Someone registers a webhook: our poller stops and says why.
      await client.setWebhook({ url: `${receiver.url}/x`, secretToken: 'tok' });
      const result = await poller.done;
      expect(result.reason).toBe('webhook-conflict');
      expect(describeTelegramError(result.error)).toMatch(/webhook/i);
      ac.abort();
    } finally {
      await client.deleteWebhook().catch(() => {});
      await receiver.close();
    }
  });
});
