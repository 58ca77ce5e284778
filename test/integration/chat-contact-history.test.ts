// H10: the operator working with a customer sees that customer's earlier chats (history with the
// contact), whoever handled them — and nobody else's chats. GET /api/chats?contactId= lists them;
// GET /api/chats/{id} opens one. Access ends with the current chat.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dialects } from '../helpers/db.js';
import { startChatEnv, waitUntil, type ChatEnv } from './chat-helpers.js';

describe.each(await dialects())('a customer\'s chat history (%s)', (dialect) => {
  let env: ChatEnv;
  beforeAll(async () => {
    env = await startChatEnv(dialect);
  });
  afterAll(async () => {
    await env?.close();
  });

  it('the operator of the current chat lists and opens the customer\'s earlier chats; others cannot', { timeout: 45_000 }, async () => {
    const { tg, t } = env;
    const bot = tg.createBot({ username: 'history_bot' });
    const manager = await t.createUser({ operations: ['CanManageChats'] });
    const first = await t.createUser({ name: 'First Operator' });
    const second = await t.createUser({ name: 'Second Operator' });
    const outsider = await t.createUser({ name: 'Outsider' });
    const q = await t.request('POST', '/api/chat-queues', { token: manager.token, body: { name: 'History', routingRule: 'to-all', userIds: [first.id] } });
    const ch = await t.request('POST', '/api/chat-channels', { token: manager.token, body: { kind: 'telegram', queueId: q.body.id, token: bot.token, delivery: 'webhook' } });
    expect(ch.status).toBe(201);
    for (const u of [first, second]) await t.request('PUT', '/api/operators/me/status', { token: u.token, body: { status: 'active' } });

    const customer = { id: 81001, first_name: 'Hanna' };
    const offeredTo = async (u: { token: string }, not?: string) =>
      waitUntil(async () => {
        const r = await t.request('GET', '/api/chats?state=offered&mine=true', { token: u.token });
        return r.body.items.find((c: { id: string }) => c.id !== not) as { id: string; contactId: string } | undefined;
      });

    // Chat 1: handled and completed by the first operator.
    await tg.customerSends(bot.token, { from: customer, text: 'first visit' });
    const c1 = await offeredTo(first);
    expect((await t.request('POST', `/api/chats/${c1.id}/accept`, { token: first.token })).status).toBe(200);
    expect((await t.request('POST', `/api/chats/${c1.id}/messages`, { token: first.token, body: { text: 'answered' } })).status).toBe(201);
    expect((await t.request('POST', `/api/chats/${c1.id}/complete`, { token: first.token })).status).toBe(200);
    // The second operator never had the first chat: they cannot see it.
    expect((await t.request('GET', `/api/chats/${c1.id}`, { token: second.token })).status).toBe(404);
    expect((await t.request('GET', `/api/chats?contactId=${c1.contactId}`, { token: second.token })).body.items).toEqual([]);
    // The queue now has only the second operator.
    expect((await t.request('PATCH', `/api/chat-queues/${q.body.id}`, { token: manager.token, body: { userIds: [second.id] } })).status).toBe(200);

    // Chat 2: the same customer writes again; the second operator takes it.
    await tg.customerSends(bot.token, { from: customer, text: 'second visit' });
    const c2 = await offeredTo(second, c1.id);
    expect(c2.contactId).toBe(c1.contactId);
    expect((await t.request('POST', `/api/chats/${c2.id}/accept`, { token: second.token })).status).toBe(200);

    const history = await t.request('GET', `/api/chats?contactId=${c1.contactId}`, { token: second.token });
    expect(history.status).toBe(200);
    expect(history.body.items.map((c: { id: string }) => c.id)).toEqual([c2.id, c1.id]);
    const old = await t.request('GET', `/api/chats/${c1.id}`, { token: second.token });
    expect(old.status).toBe(200);
    expect(old.body.messages.map((m: { text: string }) => m.text)).toEqual(['first visit', 'answered']);
    // Someone not working with this customer sees nothing of it.
    expect((await t.request('GET', `/api/chats/${c1.id}`, { token: outsider.token })).status).toBe(404);
    expect((await t.request('GET', `/api/chats?contactId=${c1.contactId}`, { token: outsider.token })).body.items).toEqual([]);
    // A chat manager sees the whole history.
    expect((await t.request('GET', `/api/chats?contactId=${c1.contactId}`, { token: manager.token })).body.items).toHaveLength(2);
    // Bad input is a 400, not a 500.
    expect((await t.request('GET', '/api/chats?contactId=%27%3B--', { token: second.token })).status).toBe(400);

    // Once the second chat is completed, the earlier one is out of reach again.
    expect((await t.request('POST', `/api/chats/${c2.id}/complete`, { token: second.token })).status).toBe(200);
    expect((await t.request('GET', `/api/chats/${c1.id}`, { token: second.token })).status).toBe(404);
    const after = await t.request('GET', `/api/chats?contactId=${c1.contactId}`, { token: second.token });
    expect(after.body.items.map((c: { id: string }) => c.id)).toEqual([c2.id]);
  });
});
