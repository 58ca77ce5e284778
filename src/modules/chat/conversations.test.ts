import { describe, expect, it } from 'vitest';
import { laterThan } from './conversations.js';

describe('laterThan', () => {
  it('is now when the previous message is older, else one millisecond after it', () => {
    const now = new Date('2026-01-01T10:00:00.000Z');
    expect(laterThan(null, now)).toBe('2026-01-01T10:00:00.000Z');
    expect(laterThan('2026-01-01T09:59:59.999Z', now)).toBe('2026-01-01T10:00:00.000Z');
    expect(laterThan('2026-01-01T10:00:00.000Z', now)).toBe('2026-01-01T10:00:00.001Z');
    expect(laterThan('2026-01-01T10:00:00.500Z', now)).toBe('2026-01-01T10:00:00.501Z');
  });
});
