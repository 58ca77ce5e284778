// Process roles and scale-out, with real processes: ROLES=api and ROLES=worker,scheduler share one
// PostgreSQL schema and one Redis. A ping enqueued through the api process must be run by the
// worker process (the api process runs no jobs) and its answer must come back over the api
// process's WebSocket through Redis pub/sub. Also: the first administrator from the environment.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { createTestDb, type TestDb } from '../helpers/db.js';
import { hasPostgres, hasRedis, TEST_REDIS_URL } from '../helpers/services.js';
import { startServerProcess, type ServerProcess } from '../helpers/server-process.js';

const ready = (await hasPostgres()) && (await hasRedis());

describe.skipIf(!ready)('scale-out: api and worker processes on PostgreSQL + Redis', () => {
  let db: TestDb;
  let api: ServerProcess;
  let worker: ServerProcess;
  let workerInstance: string;
  const prefix = `sbtest-roles-${Date.now().toString(36)}`;

  beforeAll(async () => {
    db = await createTestDb('postgres', { migrate: false });
    const env = { ...db.env, REDIS_URL: TEST_REDIS_URL, SWITCHBOARD_REDIS_PREFIX: prefix, LOG_LEVEL: 'info' };
    api = await startServerProcess({ ...env, ROLES: 'api', SWITCHBOARD_ADMIN_EMAIL: 'first@example.test', SWITCHBOARD_ADMIN_PASSWORD: 'first-admin-pw' });
    worker = await startServerProcess({ ...env, ROLES: 'worker,scheduler' });
    workerInstance = JSON.parse(await worker.waitForLog(/Switchboard started/)).instanceId;
  }, 240_000);

  afterAll(async () => {
    await api?.kill();
    await worker?.kill();
    await db?.destroy();
  });

  it('the api process serves HTTP on PostgreSQL with BullMQ; the worker process listens on nothing', async () => {
    expect(api.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(worker.url).toBeNull();
    const health = await (await fetch(`${api.url}/api/health`)).json();
    expect(health).toMatchObject({ status: 'ok', storage: 'postgres', jobs: 'bullmq', roles: ['api'] });
  });

  it('creates the first administrator from SWITCHBOARD_ADMIN_EMAIL, holding every system operation', async () => {
    const res = await fetch(`${api.url}/api/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: 'first@example.test', password: 'first-admin-pw' }),
    });
    expect(res.status).toBe(200);
    const me = (await res.json()) as any;
    expect(me.operations).toEqual(['CanManageAdministration', 'CanManageChats', 'CanConnectSharedMailbox', 'CanSyncSharedMailbox']);
    expect(me.roles.map((r: any) => r.name)).toEqual(['Administrators']);
  });

  it('a job enqueued by the api process runs on the worker and answers over the api WebSocket', async () => {
    const login = await fetch(`${api.url}/api/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: 'first@example.test', password: 'first-admin-pw' }),
    });
    const cookie = (login.headers.get('set-cookie') ?? '').split(';')[0];
    const { csrfToken } = (await login.json()) as any;

    const ws = new WebSocket(`${api.url!.replace('http', 'ws')}/api/realtime`, { headers: { cookie, origin: api.url! } });
    const messages: any[] = [];
    ws.on('message', (m) => messages.push(JSON.parse(m.toString())));
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    // Wait for the hub's hello so the subscription is in place before we ask.
    await waitFor(() => messages.some((m) => m.type === 'hello'), 10_000);

    const ping = await fetch(`${api.url}/api/system/ping`, { method: 'POST', headers: { cookie, 'x-csrf-token': csrfToken } });
    expect(ping.status).toBe(202);
    const { requestId } = (await ping.json()) as any;
    const pong = await waitFor(() => messages.find((m) => m.type === 'system.pong' && m.data.requestId === requestId), 30_000);
    expect(pong.data.instanceId).toBe(workerInstance);
    expect(pong.data.roles).toEqual(['worker', 'scheduler']);
    ws.close();
  });
});

async function waitFor<T>(fn: () => T | undefined | false, timeoutMs: number): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = fn();
    if (v) return v;
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 50));
  }
}
