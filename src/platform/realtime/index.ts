// The realtime hub: delivers events to the open WebSockets of users (GET /api/realtime).
// notifyUsers() publishes on the event bus channel `realtime`; every api process's hub subscribes
// and writes `{ type, data, at }` to the sockets of the targeted users it holds. With the Redis
// bus this crosses processes, so a module in a worker can notify a user connected to any api node.
import type { WebSocket } from 'ws';
import { z } from 'zod';
import type { EventBus } from '../events/types.js';
import type { App } from '../http/app.js';
import { AppError } from '../http/errors.js';
import type { Logger } from '../logger.js';
import type { Realtime, RealtimeEvent } from './types.js';

export type { Realtime, RealtimeEvent, RealtimeEventType } from './types.js';

export const REALTIME_CHANNEL = 'realtime';

/** Replaces the value of a `token` query parameter with [redacted]. */
export function redactTokenInUrl(url: string): string {
  return url.replace(/([?&]token=)[^&#]*/gi, '$1[redacted]');
}

export interface RealtimeHub extends Realtime {
  registerRoutes(app: App): void;
  close(): Promise<void>;
  /** Users with at least one open socket on this process. */
  connectedUsers(): string[];
}

export interface CreateRealtimeHubOptions {
  events: EventBus;
  logger: Logger;
  /** Ping interval; a socket that did not answer the previous ping is dropped (default 30 s). */
  heartbeatMs?: number;
}

interface BusMessage {
  userIds: string[];
  type: string;
  data: unknown;
  at: string;
}

interface Client {
  socket: WebSocket;
  alive: boolean;
}

function isBusMessage(v: unknown): v is BusMessage {
  const m = v as BusMessage;
  return !!m && Array.isArray(m.userIds) && typeof m.type === 'string' && typeof m.at === 'string';
}

export function createRealtimeHub(opts: CreateRealtimeHubOptions): RealtimeHub {
  const log = opts.logger.child({ component: 'realtime' });
  const heartbeatMs = opts.heartbeatMs ?? 30_000;
  const byUser = new Map<string, Set<Client>>();
  let closed = false;

  function send(client: Client, message: unknown) {
    if (client.socket.readyState !== client.socket.OPEN) return;
    client.socket.send(JSON.stringify(message), (err) => {
      if (err) log.debug({ err: err.message }, 'realtime send failed');
    });
  }

  const unsubscribe = opts.events.subscribe(REALTIME_CHANNEL, (payload: unknown) => {
    if (!isBusMessage(payload)) return;
    const message = { type: payload.type, data: payload.data, at: payload.at };
    for (const userId of new Set(payload.userIds)) {
      const clients = byUser.get(userId);
      if (!clients) continue;
      for (const c of clients) send(c, message);
    }
  });

  const heartbeat = setInterval(() => {
    for (const clients of byUser.values()) {
      for (const c of clients) {
        if (!c.alive) {
          // No pong since the last ping: the peer is gone (half-open TCP); free the slot.
          c.socket.terminate();
          continue;
        }
        c.alive = false;
        try {
          c.socket.ping();
        } catch {
          c.socket.terminate();
        }
      }
    }
  }, heartbeatMs);
  heartbeat.unref();

  function add(userId: string, client: Client) {
    let set = byUser.get(userId);
    if (!set) {
      set = new Set();
      byUser.set(userId, set);
    }
    set.add(client);
  }

  function remove(userId: string, client: Client) {
    const set = byUser.get(userId);
    if (!set) return;
    set.delete(client);
    if (set.size === 0) byUser.delete(userId);
  }

  return {
    async notifyUsers(userIds: string[], event: RealtimeEvent) {
      if (closed || userIds.length === 0) return;
      const message: BusMessage = { userIds: [...new Set(userIds)], type: event.type, data: event.data ?? null, at: new Date().toISOString() };
      await opts.events.publish(REALTIME_CHANNEL, message);
    },

    registerRoutes(app: App) {
      app.get(
        '/api/realtime',
        {
          websocket: true,
          schema: {
            tags: ['realtime'],
            summary: 'WebSocket of realtime events ({ type, data, at } JSON messages) for the signed-in user',
            querystring: z.object({
              /** For clients that cannot set the Authorization header on a WebSocket (an API token). */
              token: z.string().max(500).optional(),
            }),
          },
          // The request line is logged: never let a `?token=` reach a log line.
          logSerializers: {
            req: (req: { method?: string; url?: string; host?: string; ip?: string }) => ({
              method: req.method,
              url: redactTokenInUrl(req.url ?? ''),
              host: req.host,
              remoteAddress: req.ip,
            }),
          },
          // Runs before the app's authentication hook (preValidation): a `?token=` becomes the bearer
          // credential unless the client sent one.
          onRequest: async (request) => {
            const token = (request.query as { token?: unknown } | undefined)?.token;
            if (typeof token === 'string' && token && !request.headers.authorization) {
              request.headers.authorization = `Bearer ${token}`;
            }
          },
          // Browsers send the session cookie on a WebSocket handshake from any page (there is no CORS
          // for WebSockets), so a cookie-authenticated socket must come from our own origin.
          preHandler: async (request) => {
            if (request.auth?.via !== 'session') return;
            const origin = request.headers.origin;
            if (!origin) return;
            let originHost = '';
            try {
              originHost = new URL(origin).host;
            } catch {
              // fall through: an unparseable Origin is refused
            }
            if (originHost !== request.host) {
              throw new AppError(403, 'FORBIDDEN', 'A cookie-authenticated WebSocket must come from this site.');
            }
          },
        },
        (socket, request) => {
          const user = request.auth?.user;
          if (!user || closed) {
            socket.close(closed ? 1001 : 1008, closed ? 'shutting down' : 'unauthorized');
            return;
          }
          const client: Client = { socket, alive: true };
          add(user.id, client);
          socket.on('pong', () => {
            client.alive = true;
          });
          // Clients may send anything (e.g. keep-alive text); the socket is server-to-client only.
          socket.on('message', () => {
            client.alive = true;
          });
          socket.on('close', () => remove(user.id, client));
          socket.on('error', (err) => {
            log.debug({ err: err.message }, 'realtime socket error');
            remove(user.id, client);
          });
          send(client, { type: 'hello', data: { userId: user.id }, at: new Date().toISOString() });
        },
      );
    },

    connectedUsers() {
      return [...byUser.keys()];
    },

    async close() {
      if (closed) return;
      closed = true;
      clearInterval(heartbeat);
      unsubscribe();
      for (const clients of byUser.values()) for (const c of clients) c.socket.close(1001, 'shutting down');
      byUser.clear();
    },
  };
}
