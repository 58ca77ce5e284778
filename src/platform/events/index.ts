// The event bus: in-process by default, Redis pub/sub with REDIS_URL. Delivery is asynchronous on
// both (a publisher never runs subscribers on its own stack) and at-most-once.
import { EventEmitter } from 'node:events';
import { Redis } from 'ioredis';
import type { Logger } from '../logger.js';
import type { EventBus, EventHandler } from './types.js';

export type { EventBus, EventHandler } from './types.js';

export interface CreateEventBusOptions {
  /** When set, events cross processes through Redis pub/sub. */
  redisUrl?: string;
  logger: Logger;
  /** Channel name prefix on Redis (default "switchboard"); tests use a unique one. */
  prefix?: string;
}

export function createEventBus(opts: CreateEventBusOptions): EventBus {
  return opts.redisUrl ? createRedisEventBus(opts as CreateEventBusOptions & { redisUrl: string }) : createLocalEventBus(opts.logger);
}

function safeCall(handler: EventHandler, payload: unknown, log: Logger, channel: string) {
  try {
    const r = handler(payload) as unknown;
    if (r && typeof (r as Promise<unknown>).catch === 'function') {
      (r as Promise<unknown>).catch((err) => log.error({ err, channel }, 'event handler failed'));
    }
  } catch (err) {
    log.error({ err, channel }, 'event handler failed');
  }
}

export function createLocalEventBus(logger: Logger): EventBus {
  const log = logger.child({ component: 'events', kind: 'local' });
  const emitter = new EventEmitter();
  emitter.setMaxListeners(0);
  let closed = false;
  return {
    kind: 'local',
    async publish(channel, payload) {
      if (closed) return;
      // A JSON round trip gives subscribers the same (copied, plain) payload as the Redis bus does.
      const copy = payload === undefined ? null : JSON.parse(JSON.stringify(payload));
      setImmediate(() => {
        for (const h of emitter.listeners(channel) as EventHandler[]) safeCall(h, copy, log, channel);
      });
    },
    subscribe(channel, handler) {
      emitter.on(channel, handler);
      return () => {
        emitter.off(channel, handler);
      };
    },
    async close() {
      closed = true;
      emitter.removeAllListeners();
    },
  };
}

export function createRedisEventBus(opts: { redisUrl: string; logger: Logger; prefix?: string }): EventBus & { ready(): Promise<void> } {
  const log = opts.logger.child({ component: 'events', kind: 'redis' });
  const prefix = `${opts.prefix ?? 'switchboard'}:events:`;
  // A subscribed connection can do nothing but (un)subscribe, so publishing needs its own.
  const pub = new Redis(opts.redisUrl, { lazyConnect: false, maxRetriesPerRequest: 3 });
  const sub = new Redis(opts.redisUrl, { lazyConnect: false, maxRetriesPerRequest: null });
  pub.on('error', (err) => log.warn({ err: err.message }, 'redis publisher error'));
  sub.on('error', (err) => log.warn({ err: err.message }, 'redis subscriber error'));
  const handlers = new Map<string, Set<EventHandler>>();
  const pending = new Set<Promise<unknown>>();
  let closed = false;

  sub.on('message', (fullChannel: string, message: string) => {
    if (!fullChannel.startsWith(prefix)) return;
    const channel = fullChannel.slice(prefix.length);
    const set = handlers.get(channel);
    if (!set || set.size === 0) return;
    let payload: unknown;
    try {
      payload = JSON.parse(message);
    } catch {
      log.warn({ channel }, 'dropped a malformed event');
      return;
    }
    for (const h of [...set]) safeCall(h, payload, log, channel);
  });

  function track<T>(p: Promise<T>): Promise<T> {
    pending.add(p);
    p.finally(() => pending.delete(p)).catch(() => {});
    return p;
  }

  return {
    kind: 'redis',
    async publish(channel, payload) {
      if (closed) return;
      await pub.publish(prefix + channel, JSON.stringify(payload === undefined ? null : payload));
    },
    subscribe(channel, handler) {
      let set = handlers.get(channel);
      if (!set) {
        set = new Set();
        handlers.set(channel, set);
        track(sub.subscribe(prefix + channel)).catch((err) => log.error({ err, channel }, 'could not subscribe'));
      }
      set.add(handler);
      return () => {
        const s = handlers.get(channel);
        if (!s) return;
        s.delete(handler);
        if (s.size === 0 && !closed) {
          handlers.delete(channel);
          track(sub.unsubscribe(prefix + channel)).catch(() => {});
        }
      };
    },
    /** Resolves once every subscription made so far is active on the server. */
    async ready() {
      await Promise.allSettled([...pending]);
    },
    async close() {
      if (closed) return;
      closed = true;
      handlers.clear();
      await Promise.allSettled([...pending]);
      await Promise.allSettled([pub.quit(), sub.quit()]);
    },
  };
}
