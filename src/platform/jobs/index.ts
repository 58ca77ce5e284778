// The job queue: local (SQL-backed, in-process) by default, BullMQ when REDIS_URL is set.
// Both pass test/integration/jobs.contract.test.ts.
import type { DB } from '../../schema.js';
import type { Dialect } from '../db/index.js';
import type { Leases } from '../leases/types.js';
import type { Logger } from '../logger.js';
import { createBullJobQueue } from './bullmq.js';
import { createLocalJobQueue } from './local.js';
import type { JobQueue } from './types.js';

export * from './types.js';
export type { JobsTables, JobsTable, JobRepeatsTable, JobState } from './tables.js';
export { jobsMigrations } from './migrations.js';
export { nextRunAfter, parseCron, CronParseError } from './cron.js';
export { createLocalJobQueue, type LocalJobQueueOptions } from './local.js';
export { createBullJobQueue, redisOptionsFromUrl, type BullJobQueueOptions } from './bullmq.js';

export interface CreateJobQueueOptions {
  db: DB;
  dialect: Dialect;
  /** When set, jobs go to BullMQ on this Redis; otherwise they live in the SQL database. */
  redisUrl?: string;
  logger: Logger;
  leases: Leases;
  /** Unique per process: lock owner and scheduler lease holder. */
  instanceId: string;
  /** Redis key prefix for BullMQ (default "switchboard"). */
  prefix?: string;
  /** Local queue: poll interval in ms (default 250; enqueue in this process wakes it at once). */
  pollMs?: number;
  /** Lock time of a running job in ms (default 30 s); a job orphaned by a dead process reruns after about this long. */
  lockMs?: number;
  /** Local queue: scheduler lease time to live in ms (default 15 s). */
  schedulerLeaseMs?: number;
  /** How long stop() waits for running handlers in ms (default 10 s). */
  stopTimeoutMs?: number;
}

export function createJobQueue(opts: CreateJobQueueOptions): JobQueue {
  if (opts.redisUrl) {
    return createBullJobQueue({
      redisUrl: opts.redisUrl,
      logger: opts.logger,
      instanceId: opts.instanceId,
      prefix: opts.prefix,
      stopTimeoutMs: opts.stopTimeoutMs,
      lockMs: opts.lockMs,
    });
  }
  return createLocalJobQueue({
    db: opts.db,
    dialect: opts.dialect,
    logger: opts.logger,
    leases: opts.leases,
    instanceId: opts.instanceId,
    pollMs: opts.pollMs,
    lockMs: opts.lockMs,
    schedulerLeaseMs: opts.schedulerLeaseMs,
    stopTimeoutMs: opts.stopTimeoutMs,
  });
}
