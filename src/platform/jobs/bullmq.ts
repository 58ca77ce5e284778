// The scale-out job queue: BullMQ on Redis, one BullMQ queue per job name (so concurrency is per
// name, as in the local queue). Semantics that differ from plain BullMQ, on purpose:
//   - Dedup by job key uses BullMQ's *deduplication* id (simple mode), not the job id: the key is
//     held while the job is waiting/delayed/active (retries included) and freed as soon as it
//     completes or fails, exactly like the local queue. Finished jobs are kept for diagnostics
//     (completed: last 1000 / 1 day, failed: 7 days) without blocking the key.
//   - Repeat schedules are BullMQ job schedulers (upsertJobScheduler, tz UTC). BullMQ itself makes
//     sure each occurrence is produced once across all processes, so the `scheduler` role does not
//     gate them here; the next occurrence is produced when a worker picks up the current one.
//   - stop() signals running handlers; a handler that then throws is put back (not counted as an
//     attempt) so the next process runs it again — a job survives a restart. A process that dies
//     outright leaves its jobs to BullMQ's stalled-job recovery.
import { DelayedError, Queue, UnrecoverableError, Worker, type ConnectionOptions, type Job } from 'bullmq';
import { Redis } from 'ioredis';
import type { Logger } from '../logger.js';
import { validateRepeatSpec } from './local.js';
import {
  PermanentJobError,
  type DefineOptions,
  type EnqueueOptions,
  type JobHandler,
  type JobQueue,
  type RepeatSpec,
} from './types.js';

export interface BullJobQueueOptions {
  redisUrl: string;
  logger: Logger;
  instanceId: string;
  /** Redis key prefix (tests use a unique one). */
  prefix?: string;
  /** How long stop() waits for running handlers after signalling them (ms). */
  stopTimeoutMs?: number;
  /** Lock time of a running job (ms, default 30 s): a job whose process died is retried after about this long. */
  lockMs?: number;
}

const KEEP_COMPLETED = { count: 1000, age: 24 * 3600 };
const KEEP_FAILED = { age: 7 * 24 * 3600 };

