// Behaviour specific to the local (SQL-backed) queue: recovery of jobs orphaned by a dead process,
// leader-only repeat schedules with hand-over, pruning. The shared contract is jobs.contract.test.ts.
import { spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nowIso } from '../../src/platform/db/index.js';
import { createLocalJobQueue, type LocalJobQueueOptions } from '../../src/platform/jobs/local.js';
import { createLeases } from '../../src/platform/leases/index.js';
import { createLogger } from '../../src/platform/logger.js';
import { createTestDb, dialects, type TestDb } from '../helpers/db.js';

const logger = createLogger('silent');
const DIALECTS = await dialects();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
async function waitFor(cond: () => boolean | Promise<boolean>, what: string, timeoutMs = 20_000) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await cond()) return;
    await sleep(25);
  }
  throw new Error(`timed out waiting for ${what}`);
}

describe.each(DIALECTS)('local job queue on %s', (dialect) => {
  let t: TestDb;
  const queues: ReturnType<typeof createLocalJobQueue>[] = [];
  const make = (instanceId: string, o: Partial<LocalJobQueueOptions> = {}) => {
    const q = createLocalJobQueue({ db: t.db, dialect, logger, leases: createLeases(t.db, dialect), instanceId, pollMs: 50, ...o });
    queues.push(q);
    return q;
  };

  beforeAll(async () => {
    t = await createTestDb(dialect);
  });
  afterAll(async () => {
    for (const q of queues) await q.stop().catch(() => {});
    await t?.destroy();
  });

  it('reruns a job whose process died mid-run once its lock lapses, without using an attempt', async () => {
    const dead = make('dead-process', { lockMs: 400, stopTimeoutMs: 50 });
    let release!: () => void;
    const hung = new Promise<void>((r) => (release = r));
    let deadStarted = 0;
    dead.define('crashy', async () => {
      deadStarted++;
      await hung; // ignores the stop signal, like a process that froze or was killed
    });
    const id = await dead.enqueue('crashy', { n: 1 }, { attempts: 1 });
    await dead.start({ worker: true, scheduler: false });
    await waitFor(() => deadStarted === 1, 'the first run');
    await dead.stop(); // gives up waiting after 50 ms; the row stays active with a lapsing lock

    const row = await t.db.selectFrom('jobs').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
    expect(row.state).toBe('active');
    expect(row.locked_by).toBe('dead-process');

    const next = make('next-process', { lockMs: 400 });
    const runs: { id: string; attempt: number; last: boolean }[] = [];
    next.define('crashy', async (_d, ctx) => {
      runs.push({ id: ctx.id, attempt: ctx.attempt, last: ctx.isLastAttempt });
    });
    await next.start({ worker: true, scheduler: false });
    await waitFor(() => runs.length === 1, 'the rerun on the next process');
    expect(runs[0]).toEqual({ id, attempt: 1, last: true });
    await waitFor(async () => (await next.counts('crashy')).completed === 1, 'completion');
    const after = await t.db.selectFrom('jobs').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
    expect(after.stalled_count).toBe(1);
    // The frozen handler finally returns: it must not overwrite the other process's outcome.
    release();
    await sleep(100);
    expect((await t.db.selectFrom('jobs').select('state').where('id', '=', id).executeTakeFirstOrThrow()).state).toBe('completed');
    expect(runs).toHaveLength(1);
    await next.stop();
  });

  it('survives a real process kill (SIGKILL mid-job): the job reruns exactly once elsewhere', async () => {
    // Another OS process runs the queue over the same database and is killed while a job runs.
    const child = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        '--input-type=module',
        '-e',
        `
        import { openDatabase } from './src/platform/db/index.ts';
        import { createLocalJobQueue } from './src/platform/jobs/local.ts';
        import { createLeases } from './src/platform/leases/index.ts';
        import { createLogger } from './src/platform/logger.ts';
        const env = process.env;
        const h = await openDatabase({ dataDir: env.SWITCHBOARD_DATA_DIR, databaseUrl: env.DATABASE_URL, pgSchema: env.SWITCHBOARD_PG_SCHEMA });
        const q = createLocalJobQueue({ db: h.db, dialect: h.dialect, logger: createLogger('silent'), leases: createLeases(h.db, h.dialect), instanceId: 'child', pollMs: 50, lockMs: 600 });
        q.define('killed', async (_d, ctx) => { process.stdout.write('STARTED ' + ctx.id + '\\n'); await new Promise(() => {}); });
        await q.start({ worker: true, scheduler: false });
        process.stdout.write('READY\\n');
        `,
      ],
      { cwd: process.cwd(), env: { ...process.env, ...t.env }, stdio: ['ignore', 'pipe', 'inherit'] },
    );
    let out = '';
    child.stdout!.on('data', (c) => (out += c.toString()));
    const exited = new Promise((r) => child.once('exit', r));
    try {
      const ids: string[] = [];
      for (let i = 0; i < 3; i++) ids.push(await make('producer').enqueue('killed', { i }));
      await waitFor(() => out.includes('STARTED '), 'the child to start a job', 30_000);
      const interrupted = /STARTED (\S+)/.exec(out)![1];
      child.kill('SIGKILL');
      await exited;
      expect((await t.db.selectFrom('jobs').select('state').where('id', '=', interrupted).executeTakeFirstOrThrow()).state).toBe('active');

      const survivor = make('survivor');
      const done: string[] = [];
      survivor.define('killed', async (_d, ctx) => {
        done.push(ctx.id);
      });
      await survivor.start({ worker: true, scheduler: false });
      await waitFor(() => done.length >= 3, 'all three jobs on the surviving process');
      await sleep(300);
      expect(done.slice().sort()).toEqual(ids.slice().sort());
      const row = await t.db.selectFrom('jobs').selectAll().where('id', '=', interrupted).executeTakeFirstOrThrow();
      expect(row).toMatchObject({ state: 'completed', stalled_count: 1, attempts_made: 1 });
      await survivor.stop();
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  });

  it('fails a job that keeps killing its process instead of rerunning it forever', async () => {
    const q = make('stall-checker');
    let runs = 0;
    q.define('poison', async () => {
      runs++;
    });
    const id = await q.enqueue('poison', {});
    await t.db
      .updateTable('jobs')
      .set({ state: 'active', locked_by: 'gone', locked_until: nowIso(new Date(Date.now() - 1000)), stalled_count: 2, attempts_made: 1 })
      .where('id', '=', id)
      .execute();
    await q.start({ worker: true, scheduler: false });
    await waitFor(async () => (await q.counts('poison')).failed === 1, 'the stalled job to fail');
    expect(runs).toBe(0);
    const row = await t.db.selectFrom('jobs').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
    expect(row.last_error).toMatch(/stalled/);
    await q.stop();
  });

  it('fires repeat schedules on the scheduler leader only, once per occurrence, across a hand-over', async () => {
    const opts = { schedulerLeaseMs: 600 };
    const a = make('sched-a', opts);
    const b = make('sched-b', opts);
    const worker = make('sched-worker');
    const runs: string[] = [];
    worker.define('beat', async (_d, ctx) => {
      runs.push(ctx.id);
    });
    await worker.start({ worker: true, scheduler: false });
    await a.repeat('beat-every', 'beat', { everyMs: 200 }, {});
    await a.start({ worker: false, scheduler: true });
    await waitFor(() => a.isSchedulerLeader(), 'a to lead');
    await b.start({ worker: false, scheduler: true });
    await waitFor(() => runs.length >= 3, 'three beats');
    expect(b.isSchedulerLeader()).toBe(false);
    expect(await createLeases(t.db, dialect).holderOf('scheduler')).toBe('sched-a');

    await a.stop(); // releases the lease: b takes over
    const before = runs.length;
    await waitFor(() => b.isSchedulerLeader(), 'b to take over');
    await waitFor(() => runs.length >= before + 3, 'three more beats from b');
    await b.stop();

    const jobs = await t.db.selectFrom('jobs').select(['job_key', 'created_at']).where('name', '=', 'beat').orderBy('created_at').execute();
    const keys = jobs.map((j) => j.job_key!);
    expect(new Set(keys).size).toBe(keys.length); // no occurrence fired twice
    expect(keys.every((k) => k.startsWith('repeat:beat-every:'))).toBe(true);
    // Occurrence times are 200 ms apart: no double firing squeezed in between.
    const fireTimes = keys.map((k) => Date.parse(k.slice('repeat:beat-every:'.length))).sort((x, y) => x - y);
    for (let i = 1; i < fireTimes.length; i++) expect(fireTimes[i] - fireTimes[i - 1]).toBeGreaterThanOrEqual(200);
    await worker.stop();
    await a.removeRepeat('beat-every');
  });

  it('does not fire repeat schedules in a process without the scheduler role', async () => {
    const q = make('no-scheduler');
    let runs = 0;
    q.define('quiet', async () => {
      runs++;
    });
    await q.repeat('quiet-every', 'quiet', { everyMs: 100 }, {});
    await q.start({ worker: true, scheduler: false });
    await sleep(600);
    expect(runs).toBe(0);
    const stored = await t.db.selectFrom('job_repeats').selectAll().where('key', '=', 'quiet-every').executeTakeFirstOrThrow();
    expect(JSON.parse(stored.spec)).toEqual({ everyMs: 100 });
    await q.stop();
    await q.removeRepeat('quiet-every');
  });

  it('stores the next cron fire time from the parser', async () => {
    const q = make('cron-store');
    const before = Date.now();
    await q.repeat('nightly', 'report', { cron: '30 2 * * *' }, { k: 1 });
    const row = await t.db.selectFrom('job_repeats').selectAll().where('key', '=', 'nightly').executeTakeFirstOrThrow();
    const next = new Date(row.next_run_at);
    expect(next.getUTCHours()).toBe(2);
    expect(next.getUTCMinutes()).toBe(30);
    expect(next.getTime()).toBeGreaterThan(before);
    expect(next.getTime() - before).toBeLessThanOrEqual(24 * 3600_000);
    // Calling repeat() again with the same spec (every start does) keeps the schedule.
    await sleep(5);
    await q.repeat('nightly', 'report', { cron: '30 2 * * *' }, { k: 1 });
    const again = await t.db.selectFrom('job_repeats').selectAll().where('key', '=', 'nightly').executeTakeFirstOrThrow();
    expect(again.updated_at).toBe(row.updated_at);
    await q.removeRepeat('nightly');
  });

  it('prunes old finished jobs and keeps recent ones', async () => {
    const old = nowIso(new Date(Date.now() - 3 * 24 * 3600_000));
    const recent = nowIso();
    const base = { data: '{}', job_key: null, run_at: old, attempts_made: 1, max_attempts: 1, backoff: null, last_error: null, locked_by: null, locked_until: null, stalled_count: 0, created_at: old };
    await t.db
      .insertInto('jobs')
      .values([
        { ...base, id: crypto.randomUUID(), name: 'prune-me', state: 'completed', finished_at: old },
        { ...base, id: crypto.randomUUID(), name: 'prune-me', state: 'completed', finished_at: recent },
        { ...base, id: crypto.randomUUID(), name: 'prune-me', state: 'failed', finished_at: old },
      ])
      .execute();
    const q = make('pruner');
    await q.start({ worker: true, scheduler: false });
    await waitFor(async () => (await q.counts('prune-me')).completed === 1, 'the old completed job to go');
    // Failed jobs are kept longer (7 days by default) for diagnosis.
    expect(await q.counts('prune-me')).toMatchObject({ completed: 1, failed: 1 });
    await q.stop();
  });
});
