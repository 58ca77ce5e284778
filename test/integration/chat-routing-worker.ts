// One worker process of the two-process routing simulation (spawned by chat-routing.test.ts):
// opens the same PostgreSQL schema, runs its share of the simulation, prints its result as JSON.
import { readFileSync } from 'node:fs';
import { openDatabase } from '../../src/platform/db/index.js';
import type { Database } from '../../src/schema.js';
import { simRoutingService, simulate, type Fixture } from './chat-routing-sim.js';

const env = process.env;
const handle = await openDatabase<Database>({ dataDir: env.SWITCHBOARD_DATA_DIR!, databaseUrl: env.DATABASE_URL, pgSchema: env.SWITCHBOARD_PG_SCHEMA });
const fx = JSON.parse(readFileSync(env.SIM_FIXTURE!, 'utf8')) as Fixture;
const errors: string[] = [];
const service = simRoutingService(handle.db, handle.dialect, fx, (e, what) => errors.push(`${what}: ${String(e)}`));
const res = await simulate(handle.db, service, fx, { chats: Number(env.SIM_CHATS ?? 1000), seed: Number(env.SIM_SEED ?? 1) });
res.errors.push(...errors);
await handle.close();
process.stdout.write(`${JSON.stringify(res)}\n`);
