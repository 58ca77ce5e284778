// The routing simulation shared by chat-routing.test.ts and the worker processes it spawns
// (chat-routing-worker.ts): random arrivals, accepts, ignored offers (their timeouts fired at
// once), completions and status changes, all concurrently against one database.
import type { DB } from '../../src/schema.js';
import { newId, nowIso, sql, type Dialect } from '../../src/platform/db/index.js';
import { createIdentityService } from '../../src/modules/identity/index.js';
import { createQueueService } from '../../src/modules/chat/queues.js';
import { createRoutingService, type RoutingService } from '../../src/modules/chat/routing-service.js';
import { checkDecisions } from './chat-routing-decisions.js';

export interface Fixture {
  operatorIds: string[];
  limits: Record<string, number>;
  queueIds: string[];
  channelId: string;
}

export function rng(seed: number) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** 50 operators (limits 1–3), a role, a least-busy and a to-all queue that share 15 operators, one channel. */
export async function createFixture(db: DB, seed = 1, operators = 50): Promise<Fixture> {
  const rand = rng(seed);
  const identity = createIdentityService(db);
  const operatorIds: string[] = [];
  const limits: Record<string, number> = {};
  const tag = Math.random().toString(36).slice(2, 8);
  for (let i = 0; i < operators; i++) {
    const u = await identity.createUser({ email: `op${i}-${tag}@example.com`, name: `Operator ${i}` });
    operatorIds.push(u.id);
    limits[u.id] = 1 + Math.floor(rand() * 3);
  }
  // Operators 10–34 reach the least-busy queue through a role; 0–9 directly.
  const role = await identity.createRole({ name: `Chat team ${tag}`, userIds: operatorIds.slice(10, 35) });
  const queues = createQueueService({ db });
  const lb = await queues.create({ name: `Least busy ${tag}`, routingRule: 'least-busy', userIds: operatorIds.slice(0, 10), roleIds: [role.id] });
  const all = await queues.create({ name: `To all ${tag}`, routingRule: 'to-all', userIds: operatorIds.slice(20, 50) });
  const channelId = newId();
  const now = nowIso();
  await db
    .insertInto('chat_channels')
    .values({
      id: channelId, kind: 'telegram', name: 'Sim', is_active: 1, queue_id: lb.id, mode: null, external_id: null, external_username: null,
      last_error: null, last_checked_at: null, poll_offset: null, delivery: 'auto', webhook_failures: 0, webhook_gave_up_at: null, token_rejected_at: null, created_at: now, updated_at: now,
    })
    .execute();
  // Random initial statuses: about 70% active.
  for (const id of operatorIds) {
    await db
      .insertInto('chat_operators')
      .values({ user_id: id, status: rand() < 0.7 ? 'active' : 'inactive', last_assigned_at: null, status_changed_at: now, status_reason: 'operator' })
      .execute();
  }
  return { operatorIds, limits, queueIds: [lb.id, all.id], channelId };
}

export function simRoutingService(db: DB, dialect: Dialect, fx: Fixture, onError: (e: unknown, what: string) => void): RoutingService {
  const identity = createIdentityService(db);
  return createRoutingService({
    db,
    dialect,
    limitFor: async (u) => fx.limits[u] ?? 2,
    acceptTimeoutMs: async () => 1,
    roleMemberIds: (r) => identity.roleMemberIds(r),
    notify: async () => {},
    // The simulation plays the timeout itself (an "ignored" offer is expired on purpose).
    scheduleOfferTimeout: async () => {},
    onBackgroundError: onError,
  });
}

export async function insertChat(db: DB, fx: Fixture, queueId: string, n: number): Promise<string> {
  const id = newId();
  const now = nowIso();
  await db
    .insertInto('chats')
    .values({
      id, channel_id: fx.channelId, queue_id: queueId, contact_id: null, external_chat_id: `sim-${id}`, customer_name: `Customer ${n}`, customer_username: null,
      state: 'queued', operator_id: null, open_key: `${fx.channelId}:sim-${id}`, created_at: now, offered_at: null, accepted_at: null, completed_at: null,
      completed_by: null, last_incoming_at: now, last_outgoing_at: null, last_message_at: now,
    })
    .execute();
  return id;
}

export interface SimResult {
  /** Offers this actor chose to ignore whose timeout then fired (user ids, one per expiry). */
  demotions: { userId: string; offerId: string; at: string }[];
  /** Last status change this actor made per user. */
  statusSets: { userId: string; status: 'active' | 'inactive'; at: string }[];
  acceptedOfferIds: string[];
  /** Violations seen by the after-every-step check. */
  violations: string[];
  steps: number;
  errors: string[];
  /** Routing decisions checked at the moment they were made (chat-routing-decisions.ts). */
  decisions: { offer: number; wait: number; unchanged: number; leastBusyOffers: number };
}

/**
 * Load per operator right now — chats in progress and chats shown to them (pending offers) — read
 * in ONE statement, so it is one consistent snapshot (an accept moves a chat from one to the other).
 */
