import { describe, expect, it } from 'vitest';
import { compareLeastBusy, decide, hasCapacity, pickLeastBusy, positiveNumber, type OperatorSnapshot } from './routing.js';

const op = (userId: string, o: Partial<OperatorSnapshot> = {}): OperatorSnapshot => ({
  userId,
  status: 'active',
  inProgress: 0,
  pendingOffers: 0,
  assignedOffers: 0,
  lastAssignedAt: null,
  limit: 2,
  ...o,
});

describe('routing decisions', () => {
  it('counts pending offers against the limit and ignores inactive operators', () => {
    expect(hasCapacity(op('a', { inProgress: 1 }))).toBe(true);
    expect(hasCapacity(op('a', { inProgress: 1, pendingOffers: 1 }))).toBe(false);
    expect(hasCapacity(op('a', { inProgress: 2 }))).toBe(false);
    expect(hasCapacity(op('a', { status: 'inactive' }))).toBe(false);
    expect(hasCapacity(op('a', { inProgress: 2, limit: 3 }))).toBe(true);
  });

  it('least-busy picks the fewest chats, then the longest without a new chat, then the id', () => {
    const ops = [
      op('a', { inProgress: 1, lastAssignedAt: '2026-01-01T00:00:00.000Z' }),
      op('b', { inProgress: 0, lastAssignedAt: '2026-01-02T00:00:00.000Z' }),
      op('c', { inProgress: 0, lastAssignedAt: '2026-01-01T00:00:00.000Z' }),
      op('d', { inProgress: 0, status: 'inactive', lastAssignedAt: null }),
    ];
    expect(pickLeastBusy(ops)?.userId).toBe('c');
    expect(pickLeastBusy([...ops, op('e', { lastAssignedAt: null })])?.userId).toBe('e');
    expect(pickLeastBusy([op('z'), op('y')])?.userId).toBe('y');
    expect(compareLeastBusy(op('a', { pendingOffers: 1, assignedOffers: 1 }), op('b', { inProgress: 2 }))).toBeLessThan(0);
  });

  it('least-busy ranks by chats in progress plus least-busy chats awaiting accept; to-all offers take capacity but do not rank', () => {
    // a is shown two to-all chats (not assigned to a), b has one chat in progress.
    const a = op('a', { pendingOffers: 2, limit: 3, lastAssignedAt: '2026-01-01T00:00:00.000Z' });
    const b = op('b', { inProgress: 1, limit: 3 });
    expect(pickLeastBusy([a, b])?.userId).toBe('a');
    // A least-busy chat awaiting a's accept is an assignment: now a counts as busy as b, and b waited longer.
    const a2 = op('a', { pendingOffers: 1, assignedOffers: 1, limit: 3, lastAssignedAt: '2026-01-02T00:00:00.000Z' });
    expect(pickLeastBusy([a2, op('b', { inProgress: 1, limit: 3, lastAssignedAt: '2026-01-01T00:00:00.000Z' })])?.userId).toBe('b');
    // Capacity still counts every offer.
    expect(hasCapacity(op('a', { pendingOffers: 2, limit: 2 }))).toBe(false);
  });

  it('least-busy waits when nobody has room and leaves an offered chat alone', () => {
    expect(decide('least-busy', [op('a', { inProgress: 2 }), op('b', { status: 'inactive' })], new Set())).toEqual({ kind: 'wait', reason: 'no-capacity' });
    expect(decide('least-busy', [op('a')], new Set(['b']))).toEqual({ kind: 'unchanged' });
    expect(decide('least-busy', [op('a', { inProgress: 1 }), op('b')], new Set())).toEqual({ kind: 'offer', userIds: ['b'] });
  });

  it('to-all offers to every operator with room who does not hold the offer yet', () => {
    const ops = [op('c'), op('a'), op('b', { inProgress: 2 }), op('d', { status: 'inactive' })];
    expect(decide('to-all', ops, new Set())).toEqual({ kind: 'offer', userIds: ['a', 'c'] });
    expect(decide('to-all', ops, new Set(['a']))).toEqual({ kind: 'offer', userIds: ['c'] });
    expect(decide('to-all', ops, new Set(['a', 'c']))).toEqual({ kind: 'unchanged' });
    expect(decide('to-all', [op('b', { inProgress: 2 })], new Set())).toEqual({ kind: 'wait', reason: 'no-capacity' });
  });

  it('reads numeric settings defensively', () => {
    expect(positiveNumber(3, 2)).toBe(3);
    expect(positiveNumber('0.05', 5)).toBe(0.05);
    expect(positiveNumber(null, 5)).toBe(5);
    expect(positiveNumber('x', 5)).toBe(5);
    expect(positiveNumber(-1, 5)).toBe(5);
  });
});
