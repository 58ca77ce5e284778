// One contract for both EventBus implementations: in-process and Redis pub/sub.
import { randomUUID } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { createEventBus, type EventBus } from '../../src/platform/events/index.js';
import { createLogger } from '../../src/platform/logger.js';
import { hasRedis, TEST_REDIS_URL } from '../helpers/services.js';

const logger = createLogger('silent');
const KINDS: ('local' | 'redis')[] = ['local'];
if (await hasRedis()) KINDS.push('redis');

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
async function waitFor(cond: () => boolean, what: string, timeoutMs = 10_000) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (cond()) return;
    await sleep(10);
  }
  throw new Error(`timed out waiting for ${what}`);
}

describe.each(KINDS)('EventBus contract: %s', (kind) => {
  const prefix = `sbtest-${randomUUID().slice(0, 8)}`;
  const buses: EventBus[] = [];
  function bus(p = prefix): EventBus {
    const b = createEventBus({ redisUrl: kind === 'redis' ? TEST_REDIS_URL : undefined, logger, prefix: p });
    buses.push(b);
    return b;
  }
  /** The bus a subscriber in "another process" uses: a second Redis bus, or the same local one. */
  function peer(of: EventBus): EventBus {
    return kind === 'redis' ? bus() : of;
  }
  async function settle(b: EventBus) {
    // Redis SUBSCRIBE is asynchronous: wait until the server confirmed it before publishing.
    await (b as EventBus & { ready?: () => Promise<void> }).ready?.();
  }

  afterAll(async () => {
    for (const b of buses) await b.close();
  });

  it('reports its kind', () => {
    expect(bus().kind).toBe(kind);
  });

  it('delivers JSON payloads to every subscriber of a channel, asynchronously', async () => {
    const a = bus();
    const b = peer(a);
    const got1: unknown[] = [];
    const got2: unknown[] = [];
    let publishing = false;
    let calledDuringPublish = false;
    b.subscribe('chat', (p) => {
      calledDuringPublish ||= publishing;
      got1.push(p);
    });
    b.subscribe('chat', (p) => got2.push(p));
    await settle(b);
    const payload = { id: 'x', n: 1, nested: { s: "quote ' and \" and ;" }, list: [1, 2] };
    publishing = true;
    const sent = a.publish('chat', payload);
    publishing = false;
    await sent;
    await waitFor(() => got1.length === 1 && got2.length === 1, 'both subscribers');
    expect(got1[0]).toEqual(payload);
    expect(got2[0]).toEqual(payload);
    expect(got1[0]).not.toBe(payload);
    // Not delivered on the publisher's stack.
    expect(calledDuringPublish).toBe(false);
  });

  it('keeps channels apart and stops delivering after unsubscribe', async () => {
    const a = bus();
    const b = peer(a);
    const one: unknown[] = [];
    const two: unknown[] = [];
    const off = b.subscribe('one', (p) => one.push(p));
    b.subscribe('two', (p) => two.push(p));
    await settle(b);
    await a.publish('one', 1);
    await a.publish('two', 2);
    await waitFor(() => one.length === 1 && two.length === 1, 'one message per channel');
    expect(one).toEqual([1]);
    expect(two).toEqual([2]);
    off();
    await settle(b);
    await a.publish('one', 3);
    await a.publish('two', 4); // a marker: once it arrives, "one"'s message would have too
    await waitFor(() => two.length === 2, 'the marker');
    await sleep(50);
    expect(one).toEqual([1]);
  });

  it('isolates a handler that throws from the others', async () => {
    const a = bus();
    const b = peer(a);
    const got: unknown[] = [];
    b.subscribe('err', () => {
      throw new Error('handler bug');
    });
    b.subscribe('err', (p) => got.push(p));
    await settle(b);
    await a.publish('err', { ok: true });
    await waitFor(() => got.length === 1, 'the healthy handler');
  });

  it.runIf(kind === 'redis')('isolates buses with different prefixes', async () => {
    const a = bus();
    const other = bus(`${prefix}-other`);
    const mine: unknown[] = [];
    const theirs: unknown[] = [];
    const b = bus();
    b.subscribe('iso', (p) => mine.push(p));
    other.subscribe('iso', (p) => theirs.push(p));
    await settle(b);
    await settle(other);
    await a.publish('iso', 'hello');
    await waitFor(() => mine.length === 1, 'same-prefix delivery');
    await sleep(100);
    expect(theirs).toEqual([]);
  });

  it('accepts publish after close without throwing and delivers nothing', async () => {
    const a = bus();
    const got: unknown[] = [];
    a.subscribe('late', (p) => got.push(p));
    await a.close();
    await a.publish('late', 1);
    await sleep(50);
    expect(got).toEqual([]);
  });
});
