// Pure routing decisions (H2, H3, H4): given the operators of a queue as read inside the routing
// transaction, who is shown a chat? No I/O here, so the rules are tested directly.
//
// Capacity (H4): chats in progress + pending offers. A pending offer reserves a slot: an operator
// with `SimultaneousChats` = 2 is never shown more than 2 chats in total (in progress or offered),
// so accepting an offer can never take them over the limit, and chats beyond everyone's capacity
// stay queued ("not shown to them until one completes").
// Least-busy rank (H3): chats in progress + chats assigned to them under least-busy and not yet
// accepted. A pending to-all offer is shown to many and assigned to nobody, so it does not make an
// operator "busier" — it only takes capacity.
import type { OperatorStatus, RoutingRule } from './tables.js';

export interface OperatorSnapshot {
  userId: string;
  status: OperatorStatus;
  inProgress: number;
  /** Every pending offer (to-all and least-busy): counts against the limit. */
  pendingOffers: number;
  /** Pending least-busy offers (chats assigned, awaiting accept): count in the least-busy rank. */
  assignedOffers: number;
  /** When the operator last accepted a new chat; null = never (longest ago). */
  lastAssignedAt: string | null;
  /** `SimultaneousChats` for this operator (the setting may be set per user). */
  limit: number;
}

export type RoutingDecision =
  | { kind: 'offer'; userIds: string[] }
  /** Nobody of the queue can take another chat now: the chat (and every later one of the queue) waits. */
  | { kind: 'wait'; reason: 'no-capacity' }
  /** Operators have room, but each of them already has this chat offered (to-all only). */
  | { kind: 'unchanged' };

export function loadOf(op: OperatorSnapshot): number {
  return op.inProgress + op.pendingOffers;
}

export function hasCapacity(op: OperatorSnapshot): boolean {
  return op.status === 'active' && loadOf(op) < op.limit;
}

/** The least-busy rank: chats in progress plus least-busy chats awaiting their accept. */
export function rankOf(op: OperatorSnapshot): number {
  return op.inProgress + op.assignedOffers;
}

/** Least-busy order: fewest chats first; ties to the one who has gone longest without a new chat; then by id so the choice is deterministic. */
export function compareLeastBusy(a: OperatorSnapshot, b: OperatorSnapshot): number {
  const byLoad = rankOf(a) - rankOf(b);
  if (byLoad !== 0) return byLoad;
  if (a.lastAssignedAt !== b.lastAssignedAt) {
    if (a.lastAssignedAt === null) return -1;
    if (b.lastAssignedAt === null) return 1;
    return a.lastAssignedAt < b.lastAssignedAt ? -1 : 1;
  }
  return a.userId < b.userId ? -1 : a.userId > b.userId ? 1 : 0;
}

export function pickLeastBusy(ops: OperatorSnapshot[]): OperatorSnapshot | null {
  let best: OperatorSnapshot | null = null;
  for (const op of ops) {
    if (!hasCapacity(op)) continue;
    if (!best || compareLeastBusy(op, best) < 0) best = op;
  }
  return best;
}

/**
 * The decision for one waiting chat.
 * @param alreadyOffered operators holding a pending offer for this chat (to-all adds the rest).
 */
export function decide(rule: RoutingRule, ops: OperatorSnapshot[], alreadyOffered: ReadonlySet<string>): RoutingDecision {
  const withRoom = ops.filter((op) => hasCapacity(op));
  if (rule === 'least-busy') {
    // A least-busy chat is offered to one operator at a time; while that offer is pending it is not routed again.
    if (alreadyOffered.size > 0) return { kind: 'unchanged' };
    const pick = pickLeastBusy(withRoom);
    return pick ? { kind: 'offer', userIds: [pick.userId] } : { kind: 'wait', reason: 'no-capacity' };
  }
  if (withRoom.length === 0) return { kind: 'wait', reason: 'no-capacity' };
  const fresh = withRoom.filter((op) => !alreadyOffered.has(op.userId)).map((op) => op.userId);
  return fresh.length ? { kind: 'offer', userIds: fresh.sort() } : { kind: 'unchanged' };
}

/** Reads a numeric setting value, falling back when it is missing or not a positive number. */
export function positiveNumber(v: unknown, fallback: number): number {
  const n = typeof v === 'number' ? v : typeof v === 'string' && v.trim() !== '' ? Number(v) : NaN;
  return Number.isFinite(n) && n > 0 ? n : fallback;
}
