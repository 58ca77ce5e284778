// Queue mode across processes (H2, H6, H10): two ROLES=api processes and one ROLES=worker,scheduler
// process, one PostgreSQL schema and one Redis. The webhook lands on the first api process, the
// BullMQ job runs in the worker, and chat.offered travels through the Redis event bus to both
// operators' WebSockets — one on each api process; the accept on one api process withdraws the
// offer from the operator on the other, and a user outside the queue hears nothing.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { createTestDb, type TestDb } from '../helpers/db.js';
import { hasPostgres, hasRedis, TEST_REDIS_URL } from '../helpers/services.js';
import { startServerProcess, type ServerProcess } from '../helpers/server-process.js';
import { startTelegramEmulator, type TelegramEmulator } from '../../src/emulators/telegram/index.js';
import { createIdentityService } from '../../src/modules/identity/index.js';
import { openSocket } from './chat-helpers.js';

const READY = (await hasPostgres()) && (await hasRedis());

describe.runIf(READY)('chat in queue mode with separate api and worker processes', () => {
  let tdb: TestDb;
  let tg: TelegramEmulator;
  let api: ServerProcess;
  let api2: ServerProcess;
  let worker: ServerProcess;
  let adminToken: string;
  let op: { id: string; token: string };
  let op2: { id: string; token: string };
  let outsider: { id: string; token: string };
  const prefix = `sbtest:chatqm:${process.pid}:${Date.now().toString(36)}`;

  beforeAll(async () => {
    tdb = await createTestDb('postgres');
    tg = await startTelegramEmulator();
    const identity = createIdentityService(tdb.db);
    const admin = await identity.createAdmin(`qm-admin-${Date.now()}@example.test`, 'admin-password-1');
    adminToken = (await identity.createApiToken(admin.id, 'qm')).token;
    const u = await identity.createUser({ email: `qm-op-${Date.now()}@example.test`, name: 'Queue Mode Operator' });
    op = { id: u.id, token: (await identity.createApiToken(u.id, 'qm')).token };
    const u2 = await identity.createUser({ email: `qm-op2-${Date.now()}@example.test`, name: 'Second Operator' });
    op2 = { id: u2.id, token: (await identity.createApiToken(u2.id, 'qm')).token };
    const u3 = await identity.createUser({ email: `qm-out-${Date.now()}@example.test`, name: 'Not In The Queue' });
    outsider = { id: u3.id, token: (await identity.createApiToken(u3.id, 'qm')).token };
    const env = {
      ...tdb.env,
      REDIS_URL: TEST_REDIS_URL,
      SWITCHBOARD_REDIS_PREFIX: prefix,
      TELEGRAM_API_ROOT: tg.url,
      LOG_LEVEL: 'info',
    };
    [api, api2, worker] = await Promise.all([
      startServerProcess({ ...env, ROLES: 'api' }),
      startServerProcess({ ...env, ROLES: 'api' }),
      startServerProcess({ ...env, ROLES: 'worker,scheduler' }),
    ]);
  }, 150_000);

  afterAll(async () => {
    await api?.kill();
    await api2?.kill();
    await worker?.kill();
    await tg?.close();
    await tdb?.destroy();
    // BullMQ and the event bus keep their keys under our prefix: remove them.
    const r = new Redis(TEST_REDIS_URL);
    try {
      let cursor = '0';
      do {
        const [next, keys] = await r.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 500);
        cursor = next;
        if (keys.length) await r.del(...keys);
      } while (cursor !== '0');
    } finally {
      r.disconnect();
    }
  });

  it('customer message → worker → chat.offered on both api processes → accept withdraws the other → reply reaches Telegram', { timeout: 90_000 }, async () => {
    const url = api.url!;
    const call = async (method: string, path: string, token: string, body?: unknown, base = url) => {
      const r = await fetch(base + path, { method, headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}) }, body: body ? JSON.stringify(body) : undefined });
      return { status: r.status, body: (await r.json().catch(() => null)) as any };
    };
    expect((await call('PUT', '/api/system-settings/SiteUrl', adminToken, { value: url })).status).toBe(200);
    const bot = tg.createBot({ username: 'queue_mode_bot' });
    const q = await call('POST', '/api/chat-queues', adminToken, { name: 'QM', routingRule: 'to-all', userIds: [op.id, op2.id] });
    expect(q.status).toBe(201);
    const ch = await call('POST', '/api/chat-channels', adminToken, { kind: 'telegram', queueId: q.body.id, token: bot.token, delivery: 'webhook' });
    expect(ch.status).toBe(201);
    expect(ch.body.mode).toBe('webhook');
    const ws = await openSocket(url, op.token);
    const ws2 = await openSocket(api2.url!, op2.token);
    const wsOut = await openSocket(api2.url!, outsider.token);
    try {
      expect((await call('PUT', '/api/operators/me/status', op.token, { status: 'active' })).status).toBe(200);
      expect((await call('PUT', '/api/operators/me/status', op2.token, { status: 'active' }, api2.url!)).status).toBe(200);
      expect((await call('PUT', '/api/operators/me/status', outsider.token, { status: 'active' }, api2.url!)).status).toBe(200);
      await tg.customerSends(bot.token, { from: { id: 66001, first_name: 'Quinn' }, text: 'queue mode hello' });
      const offered = await ws.waitFor((e) => e.type === 'chat.offered', 30_000);
      const offered2 = await ws2.waitFor((e) => e.type === 'chat.offered', 30_000);
      expect(offered2.data.chatId).toBe(offered.data.chatId);
      const acc = await call('POST', `/api/chats/${offered.data.chatId}/accept`, op.token);
      expect(acc.status).toBe(200);
      await ws.waitFor((e) => e.type === 'chat.assigned', 15_000);
      // The accept ran on the first api process; the other operator, on the second, loses the offer.
      const gone = await ws2.waitFor((e) => e.type === 'chat.withdrawn' && e.data.chatId === offered.data.chatId, 15_000);
      expect(gone.data.reason).toBe('taken');
      // The next customer message is processed by the worker and pushed to the operator through Redis.
      await tg.customerSends(bot.token, { from: { id: 66001, first_name: 'Quinn' }, text: 'are you there?' });
      const msg = await ws.waitFor((e) => e.type === 'chat.message' && e.data.text === 'are you there?', 30_000);
      expect(msg.data.chatId).toBe(offered.data.chatId);
      const reply = await call('POST', `/api/chats/${offered.data.chatId}/messages`, op.token, { text: 'Yes, here!' });
      expect(reply.status).toBe(201);
      await tg.waitForSent(bot.token, (m) => m.text === 'Yes, here!', 10_000);
      // Only the operator working the chat heard the customer's second message; the outsider heard nothing at all.
      await new Promise((r) => setTimeout(r, 300));
      expect(ws2.events.filter((e) => e.type.startsWith('chat.')).map((e) => e.type)).toEqual(['chat.offered', 'chat.withdrawn']);
      expect(wsOut.events.filter((e) => e.type.startsWith('chat.'))).toEqual([]);
      // The job really ran in the worker process: its row is in BullMQ, not the local jobs table.
      const local = await tdb.db.selectFrom('jobs').select('id').where('name', '=', 'chat.inbound').execute();
      expect(local).toEqual([]);
    } finally {
      ws.close();
      ws2.close();
      wsOut.close();
    }
  });
});
