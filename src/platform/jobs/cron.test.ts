import { describe, expect, it } from 'vitest';
import { CronParseError, nextRunAfter, parseCron } from './cron.js';

const next = (expr: string, iso: string) => nextRunAfter(expr, new Date(iso)).toISOString();

describe('cron', () => {
  it('fires every minute with * * * * *, strictly after the given time', () => {
    expect(next('* * * * *', '2026-01-01T10:00:00.000Z')).toBe('2026-01-01T10:01:00.000Z');
    expect(next('* * * * *', '2026-01-01T10:00:59.999Z')).toBe('2026-01-01T10:01:00.000Z');
  });

  it('handles steps, lists and ranges', () => {
    expect(next('*/15 * * * *', '2026-01-01T10:07:00Z')).toBe('2026-01-01T10:15:00.000Z');
    expect(next('*/15 * * * *', '2026-01-01T10:45:00Z')).toBe('2026-01-01T11:00:00.000Z');
    expect(next('5,35 * * * *', '2026-01-01T10:06:00Z')).toBe('2026-01-01T10:35:00.000Z');
    expect(next('0 9-17/4 * * *', '2026-01-01T10:00:00Z')).toBe('2026-01-01T13:00:00.000Z');
    expect(next('0 9-17/4 * * *', '2026-01-01T17:00:00Z')).toBe('2026-01-02T09:00:00.000Z');
    expect(next('10/20 * * * *', '2026-01-01T10:31:00Z')).toBe('2026-01-01T10:50:00.000Z');
    expect(next('1-3 0 * * *', '2026-01-01T00:02:00Z')).toBe('2026-01-01T00:03:00.000Z');
  });

  it('rolls over days, months and years in UTC', () => {
    expect(next('30 2 * * *', '2026-01-31T03:00:00Z')).toBe('2026-02-01T02:30:00.000Z');
    expect(next('0 0 1 1 *', '2026-06-15T12:00:00Z')).toBe('2027-01-01T00:00:00.000Z');
    expect(next('0 12 31 * *', '2026-04-01T00:00:00Z')).toBe('2026-05-31T12:00:00.000Z'); // April has no 31st
    expect(next('0 0 29 2 *', '2026-03-01T00:00:00Z')).toBe('2028-02-29T00:00:00.000Z');
  });

  it('matches day of week, with 0 and 7 both Sunday and names', () => {
    // 2026-01-01 is a Thursday.
    expect(next('0 8 * * 1', '2026-01-01T00:00:00Z')).toBe('2026-01-05T08:00:00.000Z');
    expect(next('0 8 * * 0', '2026-01-01T00:00:00Z')).toBe('2026-01-04T08:00:00.000Z');
    expect(next('0 8 * * 7', '2026-01-01T00:00:00Z')).toBe('2026-01-04T08:00:00.000Z');
    expect(next('0 8 * * MON-FRI', '2026-01-02T09:00:00Z')).toBe('2026-01-05T08:00:00.000Z');
    expect(next('0 0 1 JUN *', '2026-01-01T00:00:00Z')).toBe('2026-06-01T00:00:00.000Z');
  });

  it('ORs day of month and day of week when both are restricted', () => {
    // The 15th or any Monday: from Thu 2026-01-01, Monday the 5th comes first, then the 12th, then the 15th (Thu).
    expect(next('0 0 15 * 1', '2026-01-01T00:00:00Z')).toBe('2026-01-05T00:00:00.000Z');
    expect(next('0 0 15 * 1', '2026-01-12T00:00:00Z')).toBe('2026-01-15T00:00:00.000Z');
    // With day of week unrestricted (*/1 starts with *), only the day of month counts.
    expect(next('0 0 15 * */1', '2026-01-01T00:00:00Z')).toBe('2026-01-15T00:00:00.000Z');
  });

  it('takes an optional seconds field first, as BullMQ does', () => {
    expect(next('*/2 * * * * *', '2026-01-01T10:00:00.500Z')).toBe('2026-01-01T10:00:02.000Z');
    expect(next('*/2 * * * * *', '2026-01-01T10:00:59.000Z')).toBe('2026-01-01T10:01:00.000Z');
    expect(next('30 0 9 * * *', '2026-01-01T09:00:30Z')).toBe('2026-01-02T09:00:30.000Z');
    expect(next('0 * * * * *', '2026-01-01T10:00:00.000Z')).toBe('2026-01-01T10:01:00.000Z');
    expect(next('15,45 */10 * * * *', '2026-01-01T10:00:50Z')).toBe('2026-01-01T10:10:15.000Z');
  });

  it('rejects malformed expressions and impossible schedules', () => {
    for (const bad of ['', '* * * *', '* * * * * * *', '60 * * * * *', '60 * * * *', '* 24 * * *', '* * 0 * *', '* * * 13 *', '* * * * 8', '*/0 * * * *', '5-1 * * * *', 'a * * * *', '1-2-3 * * * *', '*/2/3 * * * *']) {
      expect(() => parseCron(bad), bad).toThrow(CronParseError);
    }
    expect(() => nextRunAfter('0 0 30 2 *', new Date('2026-01-01T00:00:00Z'))).toThrow(CronParseError);
  });
});
