// Chat benchmarks (issue 4):
//   1. Inbound: customer messages POSTed to /webhooks/telegram/<id> (as Telegram would, with the
//      secret header) at RATE msg/s, open loop, into chats already in progress; latency = POST sent
//      → chat.message received on the operator's WebSocket. Reports throughput and p50/p95/p99.
//   2. Routing: 10,000 queued chats and 100 active operators — decisions per second for one pass
//      that places them all (SimultaneousChats = 100), for least-busy and to-all, and the cost of a
//      pass when every operator is full (the queue head waits, nothing else is read).
// Storage: SQLite in a temp dir; PostgreSQL with `-- --pg` (uses TEST_DATABASE_URL or the local test DB).
// The load generator shares the server's thread by default; `--client=thread` moves it to a worker thread.
// Run: npm run bench -- chat [--pg] [--rate=200] [--seconds=10] [--client=thread|inline]
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { Worker } from 'node:worker_threads';
import WebSocket from 'ws';
import { loadConfig } from '../src/config/index.js';
import { startSwitchboard } from '../src/main.js';
import { createLogger } from '../src/platform/logger.js';
import { startTelegramEmulator } from '../src/emulators/telegram/index.js';
import { newId, nowIso } from '../src/platform/db/index.js';
import type { ChatModuleService } from '../src/modules/chat/index.js';
import { createRoutingService } from '../src/modules/chat/routing-service.js';
import type { IdentityService } from '../src/modules/identity/index.js';
import type { SettingsService } from '../src/modules/settings/index.js';

const args = process.argv.slice(2);
const flag = (name: string, def: string) => args.find((a) => a.startsWith(`--${name}=`))?.split('=')[1] ?? def;
const USE_PG = args.includes('--pg');
const RATE = Number(flag('rate', '200'));
const SECONDS = Number(flag('seconds', '10'));
const CLIENT = flag('client', 'inline') as 'thread' | 'inline';
const PG_URL = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

const pct = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
const fmt = (n: number) => n.toFixed(1);

const dataDir = mkdtempSync(join(tmpdir(), 'sb-bench-chat-'));
const schema = USE_PG ? `bench_chat_${Date.now().toString(36)}` : undefined;
const tg = await startTelegramEmulator();
const config = loadConfig({
  PORT: '0',
  HOST: '127.0.0.1',
  LOG_LEVEL: 'silent',
  SWITCHBOARD_DATA_DIR: dataDir,
  SWITCHBOARD_SECRET_KEY: 'bench-secret-key-for-switchboard',
  TELEGRAM_API_ROOT: tg.url,
  ...(USE_PG ? { DATABASE_URL: PG_URL, SWITCHBOARD_PG_SCHEMA: schema } : {}),
});
const sb = await startSwitchboard(config, { logger: createLogger('silent') });
const identity = sb.modules.identity as IdentityService;
const settings = sb.modules.settings as SettingsService;
const chat = sb.modules.chat as ChatModuleService;
const db = sb.platform.db;
console.log(`storage: ${sb.platform.dialect}, jobs: ${sb.platform.jobs.kind}, node ${process.version}`);

async function cleanup() {
  await sb.close();
  await tg.close();
  rmSync(dataDir, { recursive: true, force: true });
  if (schema) {
    const c = new pg.Client({ connectionString: PG_URL });
    await c.connect();
    await c.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await c.end();
  }
}

