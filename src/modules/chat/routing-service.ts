// The transactional half of routing (H2, H3, H4): offers, accepts, timeouts, completion, operator
// status. The decisions themselves are the pure functions in routing.ts.
//
// Why it is race-free, in one process and across processes:
//   - Every transaction that changes a chat or its offers first locks that chat row
//     (`SELECT ... FOR UPDATE` on PostgreSQL; SQLite runs one writer transaction at a time).
//   - Every change of an operator's load (chats in progress + pending offers: an offer, an accept,
//     a completion, an expiry, a withdrawal) happens under that operator's chat_operators row
//     lock, and routing counts loads only after taking those locks. Two routers can therefore
//     never both see the same free slot, and a routing decision's view of every operator stays
//     true until it commits (tests check each decision against the tables inside its transaction).
//   - A routing pass locks its queue row first (FOR UPDATE): passes of one queue take turns, and
//     no chat of the queue can become waiting mid-decision — a new chat's insert (foreign-key
//     check) and an expiry or withdrawal (lockQueueShared) take a key-share lock on the queue row
//     and wait — so waiting chats are offered strictly in arrival order (`seq`).
//   - Lock order is "queue, chat(s), operators sorted by id" everywhere (accept and completion
//     start at the chat), so there is no deadlock cycle. Work touching several chats outside
//     routing (withdrawing an operator's offers) runs one chat per transaction.
//   - An accept is a conditional UPDATE ... WHERE state = 'offered' whose affected-row count is
//     checked, inside the chat-locked transaction: exactly one operator wins.
// Notifications and timeout jobs are emitted only after the commit, so nobody is told about an
// offer that was rolled back.
import type { Insertable, Transaction } from 'kysely';
import type { DB, Database } from '../../schema.js';
import { forUpdate, newId, nowIso, sql, type Dialect } from '../../platform/db/index.js';
import { errors } from '../../platform/http/errors.js';
import type { RealtimeEvent } from '../../platform/realtime/types.js';
import { decide, type OperatorSnapshot, type RoutingDecision } from './routing.js';
import type { Chat, ChatOffersTable, OfferState, OperatorStatus, RoutingRule } from './tables.js';

type Trx = Transaction<Database>;

export interface RoutingServiceDeps {
  /** After an operator took a chat (e.g. to let them open the customer's contact). */
  onAccepted?(chat: ChatSummary, userId: string): Promise<void>;
  db: DB;
  dialect: Dialect;
  /** `SimultaneousChats` for one operator. */
  limitFor(userId: string): Promise<number>;
  /** `OmniChatOperatorAcceptChatTimeout` in milliseconds. */
  acceptTimeoutMs(): Promise<number>;
  roleMemberIds(roleId: string): Promise<string[]>;
  notify(userIds: string[], event: RealtimeEvent): Promise<void>;
  /** Arrange for `expireOffer(offerId)` to run after delayMs (a delayed job, keyed by offer). */
  scheduleOfferTimeout(offerId: string, delayMs: number): Promise<void>;
  onBackgroundError?(err: unknown, what: string): void;
  now?: () => Date;
  /** Length of a "minute" of the completion timeout in ms (tests shorten it); default 60,000. */
  minuteMs?: () => number;
}

export interface ChatSummary {
  chatId: string;
  queueId: string;
  channelId: string;
  contactId: string | null;
  customerName: string;
  state: string;
  operatorId: string | null;
}

export interface OperatorView {
  userId: string;
  status: OperatorStatus;
  statusReason: string;
  chatsInProgress: number;
  pendingOffers: number;
  limit: number;
  lastAssignedAt: string | null;
}

/**
 * What a decision observer gets (tests check every decision against their own reading of the
 * tables). `trx` is the routing transaction, holding the locks the decision was made under, so
 * queries on it see exactly the state the decision saw — except this transaction's own earlier
 * decisions, which are written at its end and listed in `earlier`.
 */
export interface DecisionEvent {
  trx: Trx;
  queueId: string;
  chatId: string;
  chatSeq: number;
  rule: RoutingRule;
  snapshots: OperatorSnapshot[];
  decision: RoutingDecision;
  /** Offers decided earlier in this transaction (not yet written). */
  earlier: { chatId: string; userIds: string[] }[];
  /** The chats this transaction locked and decides, in arrival order. */
  batch: string[];
}

