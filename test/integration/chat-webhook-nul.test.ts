// A customer can put a NUL character in a Telegram message (and in their name). Telegram delivers
// it as JSON "\u0000"; PostgreSQL text cannot hold it. The webhook must take the update (a refusal
// makes Telegram retry and then drop it — a lost message) and store it without the NUL.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dialects } from '../helpers/db.js';
import { startChatEnv, waitUntil, type ChatEnv } from './chat-helpers.js';

describe.each(await dialects())('Telegram webhook with NUL characters (%s)', (dialect) => {
  let env: ChatEnv;
  let manager: { id: string; token: string };
  beforeAll(async () => {
    env = await startChatEnv(dialect);
    manager = await env.t.createUser({ operations: ['CanManageChats'] });
  });
  afterAll(async () => {
    await env?.close();
  });

  it('accepts the update and stores the message and the customer without the NUL', async () => {
    const { t, tg } = env;
    const op = await t.createUser();
    const bot = tg.createBot({ username: 'nul_bot' });
    const q = await t.request('POST', '/api/chat-queues', { token: manager.token, body: { name: 'NUL', routingRule: 'to-all', userIds: [op.id] } });
    const ch = await t.request('POST', '/api/chat-channels', { token: manager.token, body: { kind: 'telegram', queueId: q.body.id, token: bot.token, delivery: 'webhook' } });
    expect(ch.status).toBe(201);
    const update = {
      update_id: 770001,
      message: { message_id: 1, date: 1700000000, chat: { id: 5151, type: 'private', first_name: 'Nu\u0000ll' }, from: { id: 5151, is_bot: false, first_name: 'Nu\u0000ll', username: 'nu\u0000ll' }, text: 'hello\u0000 there' },
    };
    const res = await tg.pushRaw(bot.token, update);
    expect(res.status).toBe(200);
    const rows = await waitUntil(async () => {
      const r = await t.db.db.selectFrom('chat_messages').select(['text', 'chat_id']).where('channel_id', '=', ch.body.id).execute();
      return r.length ? r : null;
    });
    expect(rows[0].text).toBe('hello there');

    // The customer contact made from the Telegram user carries no NUL either.
    const contact = await t.db.db.selectFrom('chats').select(['contact_id']).where('id', '=', rows[0].chat_id).executeTakeFirstOrThrow();
    const c = await t.db.db.selectFrom('crm_contacts').selectAll().where('id', '=', contact.contact_id).executeTakeFirstOrThrow();
    expect(JSON.stringify(c)).not.toContain('\\u0000');
    expect(JSON.stringify(c)).toContain('Null');
    const ident = await t.db.db.selectFrom('contact_channels').selectAll().where('contact_id', '=', contact.contact_id).execute();
    expect(JSON.stringify(ident)).not.toContain('\\u0000');

  });

  it('other API routes still refuse NUL with a 400 naming the field', async () => {
    const { t } = env;
    const res = await t.request('POST', '/api/chat-queues', { token: manager.token, body: { name: 'bad\u0000name', routingRule: 'to-all' } });
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('VALIDATION_FAILED');
  });
});
