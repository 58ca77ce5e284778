// Routing properties (H2, H3, H4) on SQLite and PostgreSQL: least-busy picks checked against the
// test's own reading of the tables, arrival order within one millisecond, and exactly one winner
// among concurrent to-all accepts.
// Under load: chat-routing-load.test.ts (one process) and chat-routing-multiprocess.test.ts.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDb, dialects, type TestDb } from '../helpers/db.js';
import { createIdentityService } from '../../src/modules/identity/index.js';
import { createQueueService } from '../../src/modules/chat/queues.js';
import { createFixture, insertChat, simRoutingService } from './chat-routing-sim.js';
import { compareLeastBusy, type OperatorSnapshot } from '../../src/modules/chat/routing.js';
import { nowIso } from '../../src/platform/db/index.js';

const DIALECTS = await dialects();

describe.each(DIALECTS)('chat routing on %s', (dialect) => {
  let tdb: TestDb;
  beforeAll(async () => {
    tdb = await createTestDb(dialect);
  });
  afterAll(async () => {
    await tdb?.destroy();
  });

  it('least-busy picks the optimal operator at each decision (sequential, checked independently)', async () => {
    const db = tdb.db;
    const identity = createIdentityService(db);
    const fx = await createFixture(db, 7, 10);
    const errs: unknown[] = [];
    const service = simRoutingService(db, tdb.dialect, fx, (e) => errs.push(e));
    const queues = createQueueService({ db });
    const q = await queues.create({ name: 'Sequential LB', routingRule: 'least-busy', userIds: fx.operatorIds });
    void identity;
    let seed = 3;
    let completed = 0;
    const rand = () => ((seed = (seed * 16807) % 2147483647) / 2147483647);
    for (let i = 0; i < 40; i++) {
      // The test's own view of every operator, read straight from the tables.
      const ops = await db.selectFrom('chat_operators').selectAll().where('user_id', 'in', fx.operatorIds).execute();
      const snaps: OperatorSnapshot[] = [];
      for (const o of ops) {
        const inProgress = await db.selectFrom('chats').select((eb) => eb.fn.countAll<number>().as('n')).where('operator_id', '=', o.user_id).where('state', '=', 'in-progress').executeTakeFirstOrThrow();
        const pending = await db.selectFrom('chat_offers').select((eb) => eb.fn.countAll<number>().as('n')).where('user_id', '=', o.user_id).where('state', '=', 'pending').executeTakeFirstOrThrow();
        // One least-busy queue: every pending offer is a least-busy assignment.
        snaps.push({ userId: o.user_id, status: o.status, inProgress: Number(inProgress.n), pendingOffers: Number(pending.n), assignedOffers: Number(pending.n), lastAssignedAt: o.last_assigned_at, limit: fx.limits[o.user_id] });
      }
      const eligible = snaps.filter((s) => s.status === 'active' && s.inProgress + s.pendingOffers < s.limit).sort(compareLeastBusy);
      const chatId = await insertChat(db, fx, q.id, i);
      await service.routeOne(chatId);
      const offer = await db.selectFrom('chat_offers').select(['id', 'user_id']).where('chat_id', '=', chatId).executeTakeFirst();
      if (eligible.length === 0) {
        expect(offer).toBeUndefined();
        // Free someone: complete a random chat in progress, as its own operator (an error fails the test).
        const busy = await db.selectFrom('chats').select(['id', 'operator_id']).where('state', '=', 'in-progress').execute();
        if (busy.length) {
          const c = busy[Math.floor(rand() * busy.length)];
          expect(await service.complete(c.id, { kind: 'operator', userId: c.operator_id! })).toBe(true);
          completed++;
        }
      } else {
        // Fewest chats; ties to the one who has gone longest without a new chat.
        expect(offer?.user_id).toBe(eligible[0].userId);
        if (rand() < 0.7) await service.accept(chatId, offer!.user_id);
      }
      await service.idle();
    }
    expect(errs).toEqual([]);
    // The run went through full capacity and freed it again several times.
    expect(completed).toBeGreaterThan(3);
  });

  it('chats of the same millisecond are offered in arrival order, not by their ids', async () => {
    const db = tdb.db;
    const fx = await createFixture(db, 17, 1);
    const service = simRoutingService(db, tdb.dialect, { ...fx, limits: { [fx.operatorIds[0]]: 1 } }, () => {});
    const q = await createQueueService({ db }).create({ name: 'Same ms', routingRule: 'least-busy', userIds: fx.operatorIds });
    await service.setStatus(fx.operatorIds[0], 'active');
    await service.idle();
    // Three customers in one millisecond; ids descending, so id order is the reverse of arrival.
    const at = nowIso();
    const ids = ['ffffffff-0000-4000-8000-000000000003', '88888888-0000-4000-8000-000000000002', '11111111-0000-4000-8000-000000000001'];
    for (const id of ids) {
      await db
        .insertInto('chats')
        .values({
          id, channel_id: fx.channelId, queue_id: q.id, contact_id: null, external_chat_id: `ms-${id}`, customer_name: id, customer_username: null, state: 'queued',
          operator_id: null, open_key: `${fx.channelId}:ms-${id}`, created_at: at, offered_at: null, accepted_at: null, completed_at: null, completed_by: null,
          last_incoming_at: at, last_outgoing_at: null, last_message_at: at,
        })
        .execute();
    }
    const order: string[] = [];
    for (let i = 0; i < ids.length; i++) {
      await service.routeQueue(q.id);
      const offered = await db.selectFrom('chats').select('id').where('queue_id', '=', q.id).where('state', '=', 'offered').executeTakeFirstOrThrow();
      order.push(offered.id);
      await service.accept(offered.id, fx.operatorIds[0]);
      await service.complete(offered.id, { kind: 'operator', userId: fx.operatorIds[0] });
      await service.idle();
    }
    expect(order).toEqual(ids);
  });

  it('an ignored least-busy offer is not "taking a chat": last_assigned_at moves on accept only, so the tie-break is unchanged', async () => {
    const db = tdb.db;
    const fx = await createFixture(db, 23, 3);
    const [a, d, c] = [...fx.operatorIds].sort();
    const service = simRoutingService(db, tdb.dialect, fx, () => {});
    const q = await createQueueService({ db }).create({ name: 'Tie-break', routingRule: 'least-busy', userIds: [a, c, d] });
    for (const u of [a, c, d]) await service.setStatus(u, 'active');
    await service.idle();
    // c took a chat long ago; a and d never did.
    await db.updateTable('chat_operators').set({ last_assigned_at: '2020-01-01T00:00:00.000Z' }).where('user_id', '=', c).execute();
    const lastOf = async (u: string) => (await db.selectFrom('chat_operators').select('last_assigned_at').where('user_id', '=', u).executeTakeFirstOrThrow()).last_assigned_at;
    const offerOf = (chatId: string) => db.selectFrom('chat_offers').select(['id', 'user_id']).where('chat_id', '=', chatId).where('state', '=', 'pending').executeTakeFirstOrThrow();

    const x = await insertChat(db, fx, q.id, 1);
    await service.routeQueue(q.id);
    const first = await offerOf(x);
    expect(first.user_id).toBe(a);
    expect(await lastOf(a)).toBeNull();
    // a ignores it: the offer expires (a becomes inactive), x moves on to d, who takes it.
    await new Promise((r) => setTimeout(r, 5));
    expect(await service.expireOffer(first.id)).toBe(true);
    await service.idle();
    expect((await offerOf(x)).user_id).toBe(d);
    await service.accept(x, d);
    const accepted = await db.selectFrom('chats').select('accepted_at').where('id', '=', x).executeTakeFirstOrThrow();
    expect(await lastOf(d)).toBe(accepted.accepted_at);
    expect(await lastOf(a)).toBeNull();
    // a is back: a and c both have no chat; a never took one, so a goes first (not c, as it would if the expired offer had counted).
    await service.setStatus(a, 'active');
    await service.idle();
    const y = await insertChat(db, fx, q.id, 2);
    await service.routeQueue(q.id);
    expect((await offerOf(y)).user_id).toBe(a);
  });

  it('to-all: exactly one of many concurrent accepts wins, the others are withdrawn', async () => {
    const db = tdb.db;
    const fx = await createFixture(db, 11, 12);
    const service = simRoutingService(db, tdb.dialect, fx, () => {});
    const queues = createQueueService({ db });
    const q = await queues.create({ name: 'Race to all', routingRule: 'to-all', userIds: fx.operatorIds });
    for (const id of fx.operatorIds) await service.setStatus(id, 'active');
    await service.idle();
    for (let round = 0; round < 5; round++) {
      const chatId = await insertChat(db, fx, q.id, round);
      await service.routeOne(chatId);
      const offers = await db.selectFrom('chat_offers').select('user_id').where('chat_id', '=', chatId).where('state', '=', 'pending').execute();
      expect(offers.length).toBeGreaterThan(1);
      const results = await Promise.allSettled(offers.map((o) => service.accept(chatId, o.user_id)));
      const winners = results.filter((r) => r.status === 'fulfilled');
      expect(winners.length).toBe(1);
      for (const r of results) if (r.status === 'rejected') expect((r.reason as { statusCode: number }).statusCode).toBe(409);
      const after = await db.selectFrom('chat_offers').select(['state']).where('chat_id', '=', chatId).execute();
      expect(after.filter((o) => o.state === 'accepted').length).toBe(1);
      expect(after.filter((o) => o.state === 'pending').length).toBe(0);
      await service.complete(chatId, { kind: 'operator', userId: (winners[0] as PromiseFulfilledResult<{ operatorId: string | null }>).value.operatorId! });
      await service.idle();
    }
  });
});
