// GET /api/health checks what the process depends on: the database (select 1) and Redis (PING)
// when configured. 200 "ok" when they answer, 503 "degraded" with the same shape when one does not.
import { createServer } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { startTestApp } from '../helpers/app.js';
import { dialects } from '../helpers/db.js';
import { hasRedis } from '../helpers/services.js';
import { createApp } from '../../src/platform/http/app.js';
import { registerHealth } from '../../src/platform/http/health.js';
import { openDatabase } from '../../src/platform/db/index.js';
import { createLogger } from '../../src/platform/logger.js';

const withRedis = await hasRedis();
const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

describe.each(await dialects())('health on %s', (dialect) => {
  it('answers 200 ok with the database checked', async () => {
    const t = await startTestApp({ dialect });
    try {
      const r = await t.request('GET', '/api/health');
      expect(r.status).toBe(200);
      expect(r.body).toMatchObject({ status: 'ok', storage: dialect, jobs: 'local', checks: { database: 'ok' } });
      expect(r.body.checks).not.toHaveProperty('redis');
    } finally {
      await t.close();
    }
  });
});

describe.skipIf(!withRedis)('health with Redis', () => {
  it('checks Redis too when REDIS_URL is set', async () => {
    const t = await startTestApp({ redis: true });
    try {
      const r = await t.request('GET', '/api/health');
      expect(r.status).toBe(200);
      expect(r.body).toMatchObject({ status: 'ok', jobs: 'bullmq', checks: { database: 'ok', redis: 'ok' } });
    } finally {
      await t.close();
    }
  });
});

describe('degraded health', () => {
  // A real SQLite database, or a PostgreSQL URL whose server is gone.
  async function healthApp(opts: { databaseUrl?: string; redisUrl?: string }) {
    const dataDir = mkdtempSync(join(tmpdir(), 'sb-health-'));
    dirs.push(dataDir);
    const handle = await openDatabase<any>({ dataDir, databaseUrl: opts.databaseUrl });
    const app = await createApp({ logger: createLogger('silent'), bodyLimit: 1024 * 1024, authenticate: async () => null, version: 'test' });
    const close = registerHealth(app, { db: handle.db, redisUrl: opts.redisUrl, info: { storage: handle.dialect, jobs: 'local', version: 'test', roles: ['api'] } });
    await app.ready();
    return {
      app,
      async close() {
        await app.close();
        await close();
        await handle.close();
      },
    };
  }

  /** A port that accepts nothing: bind, note it, close. */
  const deadPort = () =>
    new Promise<number>((resolve) => {
      const s = createServer().listen(0, '127.0.0.1', () => {
        const p = (s.address() as { port: number }).port;
        s.close(() => resolve(p));
      });
    });

  it('a database that does not answer → 503 "degraded", same shape', async () => {
    const h = await healthApp({ databaseUrl: `postgres://postgres@127.0.0.1:${await deadPort()}/test` });
    try {
      const r = await h.app.inject({ method: 'GET', url: '/api/health' });
      expect(r.statusCode).toBe(503);
      expect(r.json()).toEqual({ status: 'degraded', storage: 'postgres', jobs: 'local', version: 'test', roles: ['api'], checks: { database: 'failed' } });
    } finally {
      await h.close();
    }
  });

  it('a Redis that does not answer → 503 "degraded" naming redis, within the check timeout', async () => {
    const h = await healthApp({ redisUrl: `redis://127.0.0.1:${await deadPort()}` });
    try {
      const started = Date.now();
      const r = await h.app.inject({ method: 'GET', url: '/api/health' });
      expect(Date.now() - started).toBeLessThan(5_000);
      expect(r.statusCode).toBe(503);
      expect(r.json()).toMatchObject({ status: 'degraded', checks: { database: 'ok', redis: 'failed' } });
      // Still degraded on the next call (the client keeps reconnecting in the background).
      expect((await h.app.inject({ method: 'GET', url: '/api/health' })).statusCode).toBe(503);
    } finally {
      await h.close();
    }
  });
});
