// Channel self-diagnosis (H6) against the Telegram emulator, on SQLite and PostgreSQL: the webhook
// state from getWebhookInfo in plain words, a stale error clearing once deliveries recover, an
// 'auto' channel falling back to polling when Telegram refuses the webhook or keeps failing to
// deliver, a revoked token pausing the poller instead of restarting it every few seconds, and
// two channel services on one database never polling the same bot at once.
// The emulator enforces real Telegram's webhook rules (HTTPS, ports 443/80/88/8443); its
// routeOrigin plays DNS, pointing a public SiteUrl at this test server or at a closed port.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dialects } from '../helpers/db.js';
import { startTestApp, type TestApp, type TestUser } from '../helpers/app.js';
import { startTelegramEmulator, type TelegramEmulator } from '../../src/emulators/telegram/index.js';
import { createChannelService } from '../../src/modules/chat/channels.js';
import type { ChatModuleService } from '../../src/modules/chat/index.js';
import { waitUntil } from './chat-helpers.js';

const DIALECTS = await dialects();
const CLOSED = 'http://127.0.0.1:9';

describe.each(DIALECTS)('chat channel health on %s', (dialect) => {
  let tg: TelegramEmulator;
  let t: TestApp;
  let chat: ChatModuleService;
  let manager: TestUser;
  let queueId: string;

  beforeAll(async () => {
    tg = await startTelegramEmulator({ strictWebhookUrls: true, webhookRetryDelaysMs: [50, 100] });
    t = await startTestApp({ dialect, env: { TELEGRAM_API_ROOT: tg.url } });
    chat = t.modules.chat as ChatModuleService;
    manager = await t.createUser({ operations: ['CanManageChats'] });
    const q = await t.request('POST', '/api/chat-queues', { token: manager.token, body: { name: 'Health', routingRule: 'to-all' } });
    queueId = q.body.id;
  });
  afterAll(async () => {
    await t?.close();
    await tg?.close();
  });

  const setSite = (url: string) => t.modules.settings.set('SiteUrl', url, { actorId: null });
  const channel = (id: string) => t.request('GET', `/api/chat-channels/${id}`, { token: manager.token }).then((r) => r.body);
  const texts = (channelId: string) =>
    t.db.db.selectFrom('chat_messages').select('text').where('channel_id', '=', channelId).orderBy('created_at').execute().then((rows) => rows.map((r) => r.text));
  async function createChannel(username: string) {
    const bot = tg.createBot({ username });
    const ch = await t.request('POST', '/api/chat-channels', { token: manager.token, body: { kind: 'telegram', queueId, token: bot.token } });
    expect(ch.status).toBe(201);
    return { bot, ch: ch.body };
  }
  async function deactivate(id: string) {
    expect((await t.request('PATCH', `/api/chat-channels/${id}`, { token: manager.token, body: { isActive: false } })).status).toBe(200);
  }

  it('Telegram refuses the webhook (plain http) → the auto channel polls and messages still arrive', { timeout: 30_000 }, async () => {
    await setSite('http://switchboard.example.com');
    const { bot, ch } = await createChannel('refused_bot');
    expect(ch.mode).toBe('polling');
    expect(ch.lastError).toMatch(/refused the webhook http:\/\/switchboard\.example\.com\/webhooks\/telegram\/.*HTTPS.*long polling instead/);
    expect(tg.calls(bot.token).some((c) => c.method === 'setwebhook' && c.status === 400)).toBe(true);
    await tg.customerSends(bot.token, { from: { id: 510001, first_name: 'Rae' }, text: 'via polling' });
    await waitUntil(async () => (await texts(ch.id)).includes('via polling'), 15_000, 'the polled message');
    const d = (await channel(ch.id)).diagnostics;
    expect(d.state).toBe('polling');
    expect(d.explanation).toMatch(/long polling/);
    await deactivate(ch.id);
  });

  it('a failing webhook is reported in plain words; the error clears once deliveries recover', { timeout: 30_000 }, async () => {
    const site = 'https://sb-recover.example.com';
    await setSite(site);
    tg.routeOrigin(site, t.url);
    const { bot, ch } = await createChannel('recover_bot');
    expect(ch.mode).toBe('webhook');
    expect(tg.webhookInfo(bot.token).url).toBe(`${site}/webhooks/telegram/${ch.id}`);
    await tg.customerSends(bot.token, { from: { id: 520001, first_name: 'Ravi' }, text: 'first' });
    await waitUntil(async () => (await texts(ch.id)).includes('first'), 10_000, 'the first delivery');

    // Switchboard becomes unreachable: Telegram records the error, the check reports it.
    tg.routeOrigin(site, CLOSED);
    await tg.customerSends(bot.token, { from: { id: 520001, first_name: 'Ravi' }, text: 'while down' });
    await chat.channels.checkChannels();
    let c = await channel(ch.id);
    expect(c.mode).toBe('webhook');
    expect(c.lastError).toMatch(/cannot deliver messages to Switchboard: "Connection refused"/);
    expect(c.diagnostics).toMatchObject({ state: 'webhook-failing', pendingUpdateCount: 1 });
    expect(c.diagnostics.lastError).toMatch(/Connection refused/);
    expect(c.diagnostics.lastErrorAt).toBeTruthy();

    // Reachable again (a second after the error: Telegram's error time has whole seconds).
    const errorAt = tg.webhookInfo(bot.token).last_error_date!;
    await waitUntil(async () => Date.now() >= (errorAt + 1) * 1000, 3000, 'the next second');
    tg.routeOrigin(site, t.url);
    await tg.customerSends(bot.token, { from: { id: 520001, first_name: 'Ravi' }, text: 'back again' });
    await waitUntil(async () => (await texts(ch.id)).includes('back again'), 10_000, 'the deliveries after recovery');
    expect(await texts(ch.id)).toEqual(['first', 'while down', 'back again']);
    // Telegram still reports its last error (recent, so it would count as current by itself)…
    expect(tg.webhookInfo(bot.token).last_error_message).toBe('Connection refused');
    // …but a delivery reached us after it: the channel is healthy again.
    await chat.channels.checkChannels();
    c = await channel(ch.id);
    expect(c.lastError).toBeNull();
    expect(c.diagnostics).toMatchObject({ state: 'ok', lastError: null, lastErrorAt: null, pendingUpdateCount: 0 });
    await deactivate(ch.id);
  });

  it('an auto channel whose webhook keeps failing switches to polling after 3 checks, and tries the webhook again later', { timeout: 30_000 }, async () => {
    const site = 'https://sb-down.example.com';
    await setSite(site);
    tg.routeOrigin(site, t.url);
    const { bot, ch } = await createChannel('down_bot');
    expect(ch.mode).toBe('webhook');
    tg.routeOrigin(site, CLOSED);
    await tg.customerSends(bot.token, { from: { id: 530001, first_name: 'Dana' }, text: 'is anyone there?' });
    for (let check = 1; check <= 2; check++) {
      await chat.channels.checkChannels();
      const c = await channel(ch.id);
      expect(c.mode).toBe('webhook');
      expect(c.diagnostics.state).toBe('webhook-failing');
    }
    await chat.channels.checkChannels();
    const c = await channel(ch.id);
    expect(c.mode).toBe('polling');
    expect(c.lastError).toMatch(/in 3 checks in a row \("Connection refused"\), so Switchboard switched to long polling/);
    expect(tg.webhookInfo(bot.token).url).toBe('');
    // The message Telegram could not push arrives by polling.
    await waitUntil(async () => (await texts(ch.id)).includes('is anyone there?'), 15_000, 'the polled message');
    // The next check leaves it polling (no flapping)…
    await chat.channels.checkChannels();
    expect((await channel(ch.id)).mode).toBe('polling');
    // …until the retry time has passed; the server is reachable again by then.
    tg.routeOrigin(site, t.url);
    const saved = chat.channels.tuning.webhookRetryAfterMs;
    chat.channels.tuning.webhookRetryAfterMs = 0;
    try {
      await chat.channels.checkChannels();
    } finally {
      chat.channels.tuning.webhookRetryAfterMs = saved;
    }
    expect((await channel(ch.id)).mode).toBe('webhook');
    expect(tg.webhookInfo(bot.token).url).toBe(`${site}/webhooks/telegram/${ch.id}`);
    await deactivate(ch.id);
  });

  it('a revoked token stops the poller until a new token is entered; the channel says so', { timeout: 30_000 }, async () => {
    await setSite(t.url);
    const { bot, ch } = await createChannel('revoked_bot');
    expect(ch.mode).toBe('polling');
    // A fast supervisor, so restarting a poller into the same 401 would show within a second.
    await chat.channels.stopSupervisor();
    chat.channels.tuning.superviseMs = 100;
    chat.channels.startSupervisor();
    await waitUntil(async () => chat.channels.pollingHere().includes(ch.id), 10_000, 'the poller');
    const newToken = tg.revokeToken(bot.token);
    await waitUntil(async () => tg.calls(bot.token).some((x) => x.status === 401), 10_000, 'the 401');
    await new Promise((r) => setTimeout(r, 1500));
    expect(tg.calls(bot.token).filter((x) => x.method === 'getupdates' && x.status === 401).length).toBe(1);
    const c = await channel(ch.id);
    expect(c.lastError).toMatch(/token was rejected by Telegram \(revoked or mistyped\)/);
    expect(c.diagnostics.state).toBe('token-revoked');
    // The administrator enters the new token: polling resumes.
    expect((await t.request('PATCH', `/api/chat-channels/${ch.id}`, { token: manager.token, body: { token: newToken } })).status).toBe(200);
    await tg.customerSends(newToken, { from: { id: 540001, first_name: 'Tom' }, text: 'after the new token' });
    await waitUntil(async () => (await texts(ch.id)).includes('after the new token'), 15_000, 'the message after the new token');
    expect((await channel(ch.id)).diagnostics.state).toBe('polling');
    await deactivate(ch.id);
  });

  it('two channel services on one database never poll the same bot at once; the second takes over when the first stops', { timeout: 30_000 }, async () => {
    await setSite(t.url);
    const { bot, ch } = await createChannel('shared_bot');
    expect(ch.mode).toBe('polling');
    const p = t.platform;
    const second = createChannelService({
      db: p.db, secrets: p.secrets, files: p.files, jobs: p.jobs, leases: p.leases, instanceId: 'second-process', logger: p.logger,
      connectors: chat.connectors, conversations: chat.conversations, siteUrl: async () => t.url,
    });
    second.tuning.superviseMs = 50;
    second.tuning.pollTimeoutSeconds = 1;
    await waitUntil(async () => chat.channels.pollingHere().includes(ch.id), 10_000, 'the first poller');
    second.startSupervisor();
    try {
      let both = 0;
      for (let i = 0; i < 60; i++) {
        if (chat.channels.pollingHere().includes(ch.id) && second.pollingHere().includes(ch.id)) both++;
        await new Promise((r) => setTimeout(r, 25));
      }
      expect(both).toBe(0);
      expect(second.pollingHere()).not.toContain(ch.id);
      // The first process stops (its lease goes with it): the second one polls from then on.
      await chat.channels.stopSupervisor();
      await waitUntil(async () => second.pollingHere().includes(ch.id), 10_000, 'the takeover');
      expect((await channel(ch.id)).diagnostics.pollingHolder).toBe('second-process');
      await tg.customerSends(bot.token, { from: { id: 550001, first_name: 'Sam' }, text: 'after the takeover' });
      await waitUntil(async () => (await texts(ch.id)).includes('after the takeover'), 15_000, 'the message after the takeover');
      // Telegram never had two getUpdates of this bot at once (it would end the older with 409).
      expect(tg.calls(bot.token).filter((x) => x.method === 'getupdates' && x.status === 409)).toEqual([]);
    } finally {
      await second.stopSupervisor();
    }
  });
});
