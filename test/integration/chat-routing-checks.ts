// Invariant checks shared by the routing simulation tests.
import { expect } from 'vitest';
import type { DB } from '../../src/schema.js';
import { createIdentityService } from '../../src/modules/identity/index.js';
import { overLimit, type Fixture, type SimResult } from './chat-routing-sim.js';

/** Replays every operator's accept/complete history: at no moment more in progress than the limit. */
export async function historyPeaks(db: DB, fx: Fixture): Promise<string[]> {
  const rows = await db.selectFrom('chats').select(['operator_id', 'accepted_at', 'completed_at']).where('operator_id', 'is not', null).execute();
  const byOp = new Map<string, { t: string; d: number }[]>();
  for (const r of rows) {
    const ev = byOp.get(r.operator_id!) ?? [];
    if (r.accepted_at) ev.push({ t: r.accepted_at, d: +1 });
    if (r.completed_at && r.accepted_at) ev.push({ t: r.completed_at, d: -1 });
    byOp.set(r.operator_id!, ev);
  }
  const bad: string[] = [];
  for (const [op, ev] of byOp) {
    // At equal timestamps a completion counts first: an accept only ever counts after the completion committed.
    ev.sort((a, b) => (a.t < b.t ? -1 : a.t > b.t ? 1 : a.d - b.d));
    let cur = 0;
    for (const e of ev) {
      cur += e.d;
      if (cur > fx.limits[op]) bad.push(`${op} reached ${cur} at ${e.t} (limit ${fx.limits[op]})`);
    }
  }
  return bad;
}

/** A monitor polling the database while the simulation runs. */
export function monitor(db: DB, fx: Fixture) {
  const seen: string[] = [];
  let stop = false;
  let polls = 0;
  const done = (async () => {
    while (!stop) {
      seen.push(...(await overLimit(db, fx)));
      polls++;
      // Often: on SQLite the whole run can take a few hundred milliseconds.
      await new Promise((r) => setTimeout(r, 5));
    }
  })();
  return {
    async stop() {
      stop = true;
      await done;
      return { seen, polls };
    },
  };
}

export async function checkEndState(db: DB, fx: Fixture, results: SimResult[], expectedChats: number) {
  for (const r of results) {
    expect(r.errors).toEqual([]);
    expect(r.violations).toEqual([]);
  }
  const chats = await db.selectFrom('chats').select(['id', 'state', 'operator_id', 'queue_id']).execute();
  expect(chats.length).toBe(expectedChats);
  // Every chat ends assigned (in progress / completed with an operator) or waiting (queued / offered).
  for (const c of chats) {
    expect(['queued', 'offered', 'in-progress', 'completed']).toContain(c.state);
    if (c.state === 'in-progress' || c.state === 'completed') expect(c.operator_id).not.toBeNull();
    if (c.state === 'queued') expect(c.operator_id).toBeNull();
  }
  // An offered chat has a pending offer; a queued one has none.
  const pending = await db.selectFrom('chat_offers').select(['chat_id', 'user_id', 'rule']).where('state', '=', 'pending').execute();
  const pendingChats = new Set(pending.map((p) => p.chat_id));
  for (const c of chats) {
    if (c.state === 'offered') expect(pendingChats.has(c.id)).toBe(true);
    else expect(pendingChats.has(c.id)).toBe(false);
  }
  // Least-busy chats are offered to one operator at a time.
  const lbPending = pending.filter((p) => p.rule === 'least-busy');
  expect(new Set(lbPending.map((p) => p.chat_id)).size).toBe(lbPending.length);
  // Nothing is left waiting while one of its queue's active operators has room (routing caught up).
  const ops = await db.selectFrom('chat_operators').selectAll().execute();
  const load = new Map<string, number>();
  for (const c of chats) if (c.state === 'in-progress') load.set(c.operator_id!, (load.get(c.operator_id!) ?? 0) + 1);
  for (const p of pending) load.set(p.user_id, (load.get(p.user_id) ?? 0) + 1);
  const identity = createIdentityService(db);
  const members = new Map<string, string[]>();
  for (const qid of fx.queueIds) {
    const direct = (await db.selectFrom('chat_queue_users').select('user_id').where('queue_id', '=', qid).execute()).map((r) => r.user_id);
    const roles = await db.selectFrom('chat_queue_roles').select('role_id').where('queue_id', '=', qid).execute();
    for (const r of roles) direct.push(...(await identity.roleMemberIds(r.role_id)));
    members.set(qid, [...new Set(direct)]);
  }
  for (const qid of fx.queueIds) {
    const queued = chats.filter((c) => c.queue_id === qid && c.state === 'queued');
    if (!queued.length) continue;
    const withRoom = ops.filter((o) => members.get(qid)!.includes(o.user_id) && o.status === 'active' && (load.get(o.user_id) ?? 0) < fx.limits[o.user_id]);
    expect(withRoom.map((o) => o.user_id)).toEqual([]);
  }
  // Accept timeouts demote exactly the operators who ignored an offer: every expired offer is one
  // the simulation ignored, every operator marked "accept-timeout" ignored one, and every operator
  // who ignored one is still inactive unless they set their status again afterwards.
  const expired = await db.selectFrom('chat_offers').select(['id', 'user_id']).where('state', '=', 'expired').execute();
  const demotions = results.flatMap((r) => r.demotions);
  const statusSets = results.flatMap((r) => r.statusSets);
  expect(new Set(expired.map((e) => e.id))).toEqual(new Set(demotions.map((d) => d.offerId)));
  const accepted = new Set(results.flatMap((r) => r.acceptedOfferIds));
  for (const e of expired) expect(accepted.has(e.id)).toBe(false);
  const demotedUsers = new Set(demotions.map((d) => d.userId));
  for (const o of ops) {
    if (o.status_reason === 'accept-timeout') {
      expect(demotedUsers.has(o.user_id)).toBe(true);
      expect(o.status).toBe('inactive');
    }
    if (demotedUsers.has(o.user_id) && o.status_reason !== 'accept-timeout') {
      expect(statusSets.some((s) => s.userId === o.user_id)).toBe(true);
    }
  }
  expect(demotions.length).toBeGreaterThan(0);
  // And the history never had anyone over their limit.
  expect(await historyPeaks(db, fx)).toEqual([]);
  return { chats, expired };
}