/** ioredis options from a redis:// or rediss:// URL. */
export function redisOptionsFromUrl(url: string): ConnectionOptions {
  const u = new URL(url);
  const db = u.pathname.replace(/^\//, '');
  return {
    host: u.hostname || '127.0.0.1',
    port: Number(u.port || 6379),
    ...(u.username ? { username: decodeURIComponent(u.username) } : {}),
    ...(u.password ? { password: decodeURIComponent(u.password) } : {}),
    ...(db ? { db: Number(db) } : {}),
    ...(u.protocol === 'rediss:' ? { tls: {} } : {}),
    maxRetriesPerRequest: null,
  };
}

/** BullMQ queue names may not contain ':'; escape it (and the escape character) reversibly. */
function queueName(name: string): string {
  return name.replace(/%/g, '%25').replace(/:/g, '%3A');
}

function isPermanent(err: unknown): boolean {
  return err instanceof PermanentJobError || (err as { permanent?: unknown })?.permanent === true;
}

interface Definition {
  handler: JobHandler;
  concurrency: number;
}

export function createBullJobQueue(opts: BullJobQueueOptions): JobQueue {
  const prefix = opts.prefix ?? 'switchboard';
  const connection = redisOptionsFromUrl(opts.redisUrl);
  const log = opts.logger.child({ component: 'jobs', kind: 'bullmq' });
  const stopTimeoutMs = opts.stopTimeoutMs ?? 10_000;
  const lockMs = opts.lockMs ?? 30_000;
  const definitions = new Map<string, Definition>();
  const queues = new Map<string, Queue>();
  const workers = new Map<string, Worker>();
  let started = false;
  let stopping = false;
  let workersWanted = false;
  let redis: Redis | null = null;
  // Which queue holds a repeat key, so removeRepeat(key) works from any process.
  const repeatsKey = `${prefix}:sb-job-schedulers`;

  function client(): Redis {
    if (!redis) {
      redis = new Redis({ ...(connection as object), maxRetriesPerRequest: null });
      redis.on('error', (err) => log.warn({ err: err.message }, 'redis connection error'));
    }
    return redis;
  }

  function queueFor(name: string): Queue {
    let q = queues.get(name);
    if (!q) {
      // Producers share one connection (BullMQ leaves a connection it was given open on close);
      // workers need their own blocking connections.
      q = new Queue(queueName(name), {
        connection: client(),
        prefix,
        defaultJobOptions: { removeOnComplete: KEEP_COMPLETED, removeOnFail: KEEP_FAILED },
      });
      q.on('error', (err) => log.warn({ err: err.message, job: name }, 'queue error'));
      queues.set(name, q);
    }
    return q;
  }

  function startWorker(name: string, def: Definition) {
    const worker = new Worker(
      queueName(name),
      async (job: Job, token?: string, signal?: AbortSignal) => {
        const attempt = job.attemptsMade + 1;
        const maxAttempts = job.opts.attempts ?? 1;
        const stopSignal = signal ?? new AbortController().signal;
        try {
          await def.handler(job.data, {
            id: String(job.id),
            name,
            attempt,
            isLastAttempt: attempt >= maxAttempts,
            signal: stopSignal,
          });
        } catch (err) {
          if (isPermanent(err)) throw new UnrecoverableError((err as Error).message);
          if (stopSignal.aborted && stopping && token) {
            // Stopped mid-run: put the job back for the next process without using an attempt.
            await job.moveToDelayed(Date.now(), token);
            throw new DelayedError();
          }
          throw err;
        }
      },
      {
        connection,
        prefix,
        concurrency: def.concurrency,
        autorun: true,
        // A dead process's jobs are found by any worker's stalled check and rerun; after the third
        // stall the job fails, like the local queue, so a job that crashes its process cannot loop.
        lockDuration: lockMs,
        stalledInterval: lockMs,
        maxStalledCount: 2,
      },
    );
    worker.on('error', (err) => log.warn({ err: err.message, job: name }, 'worker error'));
    worker.on('failed', (job, err) => {
      if (job && err?.name !== 'DelayedError') log.info({ jobId: job.id, job: name, attempt: job.attemptsMade, err: err.message }, 'job failed');
    });
    workers.set(name, worker);
  }

  return {
    kind: 'bullmq',

    define<T>(name: string, handler: JobHandler<T>, o: DefineOptions = {}) {
      if (definitions.has(name)) throw new Error(`Job "${name}" is already defined.`);
      const def = { handler: handler as JobHandler, concurrency: Math.max(1, Math.floor(o.concurrency ?? 1)) };
      definitions.set(name, def);
      if (started && !stopping && workersWanted) startWorker(name, def);
    },

    async enqueue<T>(name: string, data: T, o: EnqueueOptions = {}) {
      const job = await queueFor(name).add(name, data, {
        ...(o.delayMs && o.delayMs > 0 ? { delay: o.delayMs } : {}),
        attempts: Math.max(1, Math.floor(o.attempts ?? 1)),
        ...(o.backoff ? { backoff: { type: o.backoff.type, delay: o.backoff.delayMs } } : {}),
        ...(o.jobKey ? { deduplication: { id: o.jobKey } } : {}),
      });
      return String(job.id);
    },

    async repeat<T>(key: string, name: string, spec: RepeatSpec, data: T) {
      validateRepeatSpec(spec);
      const previous = await client().hget(repeatsKey, key);
      if (previous && previous !== name) await queueFor(previous).removeJobScheduler(key);
      await client().hset(repeatsKey, key, name);
      await queueFor(name).upsertJobScheduler(
        key,
        spec.everyMs !== undefined ? { every: spec.everyMs } : { pattern: spec.cron!, tz: 'UTC' },
        { name, data, opts: { removeOnComplete: KEEP_COMPLETED, removeOnFail: KEEP_FAILED } },
      );
    },

    async removeRepeat(key: string) {
      const name = await client().hget(repeatsKey, key);
      if (!name) return;
      await queueFor(name).removeJobScheduler(key);
      await client().hdel(repeatsKey, key);
    },

    async start(r: { worker: boolean; scheduler: boolean }) {
      if (started) throw new Error('The job queue is already started.');
      started = true;
      stopping = false;
      workersWanted = r.worker;
      if (r.worker) for (const [name, def] of definitions) startWorker(name, def);
      await Promise.all([...workers.values()].map((w) => w.waitUntilReady()));
    },

    async stop() {
      stopping = true;
      const closing = [...workers.values()].map(async (w) => {
        w.cancelAllJobs('stopping');
        let timer: NodeJS.Timeout | undefined;
        const timeout = new Promise<'timeout'>((resolve) => {
          timer = setTimeout(() => resolve('timeout'), stopTimeoutMs);
        });
        const outcome = await Promise.race([w.close().then(() => 'done' as const), timeout]);
        clearTimeout(timer);
        // Jobs still running stay locked until BullMQ's stalled check hands them to another worker.
        if (outcome === 'timeout') await w.close(true);
      });
      await Promise.all(closing);
      workers.clear();
      await Promise.all([...queues.values()].map((q) => q.close()));
      queues.clear();
      if (redis) {
        await redis.quit().catch(() => redis?.disconnect());
        redis = null;
      }
      started = false;
    },

    async counts(name?: string) {
      const out = { waiting: 0, active: 0, delayed: 0, failed: 0, completed: 0 };
      const names = name ? [name] : [...new Set([...definitions.keys(), ...queues.keys()])];
      for (const n of names) {
        const c = await queueFor(n).getJobCounts('waiting', 'active', 'delayed', 'failed', 'completed', 'prioritized');
        out.waiting += (c.waiting ?? 0) + (c.prioritized ?? 0);
        out.active += c.active ?? 0;
        out.delayed += c.delayed ?? 0;
        out.failed += c.failed ?? 0;
        out.completed += c.completed ?? 0;
      }
      return out;
    },
  };
}