export async function loadsNow(db: DB, userIds?: string[]): Promise<Map<string, { inProgress: number; total: number }>> {
  let q = db
    .selectFrom('chats')
    .select([sql<string>`'c'`.as('k'), 'operator_id as u', (eb) => eb.fn.countAll<number>().as('n')])
    .where('state', '=', 'in-progress')
    .groupBy('operator_id')
    .unionAll((eb) => eb.selectFrom('chat_offers').select([sql<string>`'o'`.as('k'), 'user_id as u', (eb2) => eb2.fn.countAll<number>().as('n')]).where('state', '=', 'pending').groupBy('user_id'));
  const rows = await q.execute();
  const out = new Map<string, { inProgress: number; total: number }>();
  for (const r of rows) {
    if (userIds && !userIds.includes(r.u!)) continue;
    const cur = out.get(r.u!) ?? { inProgress: 0, total: 0 };
    if (r.k === 'c') cur.inProgress += Number(r.n);
    cur.total += Number(r.n);
    out.set(r.u!, cur);
  }
  return out;
}

/** Operators over their limit right now: in progress (H4), or in progress + shown to them. */
export async function overLimit(db: DB, fx: Fixture, userIds?: string[]): Promise<string[]> {
  const bad: string[] = [];
  for (const [u, l] of await loadsNow(db, userIds)) {
    const limit = fx.limits[u] ?? 2;
    if (l.inProgress > limit) bad.push(`${u} has ${l.inProgress} chats in progress > ${limit}`);
    else if (l.total > limit) bad.push(`${u} has ${l.inProgress} in progress + ${l.total - l.inProgress} offered > ${limit}`);
  }
  return bad;
}

/**
 * @param opts.minSteps the actors keep going after the last arrival until this many steps
 *   (arrivals included) were taken: on a fast machine the arrivals can be over within a few hundred
 *   milliseconds, and a run that short exercises few accepts and completions. Default 1.75 × chats.
 */
export async function simulate(db: DB, service: RoutingService, fx: Fixture, opts: { chats: number; seed: number; concurrency?: number; minSteps?: number }): Promise<SimResult> {
  const minSteps = opts.minSteps ?? Math.round(opts.chats * 1.75);
  const rand = rng(opts.seed);
  const res: SimResult = { demotions: [], statusSets: [], acceptedOfferIds: [], violations: [], steps: 0, errors: [], decisions: { offer: 0, wait: 0, unchanged: 0, leastBusyOffers: 0 } };
  const decisions = await checkDecisions(db, service, fx);
  let arrived = 0;
  let arrivalsDone = false;
  const pick = <T>(xs: T[]) => xs[Math.floor(rand() * xs.length)];
  // Each ignored least-busy offer is decided once, so an offer is never both accepted and ignored.
  const decided = new Set<string>();

  async function check(userIds: string[]) {
    const bad = await overLimit(db, fx, userIds);
    res.violations.push(...bad);
  }

  async function arrivals() {
    const workers = Array.from({ length: opts.concurrency ?? 25 }, async () => {
      while (arrived < opts.chats) {
        const n = arrived++;
        const queueId = pick(fx.queueIds);
        await insertChat(db, fx, queueId, n);
        await service.routeQueue(queueId);
        res.steps++;
      }
    });
    await Promise.all(workers);
    arrivalsDone = true;
  }

  async function actor() {
    let idleRounds = 0;
    while (!arrivalsDone || idleRounds < 3 || res.steps < minSteps) {
      const r = rand();
      try {
        if (r < 0.55) {
          const offers = await db.selectFrom('chat_offers').select(['id', 'chat_id', 'user_id', 'rule']).where('state', '=', 'pending').limit(40).execute();
          const fresh = offers.filter((o) => !decided.has(o.id));
          if (!fresh.length) {
            idleRounds++;
            await new Promise((r) => setTimeout(r, 2));
            continue;
          }
          idleRounds = 0;
          const o = pick(fresh);
          decided.add(o.id);
          if (o.rule === 'least-busy' && rand() < 0.25) {
            // Ignored: the accept timeout fires.
            if (await service.expireOffer(o.id)) res.demotions.push({ userId: o.user_id, offerId: o.id, at: nowIso() });
          } else if (rand() < 0.85) {
            try {
              await service.accept(o.chat_id, o.user_id);
              res.acceptedOfferIds.push(o.id);
            } catch (e) {
              if ((e as { statusCode?: number }).statusCode !== 409) throw e;
            }
            await check([o.user_id]);
          }
        } else if (r < 0.9) {
          const chats = await db.selectFrom('chats').select(['id', 'operator_id']).where('state', '=', 'in-progress').limit(40).execute();
          if (chats.length) {
            const c = pick(chats);
            try {
              await service.complete(c.id, { kind: 'operator', userId: c.operator_id! });
            } catch (e) {
              if ((e as { statusCode?: number }).statusCode !== 409) throw e;
            }
          }
        } else {
          const userId = pick(fx.operatorIds);
          const status = rand() < 0.75 ? 'active' : 'inactive';
          await service.setStatus(userId, status);
          res.statusSets.push({ userId, status, at: nowIso() });
          await check([userId]);
        }
        res.steps++;
      } catch (e) {
        res.errors.push(String((e as Error).stack ?? e));
      }
    }
  }

  await Promise.all([arrivals(), actor(), actor(), actor()]);
  await service.idle();
  await service.routeAll();
  await service.idle();
  await check(fx.operatorIds);
  decisions.stop();
  res.violations.push(...decisions.violations);
  res.decisions = decisions.counts;
  return res;
}
