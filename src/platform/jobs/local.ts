// The embedded job queue: jobs are rows in the SQL database, run by this process.
//
// Durability: a job is a row before enqueue() returns. A worker claims runnable rows with ONE
// statement (UPDATE ... WHERE id IN (SELECT ... FOR UPDATE SKIP LOCKED) RETURNING *), so several
// processes on one PostgreSQL database share the work without running a job twice; on SQLite the
// statement is atomic by itself. While a job runs its lock (locked_until) is renewed; when the
// process dies the lock lapses and the next poll of any process puts the job back to waiting —
// that is how a job survives a restart. Handlers should be idempotent: a job interrupted by a crash
// runs again.
//
// Repeat schedules live in job_repeats. Only the holder of the `scheduler` lease fires them, and it
// moves next_run_at with a compare-and-set in the same transaction as the enqueue, so a leadership
// hand-over never fires one occurrence twice (the job key `repeat:<key>:<fireTime>` guards as well).
import type { DB } from '../../schema.js';
import { forUpdate, fromJson, isUniqueViolation, newId, nowIso, toJson, type Dialect } from '../db/index.js';
import type { Leases } from '../leases/types.js';
import type { Logger } from '../logger.js';
import { nextRunAfter, parseCron } from './cron.js';
import type { JobsTable } from './tables.js';
import {
  PermanentJobError,
  type BackoffOptions,
  type DefineOptions,
  type EnqueueOptions,
  type JobHandler,
  type JobQueue,
  type RepeatSpec,
} from './types.js';

export interface LocalJobQueueOptions {
  db: DB;
  dialect: Dialect;
  logger: Logger;
  leases: Leases;
  instanceId: string;
  /** How often to look for runnable jobs when nothing wakes us (ms). */
  pollMs?: number;
  /** How long a running job's lock lasts without renewal (ms); an orphaned job is retried after this. */
  lockMs?: number;
  /** How long stop() waits for running handlers after signalling them (ms). */
  stopTimeoutMs?: number;
  /** Lease name for repeat-schedule leadership. */
  schedulerLease?: string;
  /** Scheduler lease time to live (ms); renewed every third of it. */
  schedulerLeaseMs?: number;
  /** Completed jobs are deleted after this long (ms); failed ones after 7 times as long. */
  keepFinishedMs?: number;
  /** At most this many completed jobs are kept. */
  keepCompleted?: number;
}

const LIVE_STATES = ['waiting', 'delayed', 'active'] as const;
/** After this many orphanings (the process died while running it) a job fails instead of looping. */
const MAX_STALLS = 3;

type JobRow = JobsTable;

interface Definition {
  handler: JobHandler;
  concurrency: number;
  running: number;
}

export function validateRepeatSpec(spec: RepeatSpec): void {
  const hasEvery = spec.everyMs !== undefined;
  const hasCron = spec.cron !== undefined;
  if (hasEvery === hasCron) throw new Error('A repeat spec needs exactly one of everyMs and cron.');
  if (hasEvery && !(Number.isFinite(spec.everyMs) && spec.everyMs! >= 1)) throw new Error('everyMs must be a positive number.');
  if (hasCron) parseCron(spec.cron!);
}

export function backoffDelay(backoff: BackoffOptions | null | undefined, attempt: number): number {
  if (!backoff) return 0;
  if (backoff.type === 'exponential') return backoff.delayMs * 2 ** Math.max(0, attempt - 1);
  return backoff.delayMs;
}

function errorText(err: unknown): string {
  const e = err as { message?: unknown };
  const text = typeof e?.message === 'string' ? e.message : String(err);
  return text.slice(0, 2000);
}

function isPermanent(err: unknown): boolean {
  return err instanceof PermanentJobError || (err as { permanent?: unknown })?.permanent === true;
}

