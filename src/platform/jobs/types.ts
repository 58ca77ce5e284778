// The job queue contract. Two implementations pass one contract suite (test/integration/jobs.contract.test.ts):
//   - "local": durable jobs in the SQL database, run in-process (embedded default; survive restarts);
//   - "bullmq": BullMQ on Redis (REDIS_URL), for several worker processes.

export interface BackoffOptions {
  type: 'fixed' | 'exponential';
  /** Base delay in ms (exponential: delay * 2^(attempt-1)). */
  delayMs: number;
}

export interface EnqueueOptions {
  /**
   * Deduplication key: while a job of the same name with this key is waiting/delayed/active
   * (retries included), enqueue returns its id instead of adding another. Once that job completed
   * or failed, the key is free again (on both implementations).
   */
  jobKey?: string;
  delayMs?: number;
  /** Total attempts including the first (default 1 = no retry). */
  attempts?: number;
  backoff?: BackoffOptions;
}

export interface JobContext {
  id: string;
  name: string;
  /** 1 on the first run. */
  attempt: number;
  /** Last attempt: a handler may record a permanent failure instead of throwing. */
  isLastAttempt: boolean;
  /**
   * An AbortSignal fired when the queue is stopping. A long handler should then THROW (e.g.
   * `ctx.signal.throwIfAborted()`): the job goes back to the queue without using an attempt and the
   * next process runs it. Returning normally marks the job completed.
   */
  signal: AbortSignal;
}

export type JobHandler<T = any> = (data: T, ctx: JobContext) => Promise<void>;

export interface DefineOptions {
  /** How many jobs of this name run at once in this process (default 1). */
  concurrency?: number;
}

export interface RepeatSpec {
  /** Fixed interval. */
  everyMs?: number;
  /** Cron expression in UTC: minute hour day-of-month month day-of-week, optionally with seconds first. */
  cron?: string;
}

/** Thrown by a handler to fail without further retries (e.g. bad credentials). */
export class PermanentJobError extends Error {
  readonly permanent = true;
}

export interface JobQueue {
  readonly kind: 'local' | 'bullmq';
  define<T>(name: string, handler: JobHandler<T>, opts?: DefineOptions): void;
  enqueue<T>(name: string, data: T, opts?: EnqueueOptions): Promise<string>;
  /**
   * Idempotent by `key`: calling again with the same key replaces the schedule (the same spec and
   * data again leaves it untouched, so calling it at every start is fine). An `everyMs` schedule
   * fires right away, then every interval; a cron one at its next match (UTC). Each occurrence
   * fires once across all processes: locally only the holder of the `scheduler` lease fires them;
   * on BullMQ, Redis job schedulers do (the scheduler role does not gate them there).
   */
  repeat<T>(key: string, name: string, spec: RepeatSpec, data: T): Promise<void>;
  removeRepeat(key: string): Promise<void>;
  /** Starts processing (worker role) and/or firing repeat schedules (scheduler role, one leader). */
  start(opts: { worker: boolean; scheduler: boolean }): Promise<void>;
  stop(): Promise<void>;
  /** Counts for diagnostics (waiting, active, delayed, failed, completed). */
  counts(name?: string): Promise<Record<'waiting' | 'active' | 'delayed' | 'failed' | 'completed', number>>;
}
