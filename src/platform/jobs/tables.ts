export type JobState = 'waiting' | 'active' | 'delayed' | 'completed' | 'failed';

/** One job of the local (SQL-backed) queue. */
export interface JobsTable {
  id: string;
  name: string;
  /** JSON text. */
  data: string;
  /** Deduplication key, unique per name while the job is waiting/delayed/active. */
  job_key: string | null;
  state: JobState;
  /** When the job may run next (enqueue time + delay, or the retry time). */
  run_at: string;
  attempts_made: number;
  max_attempts: number;
  /** JSON text of BackoffOptions, or null for immediate retries. */
  backoff: string | null;
  last_error: string | null;
  /** instanceId of the process running it (state active). */
  locked_by: string | null;
  /** The runner renews this while the job runs; once it passes, the job is presumed orphaned. */
  locked_until: string | null;
  /** Times the job was found orphaned (its process died); after a few it fails, so a job that crashes its process cannot loop forever. */
  stalled_count: number;
  created_at: string;
  finished_at: string | null;
}

/** A repeat schedule of the local queue; the scheduler leader enqueues a job at each fire time. */
export interface JobRepeatsTable {
  key: string;
  name: string;
  /** JSON text of RepeatSpec. */
  spec: string;
  /** JSON text of the job data. */
  data: string;
  next_run_at: string;
  updated_at: string;
}

export interface JobsTables {
  jobs: JobsTable;
  job_repeats: JobRepeatsTable;
}
