// Deleting a channel (H6) on SQLite and PostgreSQL: refused with CHANNEL_HAS_CHATS (409) once it
// has a chat, and race-free — a chat arriving while the delete is under way gives a 409 or finds
// the channel gone, never a 500 from the foreign key.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dialects } from '../helpers/db.js';
import { newId, nowIso, sql } from '../../src/platform/db/index.js';
import { startChatEnv, waitUntil, type ChatEnv } from './chat-helpers.js';
import type { TestUser } from '../helpers/app.js';

const DIALECTS = await dialects();

describe.each(DIALECTS)('deleting a chat channel on %s', (dialect) => {
  let env: ChatEnv;
  let manager: TestUser;
  let queueId: string;
  beforeAll(async () => {
    env = await startChatEnv(dialect);
    manager = await env.t.createUser({ operations: ['CanManageChats'] });
    queueId = (await env.t.request('POST', '/api/chat-queues', { token: manager.token, body: { name: 'Deletes', routingRule: 'to-all' } })).body.id;
  });
  afterAll(async () => {
    await env?.close();
  });

  async function channel(username: string) {
    const bot = env.tg.createBot({ username });
    const ch = await env.t.request('POST', '/api/chat-channels', { token: manager.token, body: { kind: 'telegram', queueId, token: bot.token, delivery: 'webhook' } });
    expect(ch.status).toBe(201);
    return { bot, id: ch.body.id as string };
  }
  const del = (id: string) => env.t.request('DELETE', `/api/chat-channels/${id}`, { token: manager.token });
  const chatsOf = (id: string) => env.t.db.db.selectFrom('chats').select('id').where('channel_id', '=', id).execute();

  it('a channel with chats: 409 CHANNEL_HAS_CHATS in plain words, and it stays', async () => {
    const { bot, id } = await channel('has_chats_bot');
    await env.tg.customerSends(bot.token, { from: { id: 610001, first_name: 'Hana' }, text: 'hello' });
    await waitUntil(async () => (await chatsOf(id)).length === 1, 10_000, 'the chat');
    const r = await del(id);
    expect(r.status).toBe(409);
    expect(r.body.error.code).toBe('CHANNEL_HAS_CHATS');
    expect(r.body.error.message).toMatch(/Deactivate it instead/);
    expect((await env.t.request('GET', `/api/chat-channels/${id}`, { token: manager.token })).status).toBe(200);
  });

  it('a customer writing while the delete talks to Telegram: the delete succeeds, the late delivery gets a 404, not a 500', { timeout: 30_000 }, async () => {
    const { bot, id } = await channel('late_writer_bot');
    // Hold Telegram's deleteWebhook: the delete is under way, the webhook still registered.
    const hold = env.tg.holdMethod(bot.token, 'deleteWebhook');
    const deleting = del(id);
    try {
      await waitUntil(async () => hold.waiting() === 1, 10_000, 'the held deleteWebhook');
      await env.tg.customerSends(bot.token, { from: { id: 620001, first_name: 'Lou' }, text: 'just in time?' });
      // Either the message opened a chat, or the webhook answered it was gone.
      await waitUntil(async () => (await chatsOf(id)).length > 0 || /404/.test(env.tg.webhookInfo(bot.token).last_error_message ?? ''), 10_000, 'the delivery outcome');
    } finally {
      hold.release();
    }
    const r = await deleting;
    expect(r.status).toBe(204);
    expect(await chatsOf(id)).toEqual([]);
    expect(env.tg.webhookInfo(bot.token).last_error_message).toMatch(/404/);
    expect(env.tg.webhookInfo(bot.token).url).toBe('');
  });

  it.runIf(dialect === 'postgres')('PostgreSQL: a chat committing while the delete waits for the channel lock → 409, not a foreign-key 500', { timeout: 30_000 }, async () => {
    const { id } = await channel('racing_bot');
    const db = env.t.db.db;
    let deleting: ReturnType<typeof del> | null = null;
    await db.transaction().execute(async (trx) => {
      // A chat is being opened (its insert holds a key-share lock on the channel row)…
      const at = nowIso();
      const chatId = newId();
      await trx
        .insertInto('chats')
        .values({
          id: chatId, channel_id: id, queue_id: queueId, contact_id: null, external_chat_id: 'race-1', customer_name: 'Racer', customer_username: null, state: 'queued',
          operator_id: null, open_key: `${id}:race-1`, created_at: at, offered_at: null, accepted_at: null, completed_at: null, completed_by: null,
          last_incoming_at: at, last_outgoing_at: null, last_message_at: at,
        })
        .execute();
      // …when the administrator deletes the channel; the chat commits once the delete waits for it.
      deleting = del(id);
      const end = Date.now() + 10_000;
      for (;;) {
        const w = await sql<{ n: number }>`select count(*)::int as n from pg_stat_activity where wait_event_type = 'Lock' and datname = current_database() and query ilike '%chat_channels%'`.execute(db);
        if (w.rows[0].n > 0) break;
        if (Date.now() > end) throw new Error('the delete never waited for the channel row');
        await new Promise((r) => setTimeout(r, 10));
      }
    });
    const r = await deleting!;
    expect(r.status).toBe(409);
    expect(r.body.error.code).toBe('CHANNEL_HAS_CHATS');
    expect((await chatsOf(id)).length).toBe(1);
    expect((await env.t.request('GET', `/api/chat-channels/${id}`, { token: manager.token })).status).toBe(200);
  });
});
