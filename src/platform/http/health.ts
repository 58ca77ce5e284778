// GET /api/health: answers 200 when this process can reach what it depends on (the database, and
// Redis when configured), 503 with the same shape and status "degraded" when it cannot, so a load
// balancer takes a process out of rotation when it would only answer errors.
import { Redis } from 'ioredis';
import { sql, type Kysely } from 'kysely';
import { z } from 'zod';
import type { App } from './app.js';

const CHECK_TIMEOUT_MS = 2_000;

export interface HealthOptions {
  db: Kysely<any>;
  redisUrl?: string;
  /** Fields every answer carries (storage, jobs, version, roles...). */
  info: Record<string, unknown>;
}

const checkResult = z.enum(['ok', 'failed']);
const healthView = z
  .object({
    status: z.enum(['ok', 'degraded']),
    checks: z.object({ database: checkResult, redis: checkResult.optional() }),
  })
  .passthrough();

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout;
  return Promise.race([
    p,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

/** Registers the route; returns a close function for its Redis connection. */
export function registerHealth(app: App, opts: HealthOptions): () => Promise<void> {
  // Its own connection: a health check must not queue behind (or disturb) job or pub/sub traffic.
  // No offline queue and no retries per command, so a dead Redis fails the check at once.
  const redis = opts.redisUrl
    ? new Redis(opts.redisUrl, { lazyConnect: true, enableOfflineQueue: false, maxRetriesPerRequest: 0, connectTimeout: CHECK_TIMEOUT_MS })
    : null;
  redis?.on('error', () => {}); // reported through the check, not as an unhandled 'error' event
  let connecting: Promise<void> | null = null;

  async function check(name: string, fn: () => Promise<unknown>): Promise<'ok' | 'failed'> {
    try {
      await withTimeout(fn(), CHECK_TIMEOUT_MS);
      return 'ok';
    } catch (err) {
      app.log.warn({ check: name, err: (err as Error).message }, 'health check failed');
      return 'failed';
    }
  }

  app.get(
    '/api/health',
    { config: { public: true }, schema: { tags: ['health'], response: { 200: healthView, 503: healthView } } },
    async (_request, reply) => {
      const [database, redisState] = await Promise.all([
        check('database', () => sql`select 1`.execute(opts.db)),
        redis
          ? check('redis', async () => {
              // Connect on first use (lazily, once); afterwards ioredis reconnects by itself.
              if (redis.status === 'wait' || redis.status === 'end') connecting ??= redis.connect().finally(() => (connecting = null));
              if (connecting) await connecting;
              await redis.ping();
            })
          : Promise.resolve(undefined),
      ]);
      const checks = { database, ...(redisState ? { redis: redisState } : {}) };
      const ok = database === 'ok' && redisState !== 'failed';
      return reply.status(ok ? 200 : 503).send({ ...opts.info, status: ok ? 'ok' : 'degraded', checks });
    },
  );

  return async () => {
    if (redis) redis.disconnect();
  };
}
