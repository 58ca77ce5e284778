// Login attempt limits with REDIS_URL: every api process counts against the same window (P1,
// "rate limiting on login" at scale), and a Redis outage degrades to per-process counting
// instead of failing sign-in.
import { afterEach, describe, expect, it } from 'vitest';
import { createRedisAttemptLimiter, type AttemptLimiter } from '../../src/platform/http/rate-limit.js';
import { createLogger } from '../../src/platform/logger.js';
import { hasRedis, TEST_REDIS_URL } from '../helpers/services.js';

const READY = await hasRedis();
const logger = createLogger('silent');

describe.runIf(READY)('login limiter shared through Redis', () => {
  const open: AttemptLimiter[] = [];
  const limiter = (prefix: string, o: { max?: number; windowMs?: number; redisUrl?: string } = {}) => {
    const l = createRedisAttemptLimiter({ redisUrl: o.redisUrl ?? TEST_REDIS_URL, prefix, name: 'login-ip-email', max: o.max ?? 10, windowMs: o.windowMs ?? 60_000, logger });
    open.push(l);
    return l;
  };
  afterEach(async () => {
    await Promise.all(open.splice(0).map((l) => l.close()));
  });

  it('two api processes count against one limit: attempts split between them are refused at the 11th', async () => {
    const prefix = `sbtest:limit:${process.pid}:${Date.now()}`;
    const [a, b] = [limiter(prefix), limiter(prefix)];
    const results: (number | null)[] = [];
    for (let i = 0; i < 12; i++) results.push(await (i % 2 ? b : a).hit('203.0.113.9\nann@example.test'));
    expect(results.slice(0, 10)).toEqual(Array(10).fill(null));
    expect(results[10]).toBeGreaterThan(0);
    expect(results[10]).toBeLessThanOrEqual(60);
    expect(results[11]).toBeGreaterThan(0);
    // Another key is not held up; concurrent hits from both are all counted (no lost increments).
    await Promise.all(Array.from({ length: 20 }, (_, i) => (i % 2 ? a : b).hit('203.0.113.9\nbob@example.test')));
    expect(await a.hit('203.0.113.9\nbob@example.test')).toBeGreaterThan(0);
    expect(await b.hit('198.51.100.1\nbob@example.test')).toBeNull();
  });

  it('the window ends: after it, attempts are allowed again', async () => {
    const prefix = `sbtest:limit-window:${process.pid}:${Date.now()}`;
    const [a, b] = [limiter(prefix, { max: 2, windowMs: 600 }), limiter(prefix, { max: 2, windowMs: 600 })];
    expect(await a.hit('k')).toBeNull();
    expect(await b.hit('k')).toBeNull();
    expect(await a.hit('k')).toBe(1);
    await new Promise((r) => setTimeout(r, 750));
    expect(await b.hit('k')).toBeNull();
  });

  it('when Redis does not answer, sign-in is still limited, per process', async () => {
    const l = limiter('sbtest:unreachable', { max: 3, redisUrl: 'redis://127.0.0.1:1' });
    const results: (number | null)[] = [];
    for (let i = 0; i < 5; i++) results.push(await l.hit('k'));
    expect(results.slice(0, 3)).toEqual([null, null, null]);
    expect(results[3]).toBeGreaterThan(0);
  });
});
