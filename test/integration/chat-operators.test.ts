// The chat manager's operator list (H1, H3): who may serve a queue, with their status and load —
// for managers who hold CanManageChats but not CanManageAdministration (the user list needs it).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dialects } from '../helpers/db.js';
import { startChatEnv, type ChatEnv } from './chat-helpers.js';

describe.each(await dialects())('GET /api/operators on %s', (dialect) => {
  let env: ChatEnv;
  beforeAll(async () => {
    env = await startChatEnv(dialect);
  });
  afterAll(async () => {
    await env?.close();
  });

  it('lists active users with operator status and load to a chat manager; refuses others; validates', { timeout: 60_000 }, async () => {
    const { t, tg } = env;
    const manager = await t.createUser({ operations: ['CanManageChats'] });
    const plain = await t.createUser();
    const tag = `zed${Date.now().toString(36)}`;
    const busy = await t.createUser({ name: `Busy ${tag}` });
    const idle = await t.createUser({ name: `Idle ${tag}` });
    const gone = await t.createUser({ name: `Gone ${tag}` });
    expect((await t.request('PATCH', `/api/users/${gone.id}`, { token: t.adminToken, body: { isActive: false } })).status).toBe(200);

    // Busy takes a chat.
    const bot = tg.createBot({ username: `ops_${tag}_bot` });
    const q = await t.request('POST', '/api/chat-queues', { token: manager.token, body: { name: `Ops ${tag}`, routingRule: 'least-busy', userIds: [busy.id] } });
    await t.request('POST', '/api/chat-channels', { token: manager.token, body: { kind: 'telegram', queueId: q.body.id, token: bot.token, delivery: 'webhook' } });
    await t.request('PUT', '/api/operators/me/status', { token: busy.token, body: { status: 'active' } });
    await tg.customerSends(bot.token, { from: { id: 99001, first_name: 'Kim' }, text: 'hello' });
    let chatId = '';
    for (let i = 0; i < 100 && !chatId; i++) {
      const l = await t.request('GET', '/api/chats?state=offered&mine=true', { token: busy.token });
      chatId = l.body.items?.[0]?.id ?? '';
      if (!chatId) await new Promise((r) => setTimeout(r, 100));
    }
    expect((await t.request('POST', `/api/chats/${chatId}/accept`, { token: busy.token })).status).toBe(200);

    // The manager cannot list users, but can list operators.
    expect((await t.request('GET', '/api/users', { token: manager.token })).status).toBe(403);
    const r = await t.request('GET', `/api/operators?q=${tag}`, { token: manager.token });
    expect(r.status).toBe(200);
    const byName = Object.fromEntries(r.body.items.map((o: any) => [o.name, o]));
    expect(Object.keys(byName).sort()).toEqual([`Busy ${tag}`, `Idle ${tag}`]); // the deactivated one is not offered
    expect(byName[`Busy ${tag}`]).toMatchObject({ userId: busy.id, status: 'active', chatsInProgress: 1, pendingOffers: 0, email: busy.email });
    expect(byName[`Idle ${tag}`]).toMatchObject({ userId: idle.id, status: 'inactive', chatsInProgress: 0 });
    expect(byName[`Busy ${tag}`].limit).toBeGreaterThan(0);
    expect(JSON.stringify(r.body)).not.toMatch(/password|hash/i);

    const refused = await t.request('GET', '/api/operators', { token: plain.token });
    expect(refused.status).toBe(403);
    expect(JSON.stringify(refused.body)).toContain('CanManageChats');
    const bad = await t.request('GET', '/api/operators?limit=0', { token: manager.token });
    expect(bad.status).toBe(400);
    expect(bad.body.error.code).toBe('VALIDATION_FAILED');
  });
});