export function createLocalJobQueue(opts: LocalJobQueueOptions): JobQueue & { isSchedulerLeader(): boolean } {
  const { db, dialect, logger, leases, instanceId } = opts;
  const pollMs = opts.pollMs ?? 250;
  const lockMs = opts.lockMs ?? 30_000;
  const stopTimeoutMs = opts.stopTimeoutMs ?? 10_000;
  const schedulerLease = opts.schedulerLease ?? 'scheduler';
  const schedulerLeaseMs = opts.schedulerLeaseMs ?? 15_000;
  const keepFinishedMs = opts.keepFinishedMs ?? 24 * 3600_000;
  const keepCompleted = opts.keepCompleted ?? 1000;
  const log = logger.child({ component: 'jobs', kind: 'local' });

  const definitions = new Map<string, Definition>();
  const inFlight = new Set<Promise<void>>();
  const heartbeats = new Set<NodeJS.Timeout>();
  let roles = { worker: false, scheduler: false };
  let started = false;
  let stopping = false;
  let abort = new AbortController();
  let loopDone: Promise<void> | null = null;
  let wakeSleep: (() => void) | null = null;
  let wakeRequested = false;
  let leader = false;
  let leaseCheckedAt = 0;
  let recoveredAt = 0;
  let prunedAt = 0;

  function wake() {
    wakeRequested = true;
    wakeSleep?.();
  }

  function sleep(ms: number): Promise<void> {
    if (wakeRequested) {
      wakeRequested = false;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        wakeSleep = null;
        wakeRequested = false;
        resolve();
      }
      wakeSleep = done;
    });
  }

  async function insertJob(name: string, data: unknown, o: EnqueueOptions = {}): Promise<string> {
    const now = Date.now();
    const delay = Math.max(0, o.delayMs ?? 0);
    const row: JobRow = {
      id: newId(),
      name,
      data: toJson(data),
      job_key: o.jobKey ?? null,
      state: delay > 0 ? 'delayed' : 'waiting',
      run_at: nowIso(new Date(now + delay)),
      attempts_made: 0,
      max_attempts: Math.max(1, Math.floor(o.attempts ?? 1)),
      backoff: o.backoff ? toJson(o.backoff) : null,
      last_error: null,
      locked_by: null,
      locked_until: null,
      stalled_count: 0,
      created_at: nowIso(new Date(now)),
      finished_at: null,
    };
    // Two tries: the live job holding the key may finish between our failed insert and the lookup.
    for (let i = 0; ; i++) {
      try {
        await db.insertInto('jobs').values(row).execute();
        return row.id;
      } catch (err) {
        if (!o.jobKey || !isUniqueViolation(err)) throw err;
        const live = await db
          .selectFrom('jobs')
          .select('id')
          .where('name', '=', name)
          .where('job_key', '=', o.jobKey)
          .where('state', 'in', LIVE_STATES)
          .executeTakeFirst();
        if (live) return live.id;
        if (i >= 2) throw err;
      }
    }
  }

  /** Claims up to `limit` runnable jobs of one name for this process, atomically. */
  async function claim(name: string, limit: number): Promise<JobRow[]> {
    const now = nowIso();
    const lockedUntil = nowIso(new Date(Date.now() + lockMs));
    const candidates = forUpdate(
      db
        .selectFrom('jobs')
        .select('id')
        .where('name', '=', name)
        .where('state', 'in', ['waiting', 'delayed'])
        .where('run_at', '<=', now)
        .orderBy('run_at')
        .orderBy('created_at')
        .limit(limit),
      dialect,
      { skipLocked: true },
    );
    const rows = await db
      .updateTable('jobs')
      .set((eb) => ({
        state: 'active',
        locked_by: instanceId,
        locked_until: lockedUntil,
        attempts_made: eb('attempts_made', '+', 1),
      }))
      .where('id', 'in', candidates)
      .where('state', 'in', ['waiting', 'delayed'])
      .returningAll()
      .execute();
    return rows.sort((a, b) => (a.run_at < b.run_at ? -1 : a.run_at > b.run_at ? 1 : 0));
  }

  /** Active jobs whose lock lapsed belong to a dead process: run them again (or fail a chronic crasher). */
  async function recoverOrphans(): Promise<void> {
    const now = nowIso();
    const failed = await db
      .updateTable('jobs')
      .set({ state: 'failed', finished_at: now, locked_by: null, locked_until: null, last_error: 'The job stalled too many times (its process died while running it).' })
      .where('state', '=', 'active')
      .where('locked_until', '<', now)
      .where('stalled_count', '>=', MAX_STALLS - 1)
      .executeTakeFirst();
    const requeued = await db
      .updateTable('jobs')
      .set((eb) => ({
        state: 'waiting',
        run_at: now,
        locked_by: null,
        locked_until: null,
        // The interrupted run was not the handler's failure: it does not use up an attempt.
        attempts_made: eb('attempts_made', '-', 1),
        stalled_count: eb('stalled_count', '+', 1),
      }))
      .where('state', '=', 'active')
      .where('locked_until', '<', now)
      .executeTakeFirst();
    const n = Number(requeued.numUpdatedRows);
    if (n > 0) log.warn({ count: n }, 'requeued jobs orphaned by a stopped process');
    if (Number(failed.numUpdatedRows) > 0) log.error({ count: Number(failed.numUpdatedRows) }, 'failed jobs that stalled too often');
  }

  async function prune(): Promise<void> {
    const cutoff = nowIso(new Date(Date.now() - keepFinishedMs));
    const failedCutoff = nowIso(new Date(Date.now() - keepFinishedMs * 7));
    await db.deleteFrom('jobs').where('state', '=', 'completed').where('finished_at', '<', cutoff).execute();
    await db.deleteFrom('jobs').where('state', '=', 'failed').where('finished_at', '<', failedCutoff).execute();
    const boundary = await db
      .selectFrom('jobs')
      .select('finished_at')
      .where('state', '=', 'completed')
      .orderBy('finished_at', 'desc')
      .offset(keepCompleted)
      .limit(1)
      .executeTakeFirst();
    if (boundary?.finished_at) {
      await db.deleteFrom('jobs').where('state', '=', 'completed').where('finished_at', '<=', boundary.finished_at).execute();
    }
  }

  function nextFire(spec: RepeatSpec, fireTime: string, now: number): string {
    if (spec.everyMs) {
      const fire = Date.parse(fireTime);
      const missed = Math.max(0, Math.floor((now - fire) / spec.everyMs));
      return nowIso(new Date(fire + (missed + 1) * spec.everyMs));
    }
    const after = Math.max(Date.parse(fireTime), now);
    return nowIso(nextRunAfter(spec.cron!, new Date(after)));
  }

  async function fireDueRepeats(): Promise<void> {
    const now = Date.now();
    const due = await db.selectFrom('job_repeats').selectAll().where('next_run_at', '<=', nowIso(new Date(now))).execute();
    for (const r of due) {
      const spec = fromJson<RepeatSpec>(r.spec, {});
      let next: string;
      try {
        next = nextFire(spec, r.next_run_at, now);
      } catch (err) {
        log.error({ err, key: r.key }, 'bad repeat spec; removing the schedule');
        await db.deleteFrom('job_repeats').where('key', '=', r.key).execute();
        continue;
      }
      const fire = async (withJob: boolean) =>
        db.transaction().execute(async (trx) => {
          // Compare-and-set: only one process moves this occurrence forward, so only one fires it.
          const moved = await trx
            .updateTable('job_repeats')
            .set({ next_run_at: next })
            .where('key', '=', r.key)
            .where('next_run_at', '=', r.next_run_at)
            .executeTakeFirst();
          if (Number(moved.numUpdatedRows) !== 1 || !withJob) return;
          const t = nowIso(new Date(now));
          await trx
            .insertInto('jobs')
            .values({
              id: newId(),
              name: r.name,
              data: r.data,
              job_key: `repeat:${r.key}:${r.next_run_at}`,
              state: 'waiting',
              run_at: t,
              attempts_made: 0,
              max_attempts: 1,
              backoff: null,
              last_error: null,
              locked_by: null,
              locked_until: null,
              stalled_count: 0,
              created_at: t,
              finished_at: null,
            })
            .execute();
        });
      try {
        await fire(true);
      } catch (err) {
        // The occurrence is already queued (same job key): just move the schedule on.
        if (!isUniqueViolation(err)) throw err;
        await fire(false);
      }
    }
    if (due.length) wake();
  }

  async function schedulerTick(): Promise<void> {
    const now = Date.now();
    // Leader renews, followers try to take over, both every third of the lease time.
    if (now - leaseCheckedAt >= schedulerLeaseMs / 3) {
      leaseCheckedAt = now;
      const was = leader;
      leader = await leases.acquire(schedulerLease, instanceId, schedulerLeaseMs);
      if (leader !== was) log.info({ leader }, leader ? 'took the scheduler lease' : 'lost the scheduler lease');
    }
    if (leader) await fireDueRepeats();
  }

  async function runJob(def: Definition, row: JobRow): Promise<void> {
    const signal = abort.signal;
    const attempt = row.attempts_made;
    const heartbeat = setInterval(() => {
      db.updateTable('jobs')
        .set({ locked_until: nowIso(new Date(Date.now() + lockMs)) })
        .where('id', '=', row.id)
        .where('locked_by', '=', instanceId)
        .where('state', '=', 'active')
        .execute()
        .catch((err) => log.warn({ err, jobId: row.id }, 'could not renew a job lock'));
    }, Math.max(50, Math.floor(lockMs / 3)));
    heartbeats.add(heartbeat);
    const mine = (qb: any) => qb.where('id', '=', row.id).where('locked_by', '=', instanceId).where('state', '=', 'active');
    try {
      await def.handler(fromJson(row.data, null), {
        id: row.id,
        name: row.name,
        attempt,
        isLastAttempt: attempt >= row.max_attempts,
        signal,
      });
      clearInterval(heartbeat);
      heartbeats.delete(heartbeat);
      await mine(db.updateTable('jobs').set({ state: 'completed', finished_at: nowIso(), locked_by: null, locked_until: null })).execute();
    } catch (err) {
      clearInterval(heartbeat);
      heartbeats.delete(heartbeat);
      const now = Date.now();
      if (signal.aborted && !isPermanent(err)) {
        // Stopped mid-run: hand the job back untouched so the next process runs it again.
        await mine(
          db.updateTable('jobs').set((eb) => ({
            state: 'waiting',
            run_at: nowIso(new Date(now)),
            locked_by: null,
            locked_until: null,
            attempts_made: eb('attempts_made', '-', 1),
          })),
        ).execute();
        return;
      }
      const finalFailure = isPermanent(err) || attempt >= row.max_attempts;
      if (finalFailure) {
        log.warn({ jobId: row.id, job: row.name, attempt, err: errorText(err) }, 'job failed');
        await mine(
          db.updateTable('jobs').set({ state: 'failed', last_error: errorText(err), finished_at: nowIso(new Date(now)), locked_by: null, locked_until: null }),
        ).execute();
      } else {
        const delay = backoffDelay(fromJson<BackoffOptions | null>(row.backoff, null), attempt);
        log.info({ jobId: row.id, job: row.name, attempt, retryInMs: delay, err: errorText(err) }, 'job failed; will retry');
        await mine(
          db.updateTable('jobs').set({
            state: 'delayed',
            run_at: nowIso(new Date(now + delay)),
            last_error: errorText(err),
            locked_by: null,
            locked_until: null,
          }),
        ).execute();
      }
    }
  }

  function launch(def: Definition, row: JobRow) {
    def.running++;
    const p = runJob(def, row)
      .catch((err) => log.error({ err, jobId: row.id }, 'could not record a job outcome'))
      .finally(() => {
        def.running--;
        inFlight.delete(p);
        wake();
      });
    inFlight.add(p);
  }

  async function workerTick(): Promise<void> {
    const now = Date.now();
    if (now - recoveredAt >= Math.min(1000, lockMs / 2)) {
      recoveredAt = now;
      await recoverOrphans();
    }
    for (const [name, def] of definitions) {
      const free = def.concurrency - def.running;
      if (free <= 0 || stopping) continue;
      const rows = await claim(name, free);
      for (const row of rows) launch(def, row);
    }
    if (now - prunedAt >= 60_000) {
      prunedAt = now;
      await prune();
    }
  }

  async function loop(): Promise<void> {
    while (!stopping) {
      try {
        if (roles.scheduler) await schedulerTick();
        if (roles.worker) await workerTick();
      } catch (err) {
        if (!stopping) log.error({ err }, 'job queue poll failed');
      }
      if (stopping) break;
      await sleep(pollMs);
    }
  }

  return {
    kind: 'local',

    define<T>(name: string, handler: JobHandler<T>, o: DefineOptions = {}) {
      if (definitions.has(name)) throw new Error(`Job "${name}" is already defined.`);
      definitions.set(name, { handler: handler as JobHandler, concurrency: Math.max(1, Math.floor(o.concurrency ?? 1)), running: 0 });
      if (started) wake();
    },

    async enqueue<T>(name: string, data: T, o: EnqueueOptions = {}) {
      const id = await insertJob(name, data, o);
      if (started && roles.worker && !(o.delayMs && o.delayMs > 0)) wake();
      return id;
    },

    async repeat<T>(key: string, name: string, spec: RepeatSpec, data: T) {
      validateRepeatSpec(spec);
      const clean: RepeatSpec = spec.everyMs !== undefined ? { everyMs: spec.everyMs } : { cron: spec.cron };
      const specText = toJson(clean);
      const dataText = toJson(data);
      const existing = await db.selectFrom('job_repeats').selectAll().where('key', '=', key).executeTakeFirst();
      // Calling repeat() again at every start must not move the schedule.
      if (existing && existing.name === name && existing.spec === specText && existing.data === dataText) return;
      const now = new Date();
      // Like BullMQ: an interval fires right away, a cron expression at its next match.
      const next = clean.everyMs !== undefined ? nowIso(now) : nowIso(nextRunAfter(clean.cron!, now));
      await db
        .insertInto('job_repeats')
        .values({ key, name, spec: specText, data: dataText, next_run_at: next, updated_at: nowIso(now) })
        .onConflict((oc) =>
          oc.column('key').doUpdateSet({ name, spec: specText, data: dataText, next_run_at: next, updated_at: nowIso(now) }),
        )
        .execute();
      if (started && roles.scheduler) wake();
    },

    async removeRepeat(key: string) {
      await db.deleteFrom('job_repeats').where('key', '=', key).execute();
    },

    async start(r: { worker: boolean; scheduler: boolean }) {
      if (started) throw new Error('The job queue is already started.');
      started = true;
      stopping = false;
      abort = new AbortController();
      roles = { worker: r.worker, scheduler: r.scheduler };
      if (!roles.worker && !roles.scheduler) return;
      loopDone = loop();
    },

    async stop() {
      if (!started) return;
      stopping = true;
      wake();
      await loopDone;
      abort.abort();
      if (inFlight.size) {
        let timer: NodeJS.Timeout | undefined;
        const timeout = new Promise<'timeout'>((resolve) => {
          timer = setTimeout(() => resolve('timeout'), stopTimeoutMs);
        });
        const outcome = await Promise.race([Promise.allSettled([...inFlight]).then(() => 'done' as const), timeout]);
        clearTimeout(timer);
        if (outcome === 'timeout') {
          // Stop renewing their locks: they lapse and another process picks the jobs up.
          for (const h of heartbeats) clearInterval(h);
          heartbeats.clear();
          log.warn({ running: inFlight.size }, 'stopped without waiting for running jobs');
        }
      }
      if (leader) {
        leader = false;
        await leases.release(schedulerLease, instanceId).catch((err) => log.warn({ err }, 'could not release the scheduler lease'));
      }
      started = false;
      loopDone = null;
    },

    async counts(name?: string) {
      let q = db.selectFrom('jobs').select((eb) => ['state', eb.fn.countAll<number>().as('n')]).groupBy('state');
      if (name) q = q.where('name', '=', name);
      const rows = await q.execute();
      const out = { waiting: 0, active: 0, delayed: 0, failed: 0, completed: 0 };
      for (const r of rows) out[r.state as keyof typeof out] = Number(r.n);
      return out;
    },

    isSchedulerLeader() {
      return leader;
    },
  };
}
