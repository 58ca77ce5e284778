// Fixed-window attempt counters per key (login: per client address, and per address + email).
// @fastify/rate-limit runs only one limiter per request, and login needs two keys, one of them
// from the parsed body; this is small enough to own. With REDIS_URL the counts live in Redis, so
// every api process behind a load balancer counts against the same limit; without it (the
// embedded single process) they live in memory.
import { createHash } from 'node:crypto';
import { Redis } from 'ioredis';
import type { Logger } from '../logger.js';

export interface AttemptLimiter {
  /** Counts an attempt; resolves to the seconds to wait when the key is over its limit, else null. */
  hit(key: string, now?: number): Promise<number | null>;
  close(): Promise<void>;
}

export interface LimiterOptions {
  max: number;
  windowMs: number;
}

export function createMemoryAttemptLimiter(opts: LimiterOptions & { maxKeys?: number }): AttemptLimiter & { hitSync(key: string, now?: number): number | null } {
  const maxKeys = opts.maxKeys ?? 100_000;
  // Insertion order = window start order, so the oldest windows are the first entries.
  const windows = new Map<string, { count: number; resetAt: number }>();

  function evict(now: number) {
    for (const [key, w] of windows) {
      if (w.resetAt > now && windows.size <= maxKeys) break;
      windows.delete(key);
    }
  }

  function hitSync(key: string, now = Date.now()): number | null {
    let w = windows.get(key);
    if (!w || w.resetAt <= now) {
      windows.delete(key);
      w = { count: 0, resetAt: now + opts.windowMs };
      windows.set(key, w);
      // A flood of distinct keys (spoofed emails) must not grow memory without bound.
      if (windows.size > maxKeys) evict(now);
    }
    w.count++;
    return w.count > opts.max ? Math.max(1, Math.ceil((w.resetAt - now) / 1000)) : null;
  }

  return { hitSync, hit: async (key, now) => hitSync(key, now), close: async () => {} };
}

// INCR and the window's expiry in one step, so two processes never both start a window.
const HIT_SCRIPT = `
local c = redis.call('INCR', KEYS[1])
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then
  redis.call('PEXPIRE', KEYS[1], ARGV[1])
  ttl = tonumber(ARGV[1])
end
return {c, ttl}
`;

/**
 * Counts in Redis under `{prefix}:ratelimit:{name}:{sha256(key)}` — hashed, so addresses and
 * emails are not written to Redis in clear. When Redis does not answer, attempts are counted in
 * this process's memory instead (sign-in keeps working and stays limited, per process).
 */
export function createRedisAttemptLimiter(opts: LimiterOptions & { redisUrl: string; prefix: string; name: string; logger: Logger }): AttemptLimiter {
  // No offline queue and a short command timeout: while Redis is away a sign-in must not wait
  // for reconnects; ioredis keeps reconnecting in the background.
  const redis = new Redis(opts.redisUrl, { lazyConnect: true, maxRetriesPerRequest: 0, enableOfflineQueue: false, commandTimeout: 1000 });
  redis.on('error', () => {}); // reported below, once per outage, where it matters
  const firstConnect = redis.connect().catch(() => {});
  const connecting = () => redis.status === 'wait' || redis.status === 'connecting' || redis.status === 'connect';
  const local = createMemoryAttemptLimiter(opts);
  let degraded = false;
  return {
    async hit(key, now) {
      const k = `${opts.prefix}:ratelimit:${opts.name}:${createHash('sha256').update(key).digest('hex').slice(0, 40)}`;
      try {
        // Just started: wait a moment for the first connection rather than count apart.
        if (connecting()) await Promise.race([firstConnect, new Promise((r) => setTimeout(r, 1000).unref())]);
        if (redis.status !== 'ready') throw new Error(`Redis connection is ${redis.status}`);
        const [count, ttl] = (await redis.eval(HIT_SCRIPT, 1, k, String(opts.windowMs))) as [number, number];
        if (degraded) {
          degraded = false;
          opts.logger.info({ limiter: opts.name }, 'rate limiter: Redis answers again; counting there');
        }
        return count > opts.max ? Math.max(1, Math.ceil(ttl / 1000)) : null;
      } catch (err) {
        if (!degraded) {
          degraded = true;
          opts.logger.warn({ limiter: opts.name, err: (err as Error).message }, 'rate limiter: Redis does not answer; counting in this process until it does');
        }
        return local.hitSync(key, now);
      }
    },
    async close() {
      await redis.quit().catch(() => redis.disconnect());
    },
  };
}

export function createAttemptLimiter(opts: LimiterOptions & { name: string; redisUrl?: string; prefix?: string; logger?: Logger }): AttemptLimiter {
  if (opts.redisUrl && opts.logger) return createRedisAttemptLimiter({ ...opts, redisUrl: opts.redisUrl, prefix: opts.prefix ?? 'switchboard', logger: opts.logger });
  return createMemoryAttemptLimiter(opts);
}
