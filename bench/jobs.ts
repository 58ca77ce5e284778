// Job queue throughput: enqueue rate and end-to-end processing rate of no-op jobs, per backend.
// Run: npx tsx bench/jobs.ts [count]   (PostgreSQL/Redis legs run when the test servers answer)
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { createJobQueue, type JobQueue } from '../src/platform/jobs/index.js';
import { createLeases } from '../src/platform/leases/index.js';
import { createLogger } from '../src/platform/logger.js';
import { createTestDb } from '../test/helpers/db.js';
import { hasPostgres, hasRedis, TEST_REDIS_URL } from '../test/helpers/services.js';

const COUNT = Number(process.argv[2] ?? 2000);
const logger = createLogger('silent');

async function measure(label: string, q: JobQueue) {
  let done = 0;
  let resolveAll!: () => void;
  const all = new Promise<void>((r) => (resolveAll = r));
  q.define('bench', async () => {
    if (++done === COUNT) resolveAll();
  }, { concurrency: 10 });
  const t0 = performance.now();
  for (let i = 0; i < COUNT; i++) await q.enqueue('bench', { i });
  const t1 = performance.now();
  await q.start({ worker: true, scheduler: false });
  await all;
  const t2 = performance.now();
  await q.stop();
  const rss = Math.round(process.memoryUsage().rss / 1e6);
  console.log(
    `${label.padEnd(16)} enqueue ${Math.round((COUNT / (t1 - t0)) * 1000)} jobs/s   process ${Math.round((COUNT / (t2 - t1)) * 1000)} jobs/s (concurrency 10, ${COUNT} jobs)   rss ${rss} MB`,
  );
}

for (const dialect of ['sqlite', 'postgres'] as const) {
  if (dialect === 'postgres' && !(await hasPostgres())) continue;
  const t = await createTestDb(dialect);
  try {
    await measure(`local/${dialect}`, createJobQueue({ db: t.db, dialect, logger, leases: createLeases(t.db, dialect), instanceId: 'bench' }));
  } finally {
    await t.destroy();
  }
}
if (await hasRedis()) {
  const prefix = `sbbench-${randomUUID().slice(0, 8)}`;
  await measure('bullmq/redis', createJobQueue({ db: null as never, dialect: 'sqlite', redisUrl: TEST_REDIS_URL, logger, leases: null as never, instanceId: 'bench', prefix }));
  const r = new Redis(TEST_REDIS_URL);
  const keys = await r.keys(`${prefix}:*`);
  if (keys.length) await r.del(...keys);
  await r.quit();
}
