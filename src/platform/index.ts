// Everything infrastructure that modules receive, wired once in src/main.ts.
import type { Config } from '../config/index.js';
import type { Dialect } from './db/index.js';
import type { DB } from '../schema.js';
import type { Logger } from './logger.js';
import type { SecretStore } from './crypto/secret-store.js';
import type { FileStore } from './files/index.js';
import type { JobQueue } from './jobs/types.js';
import type { EventBus } from './events/types.js';
import type { Realtime } from './realtime/types.js';
import type { Leases } from './leases/types.js';

export interface Platform {
  config: Config;
  logger: Logger;
  db: DB;
  dialect: Dialect;
  secrets: SecretStore;
  files: FileStore;
  jobs: JobQueue;
  events: EventBus;
  realtime: Realtime;
  leases: Leases;
  /** Unique per process: lease holder name, log field. */
  instanceId: string;
  /** Prefix of this installation's Redis keys and channels (tests isolate themselves with it). */
  redisPrefix?: string;
}