// ---------- 1. inbound webhook → operator WebSocket ----------
async function inbound() {
  await settings.set('SiteUrl', sb.url, { actorId: null });
  const OPERATORS = 20;
  const CUSTOMERS = 40;
  const ops: { id: string; token: string }[] = [];
  for (let i = 0; i < OPERATORS; i++) {
    const u = await identity.createUser({ email: `bench-op${i}@example.test`, name: `Op ${i}` });
    ops.push({ id: u.id, token: (await identity.createApiToken(u.id, 'bench')).token });
  }
  const queue = await chat.queues.create({ name: 'Bench', routingRule: 'least-busy', userIds: ops.map((o) => o.id) });
  const bot = tg.createBot({ username: 'bench_chat_bot' });
  const channel = await chat.channels.create({ kind: 'telegram', queueId: queue.id, token: bot.token, delivery: 'webhook' });
  const secret = (await sb.platform.secrets.get(`chat-channel:${channel.id}:webhook-secret`))!;
  for (const o of ops) await chat.routing.setStatus(o.id, 'active');

  const received = new Map<string, number>();
  const sockets: WebSocket[] = [];
  for (const o of ops) {
    const ws = new WebSocket(`${sb.url.replace('http', 'ws')}/api/realtime?token=${o.token}`);
    ws.on('message', (d) => {
      const e = JSON.parse(String(d)) as { type: string; data: { text?: string } };
      if (e.type === 'chat.message' && e.data.text?.startsWith('m')) received.set(e.data.text, performance.now());
    });
    await new Promise((r) => ws.once('open', r));
    sockets.push(ws);
  }

  let updateId = 1;
  const errorsSeen = new Map<string, number>();
  const post = (customer: number, text: string) =>
    fetch(`${sb.url}/webhooks/telegram/${channel.id}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-telegram-bot-api-secret-token': secret },
      body: JSON.stringify({
        update_id: updateId++,
        message: { message_id: updateId, date: Math.floor(Date.now() / 1000), chat: { id: 5_000_000 + customer, type: 'private', first_name: `C${customer}` }, from: { id: 5_000_000 + customer, is_bot: false, first_name: `C${customer}` }, text },
      }),
    })
      .then((r) => r.text().then(() => r.status))
      .catch((e: Error) => {
        errorsSeen.set(String((e.cause as Error)?.message ?? e.message), (errorsSeen.get(String((e.cause as Error)?.message ?? e.message)) ?? 0) + 1);
        return 0;
      });

  // Open one chat per customer and have its operator accept it.
  for (let c = 0; c < CUSTOMERS; c++) await post(c, `hello ${c}`);
  for (;;) {
    const offers = await db.selectFrom('chat_offers').select(['chat_id', 'user_id']).where('state', '=', 'pending').execute();
    for (const o of offers) await chat.routing.accept(o.chat_id, o.user_id).catch(() => {});
    const n = await db.selectFrom('chats').select((eb) => eb.fn.countAll<number>().as('n')).where('state', '=', 'in-progress').executeTakeFirstOrThrow();
    if (Number(n.n) >= CUSTOMERS) break;
    await new Promise((r) => setTimeout(r, 50));
  }

  // Warm-up, then the measured open-loop run.
  for (let i = 0; i < 50; i++) await post(i % CUSTOMERS, `w${i}`);
  for (const ws of sockets) ws.close();
  const cpu0 = process.cpuUsage();
  const wall0 = performance.now();
  let r: { total: number; ok: number; lat: number[]; elapsed: number; errors: Record<string, number> };
  if (CLIENT === 'thread') {
    // The load generator and the operators' sockets run in a worker thread: the server's event loop
    // is then measured alone (both still share this machine's two cores with the database).
    const worker = new Worker(new URL('./_chat-load-boot.mjs', import.meta.url), {
      workerData: { url: sb.url, channelId: channel.id, secret, tokens: ops.map((o) => o.token), customers: CUSTOMERS, rate: RATE, seconds: SECONDS, firstUpdateId: updateId },
    });
    r = await new Promise((resolve, reject) => {
      worker.once('message', resolve);
      worker.once('error', reject);
    });
    await worker.terminate();
  } else {
    const received = new Map<string, number>();
    const again: WebSocket[] = [];
    for (const o of ops) {
      const ws = new WebSocket(`${sb.url.replace('http', 'ws')}/api/realtime?token=${o.token}`);
      ws.on('message', (d) => {
        const e = JSON.parse(String(d)) as { type: string; data: { text?: string } };
        if (e.type === 'chat.message' && e.data.text?.startsWith('m')) received.set(e.data.text, performance.now());
      });
      await new Promise((res) => ws.once('open', res));
      again.push(ws);
    }
    const total = RATE * SECONDS;
    const sentAt = new Map<string, number>();
    const statuses: Promise<number>[] = [];
    const t0 = performance.now();
    for (let i = 0; i < total; i++) {
      const due = t0 + (i * 1000) / RATE;
      const wait = due - performance.now();
      if (wait > 1) await new Promise((res) => setTimeout(res, wait));
      const text = `m${i}`;
      sentAt.set(text, performance.now());
      statuses.push(post(i % CUSTOMERS, text));
    }
    const codes = await Promise.all(statuses);
    const deadline = performance.now() + 30_000;
    while (received.size < total && performance.now() < deadline) await new Promise((res) => setTimeout(res, 20));
    for (const ws of again) ws.close();
    r = {
      total,
      ok: codes.filter((c) => c === 200).length,
      lat: [...sentAt].filter(([k]) => received.has(k)).map(([k, v]) => received.get(k)! - v),
      elapsed: (Math.max(...received.values()) - t0) / 1000,
      errors: Object.fromEntries(errorsSeen),
    };
  }
  const cpu = process.cpuUsage(cpu0);
  const wall = (performance.now() - wall0) / 1000;
  const lat = r.lat.sort((a, b) => a - b);
  console.log(`\n[inbound] ${r.total} messages at ${RATE} msg/s over ${CUSTOMERS} in-progress chats, ${OPERATORS} operators on WebSockets (client: ${CLIENT})`);
  console.log(`  accepted by webhook: ${r.ok}/${r.total}; delivered to operators: ${lat.length}/${r.total}`);
  if (Object.keys(r.errors).length) console.log(`  client errors: ${JSON.stringify(r.errors)}`);
  console.log(`  throughput: ${fmt(lat.length / r.elapsed)} msg/s delivered`);
  console.log(`  latency webhook POST → operator WebSocket: p50 ${fmt(pct(lat, 50))} ms, p95 ${fmt(pct(lat, 95))} ms, p99 ${fmt(pct(lat, 99))} ms, max ${fmt(lat[lat.length - 1])} ms`);
  console.log(`  process CPU during the run: ${fmt(((cpu.user + cpu.system) / 1000 / (wall * 1000)) * 100)}% of one core (${CLIENT === 'thread' ? 'server + client thread' : 'server, client and emulator in one thread'})`);
}

// ---------- 2. routing decisions ----------
async function routing() {
  const OPS = 100;
  const CHATS = 10_000;
  const opIds: string[] = [];
  for (let i = 0; i < OPS; i++) opIds.push((await identity.createUser({ email: `bench-router${i}@example.test`, name: `R${i}` })).id);
  const channelRow = await db.selectFrom('chat_channels').select('id').executeTakeFirstOrThrow();
  for (const rule of ['least-busy', 'to-all'] as const) {
    const q = await chat.queues.create({ name: `Routing ${rule}`, routingRule: rule, userIds: opIds });
    for (const id of opIds) {
      await db
        .insertInto('chat_operators')
        .values({ user_id: id, status: 'active', last_assigned_at: null, status_changed_at: nowIso(), status_reason: 'operator' })
        .onConflict((oc) => oc.column('user_id').doUpdateSet({ status: 'active' }))
        .execute();
    }
    await db.deleteFrom('chat_offers').where('user_id', 'in', opIds).execute();
    const base = Date.now();
    for (let i = 0; i < CHATS; i += 500) {
      const rows = Array.from({ length: Math.min(500, CHATS - i) }, (_, j) => {
        const id = newId();
        const at = nowIso(new Date(base + i + j));
        return {
          id, channel_id: channelRow.id, queue_id: q.id, contact_id: null, external_chat_id: `r-${id}`, customer_name: 'R', customer_username: null,
          state: 'queued' as const, operator_id: null, open_key: `${channelRow.id}:r-${id}`, created_at: at, offered_at: null, accepted_at: null,
          completed_at: null, completed_by: null, last_incoming_at: at, last_outgoing_at: null, last_message_at: at,
        };
      });
      await db.insertInto('chats').values(rows).execute();
    }
    const router = (limit: number) =>
      createRoutingService({
        db,
        dialect: sb.platform.dialect,
        limitFor: async () => limit,
        acceptTimeoutMs: async () => 300_000,
        roleMemberIds: (r) => identity.roleMemberIds(r),
        notify: async () => {},
        scheduleOfferTimeout: async () => {},
      });
    // Capacity for every chat (100 × 100; to-all offers each chat to every operator with room, so
    // capacity runs out after 100 chats there — that is the rule, not a slowdown).
    const r = router(100);
    let t = performance.now();
    const routed = await r.routeQueue(q.id);
    let ms = performance.now() - t;
    const offers = await db.selectFrom('chat_offers').select((eb) => eb.fn.countAll<number>().as('n')).where('user_id', 'in', opIds).where('state', '=', 'pending').executeTakeFirstOrThrow();
    console.log(`\n[routing ${rule}] ${CHATS} queued chats, ${OPS} active operators, SimultaneousChats 100`);
    console.log(`  one pass: ${routed} chats offered (${offers.n} offers) in ${fmt(ms)} ms → ${fmt((routed / ms) * 1000)} routing decisions/s`);
    // Everyone full now: a trigger (completion, status change) reads the head of the queue and stops.
    t = performance.now();
    const N = 50;
    for (let i = 0; i < N; i++) await r.routeQueue(q.id);
    ms = (performance.now() - t) / N;
    console.log(`  pass with every operator full and ${CHATS - routed} chats waiting: ${fmt(ms)} ms`);
    // Churn: accept + complete one chat, which frees one slot and routes the next waiting chat.
    const offeredChats = await db.selectFrom('chats').select('id').where('queue_id', '=', q.id).where('state', '=', 'offered').orderBy('created_at').limit(200).execute();
    const pending: { chat_id: string; user_id: string }[] = [];
    for (const c of offeredChats) {
      const o = await db.selectFrom('chat_offers').select(['chat_id', 'user_id']).where('chat_id', '=', c.id).where('state', '=', 'pending').executeTakeFirst();
      if (o) pending.push(o);
    }
    t = performance.now();
    let cycles = 0;
    for (const p of pending) {
      await r.accept(p.chat_id, p.user_id).catch(() => {});
      await r.complete(p.chat_id, { kind: 'operator', userId: p.user_id }).catch(() => {});
      cycles++;
    }
    await r.idle();
    ms = performance.now() - t;
    console.log(`  accept + complete + re-route cycles: ${cycles} in ${fmt(ms)} ms → ${fmt((cycles / ms) * 1000)} cycles/s`);
    await db.updateTable('chats').set({ state: 'completed', open_key: null }).where('queue_id', '=', q.id).execute();
    await db.updateTable('chat_offers').set({ state: 'withdrawn' }).where('user_id', 'in', opIds).where('state', '=', 'pending').execute();
  }
}

try {
  await inbound();
  await routing();
} finally {
  await cleanup();
}
