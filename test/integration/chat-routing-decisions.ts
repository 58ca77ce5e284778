// Checks every routing decision of the simulation at the moment it is made: the routing service
// calls this inside its transaction, after it took its locks, and the checker re-reads the tables
// there itself (operators, their chats in progress and pending offers, the queue's waiting chats)
// rather than trusting the snapshot the decision used. It asserts
//   - least-busy: the chosen operator has the lowest (rank, last_assigned_at) among the queue's
//     active members with room (rank = chats in progress + pending least-busy offers, i.e. chats
//     assigned and awaiting accept; never assigned first); "room" counts every pending offer;
//   - to-all: the chat is offered to exactly the active members with room who do not have it yet;
//   - "wait": no active member has room;
//   - arrival order: no older chat of the queue is still 'queued' when a younger one gets an offer.
// Decisions made earlier in the same transaction are not written yet; the event lists them.
import type { DB } from '../../src/schema.js';
import { createIdentityService } from '../../src/modules/identity/index.js';
import type { DecisionEvent, RoutingService } from '../../src/modules/chat/routing-service.js';
import type { Fixture } from './chat-routing-sim.js';

interface Op {
  id: string;
  /** Chats in progress + pending least-busy offers (H3 rank). */
  load: number;
  lastAssignedAt: string | null;
}

/** Least-busy rank key, written out here independently of routing.ts. */
function rankOf(op: Op): [number, string] {
  // null (never assigned) sorts before every time.
  return [op.load, op.lastAssignedAt ?? ''];
}

function sameRank(a: Op, b: Op): boolean {
  const [la, ta] = rankOf(a);
  const [lb, tb] = rankOf(b);
  return la === lb && ta === tb;
}

function better(a: Op, b: Op): boolean {
  const [la, ta] = rankOf(a);
  const [lb, tb] = rankOf(b);
  return la < lb || (la === lb && ta < tb);
}

export async function queueMembersOf(db: DB, queueIds: string[]): Promise<Map<string, string[]>> {
  const identity = createIdentityService(db);
  const out = new Map<string, string[]>();
  for (const qid of queueIds) {
    const ids = new Set((await db.selectFrom('chat_queue_users').innerJoin('users', 'users.id', 'chat_queue_users.user_id').select('users.id').where('queue_id', '=', qid).where('users.is_active', '=', 1).execute()).map((r) => r.id));
    for (const r of await db.selectFrom('chat_queue_roles').select('role_id').where('queue_id', '=', qid).execute()) for (const u of await identity.roleMemberIds(r.role_id)) ids.add(u);
    out.set(qid, [...ids].sort());
  }
  return out;
}

