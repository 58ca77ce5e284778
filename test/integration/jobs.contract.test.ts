// One contract for every JobQueue implementation: local/SQLite, local/PostgreSQL, BullMQ/Redis.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createJobQueue, PermanentJobError, type JobQueue } from '../../src/platform/jobs/index.js';
import { createLeases } from '../../src/platform/leases/index.js';
import { createLogger } from '../../src/platform/logger.js';
import { createTestDb, dialects, type TestDb } from '../helpers/db.js';
import { hasRedis, TEST_REDIS_URL } from '../helpers/services.js';

const logger = createLogger('silent');

interface Backend {
  label: string;
  /** Several instances over one store: true where processes can really share work. */
  shared: boolean;
  setup(): Promise<void>;
  /** A new queue instance over the same store, as another (or a restarted) process would create. */
  queue(instanceId?: string, lockMs?: number): JobQueue;
  /** Where a child process finds the same store. */
  childConfig(): Record<string, string | undefined>;
  teardown(): Promise<void>;
}

function localBackend(dialect: 'sqlite' | 'postgres'): Backend {
  let t: TestDb;
  return {
    label: `local/${dialect}`,
    shared: dialect === 'postgres',
    async setup() {
      t = await createTestDb(dialect);
    },
    queue(instanceId = `i-${randomUUID()}`, lockMs?: number) {
      return createJobQueue({
        db: t.db,
        dialect,
        logger,
        leases: createLeases(t.db, dialect),
        instanceId,
        pollMs: 100,
        stopTimeoutMs: 5000,
        lockMs,
      });
    },
    childConfig() {
      return { dataDir: t.dataDir, databaseUrl: t.env.DATABASE_URL, pgSchema: t.schema };
    },
    async teardown() {
      await t?.destroy();
    },
  };
}

function bullBackend(): Backend {
  const prefix = `sbtest-${randomUUID().slice(0, 8)}`;
  return {
    label: 'bullmq/redis',
    shared: true,
    async setup() {},
    queue(instanceId = `i-${randomUUID()}`, lockMs?: number) {
      return createJobQueue({ db: null as never, dialect: 'sqlite', redisUrl: TEST_REDIS_URL, logger, leases: null as never, instanceId, prefix, stopTimeoutMs: 5000, lockMs });
    },
    childConfig() {
      return { redisUrl: TEST_REDIS_URL, prefix };
    },
    async teardown() {
      const r = new Redis(TEST_REDIS_URL);
      let cursor = '0';
      do {
        const [next, keys] = await r.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 500);
        cursor = next;
        if (keys.length) await r.del(...keys);
      } while (cursor !== '0');
      await r.quit();
    },
  };
}

const BACKENDS: Backend[] = (await dialects()).map((d) => localBackend(d));
if (await hasRedis()) BACKENDS.push(bullBackend());

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function waitFor(cond: () => boolean | Promise<boolean>, what: string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await cond()) return;
    await sleep(25);
  }
  throw new Error(`timed out waiting for ${what}`);
}

