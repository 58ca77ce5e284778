import { describe, expect, it } from 'vitest';
import { createParserPool, type ParserPool } from './parse-pool.js';

const RAW = Buffer.from('From: a@example.test\r\nTo: b@example.test\r\nSubject: Hi\r\nMessage-ID: <x@example.test>\r\n\r\nHello\r\n');

describe('parser pool', () => {
  it('parses on worker threads', async () => {
    const pool = createParserPool(2) as ParserPool;
    expect((await pool.parse(RAW)).subject).toBe('Hi');
    expect(pool.stats().workers).toBe(2);
    await pool.close();
  });

  it('does not turn workers that die at start-up into a respawn storm, and still parses inline', async () => {
    // A worker that cannot start emits 'error' and then 'exit'; each death must be handled once.
    const pool = createParserPool(2, { workerSource: "throw new Error('cannot start')" }) as ParserPool;
    await new Promise((r) => setTimeout(r, 1500));
    const s = pool.stats();
    expect(s.recentRespawns).toBeLessThanOrEqual(5);
    expect(s.workers).toBe(0);
    expect((await pool.parse(RAW)).subject).toBe('Hi');
    await pool.close();
  });
});
