// Queues and Telegram channels over HTTP (H1, H6): permissions and bad input, token verification,
// webhook secret rejection, duplicate delivery idempotency, polling fallback when SiteUrl is not
// public (and never both), diagnostics, re-registration of a lost webhook, delete vs. deactivate.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTelegramClient } from '../../src/connectors/telegram/index.js';
import { openSocket, startChatEnv, waitUntil, type ChatEnv } from './chat-helpers.js';

describe('chat queues and channels (SQLite)', () => {
  let env: ChatEnv;
  let manager: { id: string; token: string };
  let op: { id: string; token: string };
  beforeAll(async () => {
    env = await startChatEnv('sqlite');
    manager = await env.t.createUser({ operations: ['CanManageChats'] });
    op = await env.t.createUser();
  });
  afterAll(async () => {
    await env?.close();
  });

  it('queues: CanManageChats to write, validation, users and roles, 409 on duplicate names', async () => {
    const { t } = env;
    const role = await t.modules.identity.createRole({ name: 'Chat operators', userIds: [op.id] });
    const denied = await t.request('POST', '/api/chat-queues', { token: op.token, body: { name: 'X', routingRule: 'to-all' } });
    expect(denied.status).toBe(403);
    expect(denied.body.error.details.operation).toBe('CanManageChats');
    const bad = await t.request('POST', '/api/chat-queues', { token: manager.token, body: { name: '', routingRule: 'round-robin', completionTimeoutMinutes: -1, userIds: ['nope'] } });
    expect(bad.status).toBe(400);
    const fields = bad.body.error.details.fields.map((f: any) => f.field).join(' ');
    expect(fields).toMatch(/name/);
    expect(fields).toMatch(/routingRule/);
    const unknownUser = await t.request('POST', '/api/chat-queues', { token: manager.token, body: { name: 'Q0', routingRule: 'to-all', userIds: ['00000000-0000-4000-8000-000000000000'] } });
    expect(unknownUser.status).toBe(400);
    const created = await t.request('POST', '/api/chat-queues', { token: manager.token, body: { name: 'First line', routingRule: 'to-all', completionTimeoutMinutes: null, userIds: [op.id], roleIds: [role.id] } });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ name: 'First line', routingRule: 'to-all', completionTimeoutMinutes: null, userIds: [op.id], roleIds: [role.id] });
    const dup = await t.request('POST', '/api/chat-queues', { token: manager.token, body: { name: 'First line', routingRule: 'least-busy' } });
    expect(dup.status).toBe(409);
    const patched = await t.request('PATCH', `/api/chat-queues/${created.body.id}`, { token: manager.token, body: { routingRule: 'least-busy', completionTimeoutMinutes: 30, userIds: [] } });
    expect(patched.status).toBe(200);
    expect(patched.body).toMatchObject({ routingRule: 'least-busy', completionTimeoutMinutes: 30, userIds: [], roleIds: [role.id] });
    // A user may serve several queues.
    const second = await t.request('POST', '/api/chat-queues', { token: manager.token, body: { name: 'Second line', routingRule: 'to-all', userIds: [op.id] } });
    expect(second.status).toBe(201);
    const list = await t.request('GET', '/api/chat-queues?limit=1', { token: op.token });
    expect(list.status).toBe(200);
    expect(list.body.items.length).toBe(1);
    expect(list.body.nextCursor).toBeTruthy();
    expect((await t.request('GET', '/api/chat-queues/not-a-uuid', { token: op.token })).status).toBe(400);
    expect((await t.request('GET', '/api/chat-queues/00000000-0000-4000-8000-000000000000', { token: op.token })).status).toBe(404);
    expect((await t.request('DELETE', `/api/chat-queues/${second.body.id}`, { token: manager.token })).status).toBe(204);
    // Every chat route is in the published OpenAPI document.
    const doc = await t.request('GET', '/api/openapi.json');
    expect(doc.status).toBe(200);
    for (const path of ['/api/chat-queues', '/api/chat-channels/{id}', '/api/operators/me/status', '/api/chats/{id}/messages', '/api/chat-settings']) expect(Object.keys(doc.body.paths)).toContain(path);
  });

  it('a rejected bot token is a 400 in plain words; the token is never returned', async () => {
    const { t, tg } = env;
    const q = await t.request('POST', '/api/chat-queues', { token: manager.token, body: { name: 'Tokens', routingRule: 'to-all' } });
    const wrong = await t.request('POST', '/api/chat-channels', { token: manager.token, body: { kind: 'telegram', queueId: q.body.id, token: '123456:not-a-real-token-at-all' } });
    expect(wrong.status).toBe(400);
    expect(wrong.body.error.details.fields[0].field).toBe('token');
    expect(wrong.body.error.details.fields[0].message).toMatch(/did not accept/);
    const junk = await t.request('POST', '/api/chat-channels', { token: manager.token, body: { kind: 'telegram', queueId: q.body.id, token: "'; drop table chats; --" } });
    expect(junk.status).toBe(400);
    const bot = tg.createBot({ username: 'token_bot' });
    const ok = await t.request('POST', '/api/chat-channels', { token: manager.token, body: { kind: 'telegram', queueId: q.body.id, token: bot.token, delivery: 'webhook' } });
    expect(ok.status).toBe(201);
    expect(ok.body.hasToken).toBe(true);
    const again = await t.request('POST', '/api/chat-channels', { token: manager.token, body: { kind: 'telegram', queueId: q.body.id, token: bot.token } });
    expect(again.status).toBe(409);
    const all = await t.request('GET', '/api/chat-channels', { token: manager.token });
    expect(JSON.stringify(all.body)).not.toContain(bot.token);
    expect((await t.request('GET', '/api/chat-channels', { token: op.token })).status).toBe(403);
  });

  it('webhook: wrong or missing secret → 401; duplicate deliveries store one message', { timeout: 30_000 }, async () => {
    const { t, tg } = env;
    const bot = tg.createBot({ username: 'secret_bot' });
    const q = await t.request('POST', '/api/chat-queues', { token: manager.token, body: { name: 'Secrets', routingRule: 'to-all', userIds: [op.id] } });
    const ch = await t.request('POST', '/api/chat-channels', { token: manager.token, body: { kind: 'telegram', queueId: q.body.id, token: bot.token, delivery: 'webhook' } });
    expect(ch.body.mode).toBe('webhook');
    const update = { update_id: 990001, message: { message_id: 5, date: 1700000000, chat: { id: 4242, type: 'private', first_name: 'Eve' }, from: { id: 4242, is_bot: false, first_name: 'Eve' }, text: 'let me in' } };
    expect((await tg.pushRaw(bot.token, update, { secret: 'wrong-secret' })).status).toBe(401);
    expect((await tg.pushRaw(bot.token, update, { secret: null })).status).toBe(401);
    const direct = await fetch(`${t.url}/webhooks/telegram/${ch.body.id}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(update) });
    expect(direct.status).toBe(401);
    expect((await fetch(`${t.url}/webhooks/telegram/not-a-channel`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' })).status).toBe(404);
    expect(await t.db.db.selectFrom('chat_inbound_updates').select('id').where('channel_id', '=', ch.body.id).execute()).toEqual([]);

    const first = await tg.pushRaw(bot.token, update);
    const second = await tg.pushRaw(bot.token, update);
    expect(first.status).toBe(200);
    expect(second.status).toBe(200);
    const msgs = await waitUntil(async () => {
      const rows = await t.db.db.selectFrom('chat_messages').select(['id', 'text']).where('channel_id', '=', ch.body.id).execute();
      return rows.length ? rows : null;
    });
    // Let any second processing finish before counting again.
    await new Promise((r) => setTimeout(r, 300));
    const rows = await t.db.db.selectFrom('chat_messages').select(['id']).where('channel_id', '=', ch.body.id).execute();
    expect(msgs[0].text).toBe('let me in');
    expect(rows.length).toBe(1);
    expect((await t.db.db.selectFrom('chat_inbound_updates').select('id').where('channel_id', '=', ch.body.id).execute()).length).toBe(1);
    expect((await t.db.db.selectFrom('chats').select('id').where('channel_id', '=', ch.body.id).execute()).length).toBe(1);
  });

  it('polling fallback when SiteUrl is not public, never both; diagnostics; lost webhook registered again', { timeout: 45_000 }, async () => {
    const { t, tg, chat } = env;
    const bot = tg.createBot({ username: 'polling_bot' });
    const q = await t.request('POST', '/api/chat-queues', { token: manager.token, body: { name: 'Polling', routingRule: 'to-all', userIds: [op.id] } });
    // SiteUrl is http://127.0.0.1:<port> — not reachable from Telegram, so "auto" polls.
    const ch = await t.request('POST', '/api/chat-channels', { token: manager.token, body: { kind: 'telegram', queueId: q.body.id, token: bot.token } });
    expect(ch.status).toBe(201);
    expect(ch.body.mode).toBe('polling');
    expect(tg.webhookInfo(bot.token).url).toBe('');
    await waitUntil(async () => chat.channels.pollingHere().includes(ch.body.id), 10_000, 'the poller to start');
    const ws = await openSocket(t.url, op.token);
    try {
      await t.request('PUT', '/api/operators/me/status', { token: op.token, body: { status: 'active' } });
      await tg.customerSends(bot.token, { from: { id: 91001, first_name: 'Pat' }, text: 'polled hello' });
      const offered = await ws.waitFor((e) => e.type === 'chat.offered' && e.data.channelId === ch.body.id, 20_000);
      expect(offered.data.customerName).toBe('Pat');
    } finally {
      ws.close();
    }
    const diag = await t.request('GET', `/api/chat-channels/${ch.body.id}`, { token: manager.token });
    expect(diag.status).toBe(200);
    expect(diag.body.diagnostics).toMatchObject({ mode: 'polling', webhookUrl: null, lastError: null });
    expect(diag.body.diagnostics.pollingHolder).toBe(t.platform.instanceId);

    // Switch to the webhook: polling stops (Telegram would answer getUpdates with 409 otherwise).
    const sw = await t.request('PATCH', `/api/chat-channels/${ch.body.id}`, { token: manager.token, body: { delivery: 'webhook' } });
    expect(sw.body.mode).toBe('webhook');
    expect(chat.channels.pollingHere()).not.toContain(ch.body.id);
    const expected = `${t.url}/webhooks/telegram/${ch.body.id}`;
    expect(tg.webhookInfo(bot.token).url).toBe(expected);

    // Someone deletes the webhook: diagnostics say so in plain words, the periodic check restores it.
    await createTelegramClient({ apiRoot: tg.url, token: bot.token }).deleteWebhook();
    const lost = await t.request('GET', `/api/chat-channels/${ch.body.id}`, { token: manager.token });
    expect(lost.body.diagnostics.lastError).toMatch(/no webhook/);
    await chat.channels.checkChannels();
    expect(tg.webhookInfo(bot.token).url).toBe(expected);
    const healed = await t.request('GET', `/api/chat-channels/${ch.body.id}`, { token: manager.token });
    expect(healed.body.lastError).toMatch(/lost/);
    expect(healed.body.diagnostics.webhookUrl).toBe(expected);

    // The channel has a chat: deleting is refused, deactivating works and removes the webhook.
    const del = await t.request('DELETE', `/api/chat-channels/${ch.body.id}`, { token: manager.token });
    expect(del.status).toBe(409);
    expect(del.body.error.message).toMatch(/Deactivate it instead/);
    const off = await t.request('PATCH', `/api/chat-channels/${ch.body.id}`, { token: manager.token, body: { isActive: false } });
    expect(off.status).toBe(200);
    expect(off.body.isActive).toBe(false);
    expect(tg.webhookInfo(bot.token).url).toBe('');
  });

  it('replies: Telegram flood control → 429 with Retry-After, blocked customer → 502 in plain words; a manager may close any chat', { timeout: 30_000 }, async () => {
    const { t, tg } = env;
    // A fresh operator: the one of the earlier tests already holds as many chats as the limit allows.
    const op = await t.createUser();
    const bot = tg.createBot({ username: 'flood_bot' });
    const q = await t.request('POST', '/api/chat-queues', { token: manager.token, body: { name: 'Flood', routingRule: 'to-all', userIds: [op.id] } });
    await t.request('POST', '/api/chat-channels', { token: manager.token, body: { kind: 'telegram', queueId: q.body.id, token: bot.token, delivery: 'webhook' } });
    const ws = await openSocket(t.url, op.token);
    try {
      await t.request('PUT', '/api/operators/me/status', { token: op.token, body: { status: 'active' } });
      await tg.customerSends(bot.token, { from: { id: 93001, first_name: 'Fay' }, text: 'hello' });
      const offered = await ws.waitFor((e) => e.type === 'chat.offered' && e.data.customerName === 'Fay');
      const chatId = offered.data.chatId;
      expect((await t.request('POST', `/api/chats/${chatId}/accept`, { token: op.token })).status).toBe(200);
      // Somebody else's chat: not visible to a plain operator.
      const other = await t.createUser();
      expect((await t.request('GET', `/api/chats/${chatId}`, { token: other.token })).status).toBe(404);
      expect((await t.request('POST', `/api/chats/${chatId}/messages`, { token: other.token, body: { text: 'x' } })).status).toBe(404);
      tg.inject429(bot.token, { method: 'sendMessage', retryAfter: 7, times: 1 });
      const limited = await t.request('POST', `/api/chats/${chatId}/messages`, { token: op.token, body: { text: 'too fast' } });
      expect(limited.status).toBe(429);
      expect(limited.headers.get('retry-after')).toBe('7');
      tg.blockByUser(bot.token, 93001);
      const blocked = await t.request('POST', `/api/chats/${chatId}/messages`, { token: op.token, body: { text: 'are you there?' } });
      expect(blocked.status).toBe(502);
      expect(blocked.body.error.message).toMatch(/blocked the bot/);
      expect((await t.request('POST', `/api/chats/${chatId}/messages`, { token: op.token, body: { text: '' } })).status).toBe(400);
      const closed = await t.request('POST', `/api/chats/${chatId}/complete`, { token: manager.token });
      expect(closed.status).toBe(200);
      expect(closed.body).toMatchObject({ state: 'completed', completedBy: 'manager' });
      await ws.waitFor((e) => e.type === 'chat.completed' && e.data.chatId === chatId);
    } finally {
      ws.close();
    }
  });

  it('a burst of one customer\'s messages is stored in the order sent', { timeout: 30_000 }, async () => {
    const { t, tg } = env;
    const bot = tg.createBot({ username: 'burst_bot' });
    const q = await t.request('POST', '/api/chat-queues', { token: manager.token, body: { name: 'Burst', routingRule: 'to-all' } });
    const ch = await t.request('POST', '/api/chat-channels', { token: manager.token, body: { kind: 'telegram', queueId: q.body.id, token: bot.token, delivery: 'webhook' } });
    const texts = Array.from({ length: 30 }, (_, i) => `part ${i + 1}`);
    await Promise.all(texts.map((text) => tg.customerSends(bot.token, { from: { id: 94001, first_name: 'Burst' }, text })));
    const stored = await waitUntil(async () => {
      const rows = await t.db.db
        .selectFrom('chat_messages')
        .select(['text'])
        .where('channel_id', '=', ch.body.id)
        .orderBy('created_at')
        .orderBy('id')
        .execute();
      return rows.length === texts.length ? rows : null;
    });
    expect(stored.map((r) => r.text)).toEqual(texts);

    // Stored updates whose jobs are claimed newest first are still processed oldest update first.
    const order = `${ch.body.id}:94002`;
    const rows: string[] = [];
    for (let i = 20; i >= 1; i--) {
      const update = { update_id: 880000 + i, message: { message_id: 500 + i, date: 1700000000, chat: { id: 94002, type: 'private', first_name: 'Late' }, from: { id: 94002, is_bot: false, first_name: 'Late' }, text: `late ${i}` } };
      rows.push((await env.chat.channels.persistUpdate(ch.body.id, String(update.update_id), update, order))!);
    }
    for (const id of rows) await t.platform.jobs.enqueue('chat.inbound', { id, order }, { jobKey: `chat-inbound:${id}` });
    const late = await waitUntil(async () => {
      const r = await t.db.db.selectFrom('chat_messages').select(['text']).where('channel_id', '=', ch.body.id).where('text', 'like', 'late %').orderBy('created_at').orderBy('id').execute();
      return r.length === 20 ? r : null;
    });
    expect(late.map((r) => r.text)).toEqual(Array.from({ length: 20 }, (_, i) => `late ${i + 1}`));
  });

  it('a channel without chats can be deleted; its secrets go with it', async () => {
    const { t, tg } = env;
    const bot = tg.createBot({ username: 'short_lived_bot' });
    const q = await t.request('POST', '/api/chat-queues', { token: manager.token, body: { name: 'Short', routingRule: 'to-all' } });
    const ch = await t.request('POST', '/api/chat-channels', { token: manager.token, body: { kind: 'telegram', queueId: q.body.id, token: bot.token, delivery: 'webhook' } });
    expect((await t.request('DELETE', `/api/chat-channels/${ch.body.id}`, { token: manager.token })).status).toBe(204);
    expect(await t.platform.secrets.has(`chat-channel:${ch.body.id}:bot-token`)).toBe(false);
    expect(tg.webhookInfo(bot.token).url).toBe('');
    // The queue is free again.
    expect((await t.request('DELETE', `/api/chat-queues/${q.body.id}`, { token: manager.token })).status).toBe(204);
  });
});