describe.each(BACKENDS.map((b) => [b.label, b] as const))('JobQueue contract: %s', (_label, backend) => {
  const running: JobQueue[] = [];
  function queue(instanceId?: string, lockMs?: number) {
    const q = backend.queue(instanceId, lockMs);
    running.push(q);
    return q;
  }
  const unique = (base: string) => `${base}-${randomUUID().slice(0, 6)}`;

  // A child process running the same queue over the same store, to be killed mid-job. It is spawned
  // up front so its start-up (a few seconds of TypeScript loading) overlaps the other tests.
  let victim: { child: ChildProcess; name: string; out: string } | undefined;
  function spawnVictim() {
    const name = unique('killed');
    const child = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        '--input-type=module',
        '-e',
        `
        import { createJobQueue } from './src/platform/jobs/index.ts';
        import { createLeases } from './src/platform/leases/index.ts';
        import { openDatabase } from './src/platform/db/index.ts';
        import { createLogger } from './src/platform/logger.ts';
        const c = JSON.parse(process.env.JOBS_CHILD);
        let db = null, dialect = 'sqlite', leases = null;
        if (!c.redisUrl) {
          const h = await openDatabase({ dataDir: c.dataDir, databaseUrl: c.databaseUrl, pgSchema: c.pgSchema });
          db = h.db; dialect = h.dialect; leases = createLeases(db, dialect);
        }
        const q = createJobQueue({ db, dialect, redisUrl: c.redisUrl, prefix: c.prefix, logger: createLogger('silent'), leases, instanceId: 'child', pollMs: 50, lockMs: 1000 });
        q.define(c.name, async (_d, ctx) => { process.stdout.write('STARTED ' + ctx.id + ' '); await new Promise(() => {}); });
        await q.start({ worker: true, scheduler: false });
        process.stdout.write('READY ');
        `,
      ],
      { cwd: process.cwd(), env: { ...process.env, JOBS_CHILD: JSON.stringify({ ...backend.childConfig(), name }) }, stdio: ['ignore', 'pipe', 'inherit'] },
    );
    const v = { child, name, out: '' };
    child.stdout!.on('data', (c) => (v.out += c.toString()));
    return v;
  }

  beforeAll(async () => {
    await backend.setup();
    victim = spawnVictim();
  });
  afterAll(async () => {
    if (victim && victim.child.exitCode === null) victim.child.kill('SIGKILL');
    for (const q of running) await q.stop().catch(() => {});
    await backend.teardown();
  });

  it('runs an enqueued job with its data and context', async () => {
    const q = queue();
    const name = unique('echo');
    const seen: { data: unknown; id: string; name: string; attempt: number; last: boolean }[] = [];
    q.define<{ x: number; s: string }>(name, async (data, ctx) => {
      seen.push({ data, id: ctx.id, name: ctx.name, attempt: ctx.attempt, last: ctx.isLastAttempt });
    });
    await q.start({ worker: true, scheduler: false });
    const id = await q.enqueue(name, { x: 1, s: "O'Brien; DROP TABLE jobs" });
    await waitFor(() => seen.length === 1, 'the job to run');
    expect(seen[0]).toEqual({ data: { x: 1, s: "O'Brien; DROP TABLE jobs" }, id, name, attempt: 1, last: true });
    await waitFor(async () => (await q.counts(name)).completed === 1, 'the job to count as completed');
    expect(await q.counts(name)).toMatchObject({ waiting: 0, active: 0, delayed: 0, failed: 0 });
    await q.stop();
  });

  it('runs a delayed job no earlier than its delay', async () => {
    const q = queue();
    const name = unique('delayed');
    let ranAt = 0;
    q.define(name, async () => {
      ranAt = Date.now();
    });
    await q.start({ worker: true, scheduler: false });
    const t0 = Date.now();
    await q.enqueue(name, {}, { delayMs: 800 });
    expect((await q.counts(name)).delayed).toBe(1);
    await waitFor(() => ranAt > 0, 'the delayed job');
    expect(ranAt - t0).toBeGreaterThanOrEqual(780);
    await q.stop();
  });

  it('fires an interval repeat schedule until it is removed, and replaces it idempotently by key', async () => {
    const q = queue();
    const name = unique('tick');
    const key = unique('every');
    const runs: number[] = [];
    q.define<{ tag: string }>(name, async (data) => {
      expect(data).toEqual({ tag: 'v1' });
      runs.push(Date.now());
    });
    await q.start({ worker: true, scheduler: true });
    await q.repeat(key, name, { everyMs: 300 }, { tag: 'v1' });
    await q.repeat(key, name, { everyMs: 300 }, { tag: 'v1' }); // same key again: still one schedule
    await waitFor(() => runs.length >= 5, 'five repeat runs');
    // BullMQ aligns the first occurrence to the interval grid, so the first gap may be short;
    // from the second run on, three intervals of 300 ms. A duplicate schedule would halve them.
    const span = runs[4] - runs[1];
    expect(span).toBeGreaterThanOrEqual(3 * 300 - 150);
    await q.removeRepeat(key);
    await sleep(400); // let an occurrence already queued before the removal run
    const after = runs.length;
    await sleep(1000);
    expect(runs.length).toBe(after);
    await q.stop();
  });

  it('fires a cron schedule at its matching times, once each, until it is removed', async () => {
    const q = queue();
    const name = unique('cron-fire');
    const key = unique('cron-key');
    const runs: number[] = [];
    q.define<{ tag: string }>(name, async (data) => {
      expect(data).toEqual({ tag: 'c' });
      runs.push(Date.now());
    });
    await q.start({ worker: true, scheduler: true });
    // Every second (the six-field form, seconds first) keeps the test short; every minute uses the
    // same code path with one more field left out.
    await q.repeat(key, name, { cron: '* * * * * *' }, { tag: 'c' });
    await q.repeat(key, name, { cron: '* * * * * *' }, { tag: 'c' }); // same key: still one schedule
    await waitFor(() => runs.length >= 4, 'four cron runs');
    // One run per matching second: a duplicate schedule, or firing on every poll, would bunch them.
    for (let i = 2; i < 4; i++) expect(runs[i] - runs[i - 1], `gap ${i}`).toBeGreaterThanOrEqual(600);
    expect(runs[3] - runs[1]).toBeLessThan(2 * 1000 + 900);
    await q.removeRepeat(key);
    await sleep(1200); // an occurrence queued before the removal may still run
    const after = runs.length;
    await sleep(2000);
    expect(runs.length).toBe(after);
    await q.stop();
  });

  it('accepts a cron schedule, rejects a malformed one, and removes it', async () => {
    const q = queue();
    const name = unique('cron');
    q.define(name, async () => {});
    await q.start({ worker: true, scheduler: true });
    // Fire times of the parser are unit-tested (src/platform/jobs/cron.test.ts); here the queue must
    // accept a valid expression and refuse junk before storing anything.
    await q.repeat(unique('cron'), name, { cron: '0 3 * * 1-5' }, {});
    await expect(q.repeat(unique('bad'), name, { cron: '61 * * * *' }, {})).rejects.toThrow();
    await expect(q.repeat(unique('bad'), name, { cron: 'not a cron' }, {})).rejects.toThrow();
    await expect(q.repeat(unique('bad'), name, {}, {})).rejects.toThrow();
    await expect(q.repeat(unique('bad'), name, { everyMs: 0 }, {})).rejects.toThrow();
    await q.stop();
  });

  it('retries with fixed backoff and succeeds on a later attempt', async () => {
    const q = queue();
    const name = unique('retry-fixed');
    const attempts: { at: number; attempt: number; last: boolean }[] = [];
    q.define(name, async (_d, ctx) => {
      attempts.push({ at: Date.now(), attempt: ctx.attempt, last: ctx.isLastAttempt });
      if (ctx.attempt < 3) throw new Error(`boom ${ctx.attempt}`);
    });
    await q.start({ worker: true, scheduler: false });
    await q.enqueue(name, {}, { attempts: 4, backoff: { type: 'fixed', delayMs: 400 } });
    await waitFor(async () => (await q.counts(name)).completed === 1, 'completion after retries');
    expect(attempts.map((a) => a.attempt)).toEqual([1, 2, 3]);
    expect(attempts.map((a) => a.last)).toEqual([false, false, false]);
    expect(attempts[1].at - attempts[0].at).toBeGreaterThanOrEqual(380);
    expect(attempts[2].at - attempts[1].at).toBeGreaterThanOrEqual(380);
    await q.stop();
  });

  it('retries with exponential backoff and fails after the last attempt', async () => {
    const q = queue();
    const name = unique('retry-exp');
    const attempts: { at: number; attempt: number; last: boolean }[] = [];
    q.define(name, async (_d, ctx) => {
      attempts.push({ at: Date.now(), attempt: ctx.attempt, last: ctx.isLastAttempt });
      throw new Error('always');
    });
    await q.start({ worker: true, scheduler: false });
    await q.enqueue(name, {}, { attempts: 3, backoff: { type: 'exponential', delayMs: 250 } });
    await waitFor(async () => (await q.counts(name)).failed === 1, 'final failure');
    expect(attempts.map((a) => a.attempt)).toEqual([1, 2, 3]);
    expect(attempts.map((a) => a.last)).toEqual([false, false, true]);
    const gap1 = attempts[1].at - attempts[0].at;
    const gap2 = attempts[2].at - attempts[1].at;
    expect(gap1).toBeGreaterThanOrEqual(230); // 250 * 2^0
    expect(gap2).toBeGreaterThanOrEqual(480); // 250 * 2^1
    await sleep(300);
    expect(attempts).toHaveLength(3);
    await q.stop();
  });

  it('stops retrying on PermanentJobError', async () => {
    const q = queue();
    const name = unique('permanent');
    let runs = 0;
    q.define(name, async () => {
      runs++;
      throw new PermanentJobError('bad credentials');
    });
    await q.start({ worker: true, scheduler: false });
    await q.enqueue(name, {}, { attempts: 5, backoff: { type: 'fixed', delayMs: 50 } });
    await waitFor(async () => (await q.counts(name)).failed === 1, 'the permanent failure');
    await sleep(400);
    expect(runs).toBe(1);
    expect(await q.counts(name)).toMatchObject({ waiting: 0, delayed: 0, active: 0, failed: 1 });
    await q.stop();
  });

  it('honours the concurrency limit of a job name', async () => {
    const q = queue();
    const name = unique('conc');
    let inFlight = 0;
    let maxInFlight = 0;
    let done = 0;
    q.define(
      name,
      async () => {
        inFlight++;
        maxInFlight = Math.max(maxInFlight, inFlight);
        await sleep(400);
        inFlight--;
        done++;
      },
      { concurrency: 3 },
    );
    for (let i = 0; i < 10; i++) await q.enqueue(name, { i });
    await q.start({ worker: true, scheduler: false });
    await waitFor(() => done === 10, 'ten jobs');
    expect(maxInFlight).toBe(3);
    await q.stop();
  });

  it('deduplicates by job key while the job is live, and frees the key once it finished', async () => {
    const q = queue();
    const name = unique('dedup');
    const other = unique('dedup-other');
    const seen: string[] = [];
    q.define<{ v: number }>(name, async (data, ctx) => {
      seen.push(`${ctx.id}:${data.v}`);
    });
    q.define(other, async () => {});
    const a = await q.enqueue(name, { v: 1 }, { jobKey: 'sync:mailbox-1' });
    const b = await q.enqueue(name, { v: 2 }, { jobKey: 'sync:mailbox-1' });
    const c = await q.enqueue(name, { v: 3 }, { jobKey: 'sync:mailbox-2' });
    expect(b).toBe(a);
    expect(c).not.toBe(a);
    expect((await q.counts(name)).waiting).toBe(2);
    await q.start({ worker: true, scheduler: false });
    await waitFor(() => seen.length === 2, 'both distinct jobs');
    expect(seen.sort()).toEqual([`${a}:1`, `${c}:3`].sort());
    await waitFor(async () => (await q.counts(name)).completed === 2, 'completion');
    const d = await q.enqueue(name, { v: 4 }, { jobKey: 'sync:mailbox-1' });
    expect(d).not.toBe(a);
    await waitFor(() => seen.length === 3, 'the re-enqueued job');
    expect(seen).toContain(`${d}:4`);
    await q.stop();
  });

  it('survives a restart: jobs stopped mid-run or pending complete exactly once on the next instance', async () => {
    const name = unique('restart');
    const first = queue();
    let firstStarted = 0;
    let firstCompleted = 0;
    first.define<{ i: number }>(name, async (_d, ctx) => {
      firstStarted++;
      // A long job: it notices the stop and gives up.
      await new Promise<void>((resolve, reject) => {
        const t = setTimeout(resolve, 60_000);
        ctx.signal.addEventListener('abort', () => {
          clearTimeout(t);
          reject(new Error('stopping'));
        });
      });
      firstCompleted++;
    });
    const ids: string[] = [];
    for (let i = 0; i < 4; i++) ids.push(await first.enqueue(name, { i }, { attempts: 1 }));
    await first.start({ worker: true, scheduler: false });
    await waitFor(() => firstStarted === 1, 'the first job to start');
    await first.stop();
    expect(firstCompleted).toBe(0);

    const second = queue();
    const completed: string[] = [];
    second.define<{ i: number }>(name, async (_d, ctx) => {
      completed.push(ctx.id);
    });
    await second.start({ worker: true, scheduler: false });
    await waitFor(() => completed.length >= 4, 'all four jobs on the new instance');
    await sleep(500);
    expect(completed.slice().sort()).toEqual(ids.slice().sort());
    expect(await second.counts(name)).toMatchObject({ completed: 4, failed: 0, waiting: 0, active: 0, delayed: 0 });
    await second.stop();
  });

  it('survives a process kill (SIGKILL mid-job): every job completes exactly once on another process', async () => {
    const { child, name } = victim!;
    const exited = new Promise((r) => child.once('exit', r));
    try {
      await waitFor(() => victim!.out.includes('READY'), 'the child process to start', 40_000);
      const producer = queue();
      const ids: string[] = [];
      for (let i = 0; i < 3; i++) ids.push(await producer.enqueue(name, { i }, { attempts: 1 }));
      await waitFor(() => victim!.out.includes('STARTED '), 'the child to start a job');
      child.kill('SIGKILL');
      await exited;
      expect(victim!.out.match(/STARTED/g)).toHaveLength(1);

      const survivor = queue('survivor', 1000);
      const done: string[] = [];
      survivor.define(name, async (_d, ctx) => {
        done.push(ctx.id);
      });
      await survivor.start({ worker: true, scheduler: false });
      await waitFor(() => done.length >= 3, 'all three jobs on the surviving process');
      await sleep(500);
      expect(done.slice().sort()).toEqual(ids.slice().sort());
      await waitFor(async () => (await survivor.counts(name)).completed === 3, 'three completions');
      expect(await survivor.counts(name)).toMatchObject({ failed: 0, active: 0, waiting: 0, delayed: 0 });
      await survivor.stop();
      await producer.stop();
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  }, 60_000);

  it.runIf(backend.shared)('shares work between two instances without running a job twice', async () => {
    const name = unique('shared');
    const a = queue('instance-a');
    const b = queue('instance-b');
    const runs: { who: string; id: string }[] = [];
    for (const [who, q] of [['a', a], ['b', b]] as const) {
      q.define(
        name,
        async (_d, ctx) => {
          runs.push({ who, id: ctx.id });
          await sleep(40);
        },
        { concurrency: 2 },
      );
    }
    await Promise.all([a.start({ worker: true, scheduler: false }), b.start({ worker: true, scheduler: false })]);
    const ids: string[] = [];
    for (let i = 0; i < 40; i++) ids.push(await (i % 2 ? a : b).enqueue(name, { i }));
    await waitFor(() => runs.length >= 40, 'forty jobs');
    await sleep(300);
    expect(runs).toHaveLength(40);
    expect(new Set(runs.map((r) => r.id)).size).toBe(40);
    expect(runs.some((r) => r.who === 'a')).toBe(true);
    expect(runs.some((r) => r.who === 'b')).toBe(true);
    await Promise.all([a.stop(), b.stop()]);
  });
});