/** Starts checking; membership is read up front (inside a SQLite transaction only `trx` may be used). */
export async function checkDecisions(db: DB, service: RoutingService, fx: Fixture) {
  const violations: string[] = [];
  const counts = { offer: 0, wait: 0, unchanged: 0, leastBusyOffers: 0 };
  const members = await queueMembersOf(db, fx.queueIds);

  async function check(ev: DecisionEvent) {
    counts[ev.decision.kind]++;
    const ids = members.get(ev.queueId) ?? [];
    const { trx } = ev;
    // One statement: each member's status, tie-break time, chats in progress, pending offers (all,
    // and least-busy ones), and whether they hold this chat's offer.
    const rows = ids.length
      ? await trx
          .selectFrom('chat_operators as o')
          .select((eb) => [
            'o.user_id',
            'o.status',
            'o.last_assigned_at',
            eb.selectFrom('chats as c').select((e) => e.fn.countAll<number>().as('n')).whereRef('c.operator_id', '=', 'o.user_id').where('c.state', '=', 'in-progress').as('busy'),
            eb.selectFrom('chat_offers as f').select((e) => e.fn.countAll<number>().as('n')).whereRef('f.user_id', '=', 'o.user_id').where('f.state', '=', 'pending').as('pending'),
            eb
              .selectFrom('chat_offers as f')
              .select((e) => e.fn.countAll<number>().as('n'))
              .whereRef('f.user_id', '=', 'o.user_id')
              .where('f.state', '=', 'pending')
              .where('f.rule', '=', 'least-busy')
              .as('assigned'),
            eb.selectFrom('chat_offers as f').select((e) => e.fn.countAll<number>().as('n')).whereRef('f.user_id', '=', 'o.user_id').where('f.state', '=', 'pending').where('f.chat_id', '=', ev.chatId).as('has_it'),
          ])
          .where('o.user_id', 'in', ids)
          .execute()
      : [];
    // capacity: everything shown to them; rank: what is theirs (in progress, or assigned by least-busy).
    const capacityUsed = new Map<string, number>();
    const rank = new Map<string, number>();
    const add = (m: Map<string, number>, u: string, n = 1) => m.set(u, (m.get(u) ?? 0) + n);
    for (const r of rows) {
      add(capacityUsed, r.user_id, Number(r.busy) + Number(r.pending));
      add(rank, r.user_id, Number(r.busy) + Number(r.assigned));
    }
    const lastAssigned = new Map(rows.map((r) => [r.user_id, r.last_assigned_at]));
    const haveIt = new Set(rows.filter((r) => Number(r.has_it) > 0).map((r) => r.user_id));
    for (const e of ev.earlier) {
      for (const u of e.userIds) {
        add(capacityUsed, u);
        if (ev.rule === 'least-busy') add(rank, u);
      }
    }
    const withRoom: Op[] = rows
      .filter((r) => r.status === 'active' && (capacityUsed.get(r.user_id) ?? 0) < (fx.limits[r.user_id] ?? 2))
      .map((r) => ({ id: r.user_id, load: rank.get(r.user_id) ?? 0, lastAssignedAt: lastAssigned.get(r.user_id) ?? null }));
    const d = ev.decision;
    const where = `${ev.rule} chat ${ev.chatId} (seq ${ev.chatSeq})`;
    if (d.kind === 'wait') {
      if (withRoom.length) violations.push(`${where}: waits although ${withRoom.map((o) => o.id).join(', ')} have room`);
      return;
    }
    if (ev.rule === 'least-busy') {
      if (d.kind === 'unchanged') {
        if (haveIt.size === 0) violations.push(`${where}: left unchanged without a pending offer`);
        return;
      }
      counts.leastBusyOffers++;
      if (haveIt.size) violations.push(`${where}: offered again while ${[...haveIt].join(', ')} still has it`);
      const chosen = withRoom.find((o) => o.id === d.userIds[0]);
      if (d.userIds.length !== 1 || !chosen) {
        violations.push(`${where}: offered to ${d.userIds.join(', ')}, not one active member with room`);
        return;
      }
      const best = withRoom.reduce((a, b) => (better(b, a) ? b : a));
      if (!sameRank(chosen, best)) {
        violations.push(`${where}: chose ${chosen.id} (load ${chosen.load}, last ${chosen.lastAssignedAt}) over ${best.id} (load ${best.load}, last ${best.lastAssignedAt})`);
      }
    } else {
      const expected = withRoom.map((o) => o.id).filter((u) => !haveIt.has(u)).sort();
      const got = d.kind === 'offer' ? [...d.userIds].sort() : [];
      if (expected.join() !== got.join()) violations.push(`${where}: offered to [${got.join(', ')}], expected [${expected.join(', ')}]`);
    }
    if (d.kind !== 'offer') return;
    // Arrival order: every older chat of the queue still 'queued' must be one decided earlier in this transaction.
    const decidedHere = new Set(ev.earlier.map((e) => e.chatId));
    const older = await trx.selectFrom('chats').select(['id', 'seq']).where('queue_id', '=', ev.queueId).where('state', '=', 'queued').where('seq', '<', ev.chatSeq).execute();
    const skipped = older.filter((c) => !decidedHere.has(c.id));
    if (skipped.length) {
      const offersOf = await trx.selectFrom('chat_offers').select(['chat_id', 'user_id', 'state']).where('chat_id', 'in', skipped.map((c) => c.id)).execute();
      const detail = (c: { id: string; seq: number }) =>
        `${c.id} (seq ${c.seq}${ev.batch.includes(c.id) ? ', in this batch' : ''}; offers ${offersOf.filter((o) => o.chat_id === c.id).map((o) => `${o.user_id.slice(0, 8)}:${o.state}${ids.includes(o.user_id) ? '' : ':not-member'}${ev.snapshots.some((x) => x.userId === o.user_id) ? ':active' : ''}`).join(' ') || 'none'})`;
      violations.push(`${where}: offered while older chat(s) ${skipped.map(detail).join(', ')} wait in the queue`);
    }
  }

  const off = service.onDecision(async (ev) => {
    try {
      await check(ev);
    } catch (e) {
      violations.push(`decision check failed: ${String(e)}`);
    }
  });
  return {
    violations,
    counts,
    stop: () => {
      off();
    },
  };
}