/** Waiting chats routed per transaction. */
const BATCH = 50;

type Outbox = { userIds: string[]; event: RealtimeEvent }[];

interface Pass {
  rule: RoutingRule;
  members: string[];
  limits: Map<string, number>;
  timeoutMs: number;
}

export function summarize(c: Chat): ChatSummary {
  return {
    chatId: c.id,
    queueId: c.queue_id,
    channelId: c.channel_id,
    contactId: c.contact_id,
    customerName: c.customer_name,
    state: c.state,
    operatorId: c.operator_id,
  };
}

export type RoutingService = ReturnType<typeof createRoutingService>;

export function createRoutingService(deps: RoutingServiceDeps) {
  const { db, dialect } = deps;
  const clock = deps.now ?? (() => new Date());
  const inflight = new Set<Promise<unknown>>();

  async function flush(out: Outbox) {
    for (const o of out) {
      if (o.userIds.length === 0) continue;
      try {
        await deps.notify(o.userIds, o.event);
      } catch (err) {
        deps.onBackgroundError?.(err, `notify ${o.event.type}`);
      }
    }
  }

  /** Runs routing work after the caller's answer; `idle()` waits for it (tests, shutdown). */
  function background(what: string, fn: () => Promise<unknown>) {
    const p = fn()
      .catch((err) => deps.onBackgroundError?.(err, what))
      .finally(() => inflight.delete(p));
    inflight.add(p);
  }

  async function idle() {
    while (inflight.size) await Promise.all([...inflight]);
  }

  /**
   * Expiries and withdrawals put a chat back to 'queued': they take a key-share lock on its queue
   * first (before the chat), so they wait while a routing pass of that queue holds its update lock
   * and the pass sees every waiting chat (see routeBatch). Key-share locks do not block each other.
   */
  async function lockQueueShared(trx: Trx, queueId: string) {
    if (dialect === 'postgres') await trx.selectFrom('chat_queues').select('id').where('id', '=', queueId).forKeyShare().executeTakeFirst();
  }

  const lockChat = (trx: Trx, chatId: string) =>
    forUpdate(trx.selectFrom('chats').selectAll().where('id', '=', chatId), dialect).executeTakeFirst();

  async function queueMembers(queueId: string): Promise<string[]> {
    const direct = await db
      .selectFrom('chat_queue_users')
      .innerJoin('users', 'users.id', 'chat_queue_users.user_id')
      .select('users.id')
      .where('chat_queue_users.queue_id', '=', queueId)
      .where('users.is_active', '=', 1)
      .execute();
    const roles = await db.selectFrom('chat_queue_roles').select('role_id').where('queue_id', '=', queueId).execute();
    const ids = new Set(direct.map((d) => d.id));
    for (const r of roles) for (const u of await deps.roleMemberIds(r.role_id)) ids.add(u);
    return [...ids].sort();
  }

  async function limitsFor(userIds: string[]): Promise<Map<string, number>> {
    const pairs = await Promise.all(userIds.map(async (u) => [u, await deps.limitFor(u)] as const));
    return new Map(pairs);
  }

  /** In-progress chats and pending offers per operator, read inside the transaction after the locks (one round trip). */
  async function loads(trx: Trx | DB, userIds: string[]) {
    const inProgress = new Map<string, number>();
    const pending = new Map<string, number>();
    /** Pending least-busy offers (assignments awaiting accept), part of `pending`. */
    const assigned = new Map<string, number>();
    if (userIds.length === 0) return { inProgress, pending, assigned };
    const rows = await trx
      .selectFrom('chats')
      .select([sql<string>`'c'`.as('k'), 'operator_id as u', (eb) => eb.fn.countAll<number>().as('n')])
      .where('state', '=', 'in-progress')
      .where('operator_id', 'in', userIds)
      .groupBy('operator_id')
      .unionAll((eb) =>
        eb
          .selectFrom('chat_offers')
          .select([sql<string>`case when rule = 'least-busy' then 'l' else 'o' end`.as('k'), 'user_id as u', (eb2) => eb2.fn.countAll<number>().as('n')])
          .where('state', '=', 'pending')
          .where('user_id', 'in', userIds)
          .groupBy(['user_id', 'rule']),
      )
      .execute();
    for (const r of rows) {
      const n = Number(r.n);
      if (r.k === 'c') inProgress.set(r.u!, n);
      else {
        pending.set(r.u!, (pending.get(r.u!) ?? 0) + n);
        if (r.k === 'l') assigned.set(r.u!, n);
      }
    }
    return { inProgress, pending, assigned };
  }

  /**
   * Locks EVERY member's operator row (sorted by id, inactive ones too, so a status change waits
   * for this decision instead of slipping in beside it) and reads the load of the active ones.
   * Every change of an operator's load — an offer, an accept, a completion, an expiry, a
   * withdrawal — happens under that operator's row lock, so the snapshot stays true until commit.
   */
  async function lockedSnapshots(trx: Trx, pass: Pass): Promise<OperatorSnapshot[]> {
    if (pass.members.length === 0) return [];
    const rows = (await lockOperators(trx, pass.members)).filter((r) => r.status === 'active');
    const { inProgress, pending, assigned } = await loads(
      trx,
      rows.map((r) => r.user_id),
    );
    return rows.map((r) => ({
      userId: r.user_id,
      status: r.status,
      inProgress: inProgress.get(r.user_id) ?? 0,
      pendingOffers: pending.get(r.user_id) ?? 0,
      assignedOffers: assigned.get(r.user_id) ?? 0,
      lastAssignedAt: r.last_assigned_at,
      limit: pass.limits.get(r.user_id) ?? 2,
    }));
  }

  /** Operator rows locked in user-id order (the one lock order every transaction follows). */
  async function lockOperators(trx: Trx, userIds: Iterable<string | null | undefined>) {
    const ids = [...new Set([...userIds].filter((u): u is string => !!u))].sort();
    if (ids.length === 0) return [];
    return forUpdate(trx.selectFrom('chat_operators').selectAll().where('user_id', 'in', ids).orderBy('user_id'), dialect).execute();
  }

  const decisionListeners = new Set<(d: DecisionEvent) => void | Promise<void>>();

  /**
   * One transaction of a routing pass over a queue:
   *   1. lock the queue row (FOR UPDATE) — routing passes of a queue take turns, and the queue's
   *      set of waiting chats cannot grow meanwhile: inserting a chat takes a key-share lock on its
   *      queue row through the foreign key, and so do expiries and withdrawals (lockQueueShared),
   *      the only ways a chat goes back to 'queued'; both wait for ours;
   *   2. read and lock the next waiting chats in arrival order (`seq`): every chat still 'queued'
   *      (however old: one whose offer expired must not be overtaken), plus under to-all the
   *      'offered' chats after the cursor (they may gain operators who have room now);
   *   3. lock the queue's operators (by id) and read their load once;
   *   4. decide chat by chat in arrival order, updating the loads in memory, and write all offers.
   * Lock order: queue, chats, operators by id. Other transactions take the same order (an expiry:
   * its queue shared, its chat, its operator), so there is no cycle. Returns the offered count,
   * whether a chat had to wait, the cursor for the next batch, and each decided chat's outcome.
   */
  async function routeBatch(
    queueId: string,
    pass: Pass,
    cursor: number | null,
  ): Promise<{ offered: number; waited: boolean; count: number; last: number | null; kinds: Map<string, RoutingDecision['kind']> }> {
    const out: Outbox = [];
    const timeouts: { offerId: string; delayMs: number }[] = [];
    const kinds = new Map<string, RoutingDecision['kind']>();
    const result = await db.transaction().execute(async (trx) => {
      await forUpdate(trx.selectFrom('chat_queues').select('id').where('id', '=', queueId), dialect).executeTakeFirst();
      let q = trx.selectFrom('chats').selectAll().where('queue_id', '=', queueId);
      if (pass.rule === 'least-busy') q = q.where('state', '=', 'queued');
      else {
        const c = cursor;
        q = q.where((eb) => (c === null ? eb('state', 'in', ['queued', 'offered']) : eb.or([eb('state', '=', 'queued'), eb.and([eb('state', '=', 'offered'), eb('seq', '>', c)])])));
      }
      const waiting = (await forUpdate(q.orderBy('seq').limit(BATCH), dialect).execute())
        // PostgreSQL may return locked rows out of order when one changed while we waited for it.
        .filter((c) => c.state === 'queued' || (pass.rule === 'to-all' && c.state === 'offered'))
        .sort((x, y) => Number(x.seq) - Number(y.seq));
      if (waiting.length === 0) return { offered: 0, waited: false, count: 0, last: null };
      const last = Number(waiting[waiting.length - 1].seq);
      const snaps = await lockedSnapshots(trx, pass);
      const byUser = new Map(snaps.map((sn) => [sn.userId, sn]));
      const pendingRows = await trx
        .selectFrom('chat_offers')
        .select(['chat_id', 'user_id'])
        .where('chat_id', 'in', waiting.map((c) => c.id))
        .where('state', '=', 'pending')
        .execute();
      const pendingOf = new Map<string, Set<string>>();
      for (const r of pendingRows) pendingOf.set(r.chat_id, (pendingOf.get(r.chat_id) ?? new Set()).add(r.user_id));
      const now = clock();
      const nowText = nowIso(now);
      const expiresAt = pass.rule === 'least-busy' ? nowIso(new Date(now.getTime() + pass.timeoutMs)) : null;
      const offers: Insertable<ChatOffersTable>[] = [];
      const offeredChats: string[] = [];
      const earlier: DecisionEvent['earlier'] = [];
      let waited = false;
      for (const chat of waiting) {
        const decision = decide(pass.rule, snaps, pendingOf.get(chat.id) ?? new Set());
        if (decisionListeners.size) {
          const ev: DecisionEvent = {
            trx, queueId, chatId: chat.id, chatSeq: Number(chat.seq), rule: pass.rule, snapshots: snaps.map((x) => ({ ...x })), decision,
            earlier: earlier.map((e) => ({ ...e })), batch: waiting.map((c) => c.id),
          };
          for (const l of decisionListeners) await l(ev);
        }
        kinds.set(chat.id, decision.kind);
        if (decision.kind === 'wait') {
          // Every later chat of the queue has the same operators: it would wait too.
          waited = true;
          break;
        }
        if (decision.kind !== 'offer') continue;
        earlier.push({ chatId: chat.id, userIds: decision.userIds });
        for (const userId of decision.userIds) {
          const id = newId();
          offers.push({ id, chat_id: chat.id, user_id: userId, rule: pass.rule, state: 'pending', created_at: nowText, expires_at: expiresAt, resolved_at: null });
          if (expiresAt) timeouts.push({ offerId: id, delayMs: pass.timeoutMs });
          const sn = byUser.get(userId)!;
          sn.pendingOffers++;
          // Under least-busy the chat is assigned to them now (it ranks them busier until accepted or expired).
          if (pass.rule === 'least-busy') sn.assignedOffers++;
        }
        offeredChats.push(chat.id);
        out.push({
          userIds: decision.userIds,
          event: { type: 'chat.offered', data: { ...summarize({ ...chat, state: 'offered' }), rule: pass.rule, expiresAt } },
        });
      }
      for (let i = 0; i < offers.length; i += 200) await trx.insertInto('chat_offers').values(offers.slice(i, i + 200)).execute();
      if (offeredChats.length) {
        await trx
          .updateTable('chats')
          .set({ state: 'offered', offered_at: sql<string>`coalesce(offered_at, ${nowText})` })
          .where('id', 'in', offeredChats)
          .execute();
      }
      return { offered: offeredChats.length, waited, count: waiting.length, last };
    });
    await flush(out);
    for (const t of timeouts) {
      try {
        await deps.scheduleOfferTimeout(t.offerId, t.delayMs);
      } catch (err) {
        // The periodic sweep (expireDueOffers) still catches it.
        deps.onBackgroundError?.(err, 'schedule offer timeout');
      }
    }
    return { ...result, kinds };
  }

  /**
   * Routes a queue's waiting chats in arrival order until one has to wait: every later chat of the
   * queue has the same operators, so it would wait too. Returns how many chats got offers.
   */
  function routeQueue(queueId: string): Promise<number> {
    return coalesce(queueId, () => routeQueueNow(queueId).then((r) => r.routed));
  }

  async function routeQueueNow(queueId: string): Promise<{ routed: number; kinds: Map<string, RoutingDecision['kind']> }> {
    const kinds = new Map<string, RoutingDecision['kind']>();
    const queue = await db.selectFrom('chat_queues').select(['id', 'routing_rule']).where('id', '=', queueId).executeTakeFirst();
    if (!queue) return { routed: 0, kinds };
    const members = await queueMembers(queueId);
    const pass: Pass = { rule: queue.routing_rule, members, limits: await limitsFor(members), timeoutMs: await deps.acceptTimeoutMs() };
    let routed = 0;
    let cursor: number | null = null;
    for (;;) {
      const r = await routeBatch(queueId, pass, cursor);
      routed += r.offered;
      for (const [k, v] of r.kinds) kinds.set(k, v);
      if (r.waited || r.count < BATCH || r.last === null) return { routed, kinds };
      cursor = r.last;
    }
  }

  /**
   * Coalesces passes: a request while a pass runs is served by ONE follow-up pass that starts after
   * the running one, so a burst of triggers (every accept, completion, arrival) costs two passes,
   * not one each — and no trigger is lost, because the follow-up starts after the request.
   */
  const passes = new Map<string, { running: Promise<number> | null; next: Promise<number> | null }>();
  function coalesce(key: string, fn: () => Promise<number>): Promise<number> {
    let st = passes.get(key);
    if (!st) passes.set(key, (st = { running: null, next: null }));
    const s = st;
    const start = (): Promise<number> => {
      const p = fn().finally(() => {
        if (s.running === p) s.running = null;
      });
      s.running = p;
      return p;
    };
    if (!s.running) return start();
    if (!s.next) {
      s.next = s.running.catch(() => 0).then(() => {
        s.next = null;
        return start();
      });
    }
    return s.next;
  }

  /** Routes every queue that has waiting chats (capacity freed somewhere, an operator came back...). */
  function routeAll(): Promise<number> {
    return coalesce('*', routeAllNow);
  }

  async function routeAllNow(): Promise<number> {
    const queues = await db.selectFrom('chats').select('queue_id').distinct().where('state', 'in', ['queued', 'offered']).execute();
    let n = 0;
    for (const q of queues) n += (await routeQueueNow(q.queue_id)).routed;
    return n;
  }

  function routeAllSoon() {
    background('route all', routeAll);
  }

  async function accept(chatId: string, userId: string): Promise<ChatSummary> {
    const limit = await deps.limitFor(userId);
    const out: Outbox = [];
    const chat = await db.transaction().execute(async (trx) => {
      const chat = await lockChat(trx, chatId);
      if (!chat) throw errors.notFound('Chat', chatId);
      if (chat.state === 'in-progress' && chat.operator_id === userId) return chat;
      if (chat.state === 'in-progress') throw errors.conflict('Another operator has already taken this chat.', { state: chat.state });
      if (chat.state === 'completed') throw errors.conflict('This chat is already completed.', { state: chat.state });
      const offers = await trx.selectFrom('chat_offers').select(['id', 'user_id']).where('chat_id', '=', chatId).where('state', '=', 'pending').execute();
      const offer = offers.find((o) => o.user_id === userId);
      if (chat.state !== 'offered' || !offer) throw errors.conflict('This chat is not offered to you (it may have moved to another operator).', { state: chat.state });
      // The acceptor's load changes, and so does every other offeree's (their offers are withdrawn).
      await lockOperators(trx, offers.map((o) => o.user_id));
      const { inProgress, pending } = await loads(trx, [userId]);
      const busy = (inProgress.get(userId) ?? 0) + (pending.get(userId) ?? 0) - 1;
      if (busy >= limit) {
        throw errors.conflict(`You already have ${inProgress.get(userId) ?? 0} chats in progress; the limit is ${limit}. Complete one first.`, { limit });
      }
      const nowText = nowIso(clock());
      const upd = await trx
        .updateTable('chats')
        .set({ state: 'in-progress', operator_id: userId, accepted_at: nowText })
        .where('id', '=', chatId)
        .where('state', '=', 'offered')
        .executeTakeFirst();
      if (Number(upd.numUpdatedRows) !== 1) throw errors.conflict('Another operator has already taken this chat.');
      // Mine becomes accepted, everyone else's offer for this chat is withdrawn — one statement.
      await trx
        .updateTable('chat_offers')
        .set((eb) => ({ state: eb.case().when('id', '=', offer.id).then(sql<OfferState>`'accepted'`).else(sql<OfferState>`'withdrawn'`).end(), resolved_at: nowText }))
        .where('chat_id', '=', chatId)
        .where('state', '=', 'pending')
        .execute();
      const others = offers.filter((o) => o.id !== offer.id);
      await trx.updateTable('chat_operators').set({ last_assigned_at: nowText }).where('user_id', '=', userId).execute();
      const taken = { ...chat, state: 'in-progress' as const, operator_id: userId, accepted_at: nowText };
      out.push({ userIds: [userId], event: { type: 'chat.assigned', data: summarize(taken) } });
      out.push({ userIds: others.map((o) => o.user_id), event: { type: 'chat.withdrawn', data: { ...summarize(taken), reason: 'taken' } } });
      return taken;
    });
    await flush(out);
    await deps.onAccepted?.(summarize(chat), userId);
    // Others' reserved slots are free again: offer them the next waiting chats.
    if (out[1]?.userIds.length) routeAllSoon();
    return summarize(chat);
  }

  /**
   * Completes a chat. `operator`: only the operator working it; `timeout`: only when the queue's
   * completion timeout has passed since the last outgoing message (the job may be stale).
   * Returns false when nothing changed.
   */
  async function complete(chatId: string, by: { kind: 'operator'; userId: string } | { kind: 'timeout' } | { kind: 'system'; reason: string }): Promise<boolean> {
    const out: Outbox = [];
    const changed = await db.transaction().execute(async (trx) => {
      const chat = await lockChat(trx, chatId);
      if (!chat) {
        if (by.kind === 'operator') throw errors.notFound('Chat', chatId);
        return false;
      }
      if (chat.state === 'completed') return false;
      if (by.kind === 'operator') {
        if (chat.state !== 'in-progress' || chat.operator_id !== by.userId) throw errors.conflict('Only the operator working this chat can complete it.', { state: chat.state });
      }
      const now = clock();
      if (by.kind === 'timeout') {
        if (chat.state !== 'in-progress' || !chat.last_outgoing_at) return false;
        const q = await trx.selectFrom('chat_queues').select('completion_timeout_minutes').where('id', '=', chat.queue_id).executeTakeFirst();
        const minutes = q?.completion_timeout_minutes;
        if (minutes === null || minutes === undefined) return false;
        const due = new Date(chat.last_outgoing_at).getTime() + minutes * (deps.minuteMs?.() ?? 60_000);
        if (due > now.getTime()) return false;
      }
      const nowText = nowIso(now);
      // The operator's load drops, and so does every offeree's: their rows are locked first.
      const offered = await trx.selectFrom('chat_offers').select('user_id').where('chat_id', '=', chatId).where('state', '=', 'pending').execute();
      await lockOperators(trx, [chat.operator_id, ...offered.map((o) => o.user_id)]);
      await trx
        .updateTable('chats')
        .set({ state: 'completed', open_key: null, completed_at: nowText, completed_by: by.kind === 'system' ? by.reason : by.kind })
        .where('id', '=', chatId)
        .execute();
      await trx.updateTable('chat_offers').set({ state: 'withdrawn', resolved_at: nowText }).where('chat_id', '=', chatId).where('state', '=', 'pending').execute();
      const done = { ...chat, state: 'completed' as const };
      if (chat.operator_id) out.push({ userIds: [chat.operator_id], event: { type: 'chat.completed', data: { ...summarize(done), completedBy: by.kind } } });
      out.push({ userIds: offered.map((o) => o.user_id), event: { type: 'chat.withdrawn', data: { ...summarize(done), reason: 'completed' } } });
      return true;
    });
    await flush(out);
    if (changed) routeAllSoon();
    return changed;
  }

  /** A least-busy offer was not accepted in time: the chat moves on and the operator becomes Inactive. */
  async function expireOffer(offerId: string): Promise<boolean> {
    const offer = await db
      .selectFrom('chat_offers')
      .innerJoin('chats', 'chats.id', 'chat_offers.chat_id')
      .select(['chat_offers.chat_id', 'chat_offers.user_id', 'chat_offers.state', 'chats.queue_id'])
      .where('chat_offers.id', '=', offerId)
      .executeTakeFirst();
    if (!offer || offer.state !== 'pending') return false;
    const out: Outbox = [];
    const expired = await db.transaction().execute(async (trx) => {
      await lockQueueShared(trx, offer.queue_id);
      const chat = await lockChat(trx, offer.chat_id);
      if (!chat) return false;
      // Offers of a chat change only under its lock, so this read is final.
      const o = await trx.selectFrom('chat_offers').selectAll().where('id', '=', offerId).executeTakeFirst();
      if (!o || o.state !== 'pending' || !o.expires_at) return false;
      const now = clock();
      if (new Date(o.expires_at).getTime() > now.getTime()) return false;
      await lockOperators(trx, [o.user_id]);
      const nowText = nowIso(now);
      await trx.updateTable('chat_offers').set({ state: 'expired', resolved_at: nowText }).where('id', '=', offerId).execute();
      await trx
        .updateTable('chat_operators')
        .set({ status: 'inactive', status_reason: 'accept-timeout', status_changed_at: nowText })
        .where('user_id', '=', o.user_id)
        .execute();
      const left = await trx.selectFrom('chat_offers').select('id').where('chat_id', '=', chat.id).where('state', '=', 'pending').execute();
      if (left.length === 0) await trx.updateTable('chats').set({ state: 'queued', offered_at: null }).where('id', '=', chat.id).execute();
      out.push({ userIds: [o.user_id], event: { type: 'chat.withdrawn', data: { ...summarize(chat), reason: 'accept-timeout' } } });
      out.push({ userIds: [o.user_id], event: { type: 'operator.status', data: { userId: o.user_id, status: 'inactive', reason: 'accept-timeout' } } });
      return true;
    });
    await flush(out);
    if (expired) {
      await withdrawOffersOf(offer.user_id, 'operator-inactive');
      routeAllSoon();
    }
    return expired;
  }

  /** Safety net for lost timeout jobs: expires every pending offer past its deadline. */
  async function expireDueOffers(): Promise<number> {
    const due = await db
      .selectFrom('chat_offers')
      .select('id')
      .where('state', '=', 'pending')
      .where('expires_at', 'is not', null)
      .where('expires_at', '<=', nowIso(clock()))
      .orderBy('expires_at')
      .limit(500)
      .execute();
    let n = 0;
    for (const d of due) if (await expireOffer(d.id)) n++;
    return n;
  }

  /** Takes back one pending offer (under its chat's lock, then the operator's); the chat waits again if nobody else has it. */
  async function withdrawOffer(offer: { id: string; chat_id: string; user_id: string; queue_id: string }, reason: string): Promise<boolean> {
    const out: Outbox = [];
    const done = await db.transaction().execute(async (trx) => {
      await lockQueueShared(trx, offer.queue_id);
      const chat = await lockChat(trx, offer.chat_id);
      if (!chat) return false;
      const o = await trx.selectFrom('chat_offers').select('state').where('id', '=', offer.id).executeTakeFirst();
      if (o?.state !== 'pending') return false;
      await lockOperators(trx, [offer.user_id]);
      await trx.updateTable('chat_offers').set({ state: 'withdrawn', resolved_at: nowIso(clock()) }).where('id', '=', offer.id).execute();
      const left = await trx.selectFrom('chat_offers').select('id').where('chat_id', '=', chat.id).where('state', '=', 'pending').execute();
      if (left.length === 0 && chat.state === 'offered') await trx.updateTable('chats').set({ state: 'queued', offered_at: null }).where('id', '=', chat.id).execute();
      out.push({ userIds: [offer.user_id], event: { type: 'chat.withdrawn', data: { ...summarize(chat), reason } } });
      return true;
    });
    await flush(out);
    return done;
  }

  /** Takes back an operator's pending offers (they went Inactive); each chat in its own transaction. */
  async function withdrawOffersOf(userId: string, reason: string): Promise<number> {
    const offers = await db
      .selectFrom('chat_offers')
      .innerJoin('chats', 'chats.id', 'chat_offers.chat_id')
      .select(['chat_offers.id', 'chat_offers.chat_id', 'chat_offers.user_id', 'chats.queue_id'])
      .where('chat_offers.user_id', '=', userId)
      .where('chat_offers.state', '=', 'pending')
      .execute();
    let n = 0;
    for (const offer of offers) if (await withdrawOffer(offer, reason)) n++;
    return n;
  }

  /**
   * A queue's operators changed: whoever no longer serves it loses their pending offers of its
   * chats (they would otherwise hold the chat — and a slot — for a queue they left), and the
   * queue's waiting chats are routed again.
   */
  async function membershipChanged(queueId: string): Promise<number> {
    const n = await withdrawFromNonMembers(queueId);
    await routeAll();
    return n;
  }

  /**
   * Who belongs to roles changed (identity: a user's roles, activation, a role's members or
   * contained roles, a role deleted). Any queue may serve through such a role — or just lost it
   * with a deleted role — so every queue is reconciled, then waiting chats are routed once.
   */
  async function rolesChanged(): Promise<number> {
    const queues = await db.selectFrom('chat_queues').select('id').execute();
    let n = 0;
    for (const q of queues) n += await withdrawFromNonMembers(q.id);
    await routeAll();
    return n;
  }

  async function withdrawFromNonMembers(queueId: string): Promise<number> {
    const members = new Set(await queueMembers(queueId));
    const offers = await db
      .selectFrom('chat_offers')
      .innerJoin('chats', 'chats.id', 'chat_offers.chat_id')
      .select(['chat_offers.id', 'chat_offers.chat_id', 'chat_offers.user_id', 'chats.queue_id'])
      .where('chats.queue_id', '=', queueId)
      .where('chat_offers.state', '=', 'pending')
      .execute();
    let n = 0;
    for (const o of offers) if (!members.has(o.user_id) && (await withdrawOffer(o, 'removed-from-queue'))) n++;
    return n;
  }

  async function setStatus(userId: string, status: OperatorStatus): Promise<OperatorView> {
    const nowText = nowIso(clock());
    await db
      .insertInto('chat_operators')
      .values({ user_id: userId, status, last_assigned_at: null, status_changed_at: nowText, status_reason: 'operator' })
      .onConflict((oc) => oc.column('user_id').doUpdateSet({ status, status_changed_at: nowText, status_reason: 'operator' }))
      .execute();
    if (status === 'inactive') await withdrawOffersOf(userId, 'operator-inactive');
    // Going inactive frees reserved slots of nobody else, but the withdrawn chats need new operators.
    routeAllSoon();
    await flush([{ userIds: [userId], event: { type: 'operator.status', data: { userId, status, reason: 'operator' } } }]);
    return operatorView(userId);
  }

  async function operatorView(userId: string): Promise<OperatorView> {
    return (await operatorViews([userId]))[0];
  }

  /** Status and load of several operators at once (the chat manager's overview and operator picker). */
  async function operatorViews(userIds: string[]): Promise<OperatorView[]> {
    if (userIds.length === 0) return [];
    const rows = await db.selectFrom('chat_operators').selectAll().where('user_id', 'in', userIds).execute();
    const byUser = new Map(rows.map((r) => [r.user_id, r]));
    const { inProgress, pending } = await loads(db, userIds);
    const limits = await limitsFor(userIds);
    return userIds.map((userId) => {
      const row = byUser.get(userId);
      return {
        userId,
        status: row?.status ?? 'inactive',
        statusReason: row?.status_reason ?? 'operator',
        chatsInProgress: inProgress.get(userId) ?? 0,
        pendingOffers: pending.get(userId) ?? 0,
        limit: limits.get(userId) ?? 0,
        lastAssignedAt: row?.last_assigned_at ?? null,
      };
    });
  }

  return {
    queueMembers,
    operatorViews,
    /** Routes the chat's queue (in arrival order: older waiting chats go first) and says what became of this chat. */
    routeOne: async (chatId: string): Promise<RoutingDecision['kind'] | 'gone'> => {
      const chat = await db.selectFrom('chats').select('queue_id').where('id', '=', chatId).executeTakeFirst();
      if (!chat) return 'gone';
      await routeQueue(chat.queue_id);
      const after = await db.selectFrom('chats').select('state').where('id', '=', chatId).executeTakeFirst();
      return after?.state === 'offered' ? 'offer' : after?.state === 'queued' ? 'wait' : 'gone';
    },
    routeQueue,
    routeAll,
    routeAllSoon,
    accept,
    complete,
    expireOffer,
    expireDueOffers,
    withdrawOffersOf,
    membershipChanged,
    rolesChanged,
    setStatus,
    operatorView,
    idle,
    background,
    /** Observes every routing decision inside its transaction (tests); an async listener is awaited there. */
    onDecision(listener: (d: DecisionEvent) => void | Promise<void>) {
      decisionListeners.add(listener);
      return () => decisionListeners.delete(listener);
    },
  };
}
