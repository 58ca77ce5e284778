// Realtime delivery across processes: two api "processes" (each an app + hub over its own Redis
// bus connection); a user connected to B receives what A publishes, others receive nothing.
import { randomUUID } from 'node:crypto';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import type { FastifyRequest } from 'fastify';
import { createEventBus, type EventBus } from '../../src/platform/events/index.js';
import { createApp, type App } from '../../src/platform/http/app.js';
import type { AuthContext } from '../../src/platform/http/auth.js';
import { createLogger } from '../../src/platform/logger.js';
import { createRealtimeHub, type RealtimeHub } from '../../src/platform/realtime/index.js';
import { hasRedis, TEST_REDIS_URL } from '../helpers/services.js';

const logger = createLogger('silent');
const KINDS: ('local' | 'redis')[] = ['local'];
if (await hasRedis()) KINDS.push('redis');

const USERS: Record<string, string> = { 'tok-alice': 'user-alice', 'tok-bob': 'user-bob' };

async function fakeAuthenticate(request: FastifyRequest): Promise<AuthContext | null> {
  if (request.headers.cookie === 'sb_session=sess-alice') {
    return { via: 'session', sessionId: 's1', csrfToken: 'c1', user: { id: 'user-alice', email: 'a@example.test', name: 'a', language: 'en', roleIds: [], operations: [] } };
  }
  const h = request.headers.authorization;
  const token = typeof h === 'string' && h.startsWith('Bearer ') ? h.slice(7) : '';
  const id = USERS[token];
  if (!id) return null;
  return { via: 'token', user: { id, email: `${id}@example.test`, name: id, language: 'en', roleIds: [], operations: [] } };
}

interface Node {
  bus: EventBus;
  hub: RealtimeHub;
  app: App;
  url: string;
}

async function startNode(bus: EventBus, heartbeatMs?: number, log = logger): Promise<Node> {
  const hub = createRealtimeHub({ events: bus, logger: log, heartbeatMs });
  const app = await createApp({ logger: log, bodyLimit: 1024 * 1024, authenticate: fakeAuthenticate, version: 'test' });
  hub.registerRoutes(app);
  await app.listen({ port: 0, host: '127.0.0.1' });
  const addr = app.server.address();
  const port = typeof addr === 'object' && addr ? addr.port : 0;
  return { bus, hub, app, url: `ws://127.0.0.1:${port}/api/realtime` };
}

interface Conn {
  ws: WebSocket;
  messages: any[];
}

function connect(url: string, headers: Record<string, string> = {}): Promise<Conn> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { headers });
    const conn: Conn = { ws, messages: [] };
    ws.on('message', (raw) => conn.messages.push(JSON.parse(raw.toString())));
    ws.once('open', () => resolve(conn));
    ws.once('unexpected-response', (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)));
    ws.once('error', reject);
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
async function waitFor(cond: () => boolean, what: string, timeoutMs = 10_000) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (cond()) return;
    await sleep(10);
  }
  throw new Error(`timed out waiting for ${what}`);
}

describe.each(KINDS)('realtime hub over the %s bus', (kind) => {
  const prefix = `sbtest-${randomUUID().slice(0, 8)}`;
  const makeBus = () => createEventBus({ redisUrl: kind === 'redis' ? TEST_REDIS_URL : undefined, logger, prefix });
  let a: Node;
  let b: Node;
  const conns: Conn[] = [];

  beforeAll(async () => {
    const busA = makeBus();
    // With the local bus both "processes" share one bus (one process); with Redis each has its own.
    const busB = kind === 'redis' ? makeBus() : busA;
    a = await startNode(busA);
    b = await startNode(busB);
    await (busB as EventBus & { ready?: () => Promise<void> }).ready?.();
  });

  afterAll(async () => {
    for (const c of conns) c.ws.terminate();
    for (const n of [a, b]) {
      if (!n) continue;
      await n.hub.close();
      await n.app.close();
    }
    await a?.bus.close();
    if (b && b.bus !== a?.bus) await b.bus.close();
  });

  async function open(url: string, headers: Record<string, string>) {
    const c = await connect(url, headers);
    conns.push(c);
    await waitFor(() => c.messages.length >= 1, 'hello');
    return c;
  }

  it('greets a signed-in user and lists them as connected', async () => {
    const alice = await open(b.url, { authorization: 'Bearer tok-alice' });
    expect(alice.messages[0]).toMatchObject({ type: 'hello', data: { userId: 'user-alice' } });
    expect(typeof alice.messages[0].at).toBe('string');
    expect(b.hub.connectedUsers()).toContain('user-alice');
    expect(a.hub.connectedUsers()).not.toContain('user-alice');
  });

  it('refuses an anonymous or wrongly authenticated socket with 401', async () => {
    await expect(connect(b.url)).rejects.toThrow('HTTP 401');
    await expect(connect(b.url, { authorization: 'Bearer nope' })).rejects.toThrow('HTTP 401');
    await expect(connect(`${b.url}?token=nope`)).rejects.toThrow('HTTP 401');
  });

  it('accepts a session-cookie socket only from its own origin', async () => {
    const host = new URL(b.url).host;
    const same = await open(b.url, { cookie: 'sb_session=sess-alice', origin: `http://${host}` });
    expect(same.messages[0]).toMatchObject({ type: 'hello', data: { userId: 'user-alice' } });
    await expect(connect(b.url, { cookie: 'sb_session=sess-alice', origin: 'http://evil.example' })).rejects.toThrow('HTTP 403');
    await expect(connect(b.url, { cookie: 'sb_session=sess-alice', origin: 'null' })).rejects.toThrow('HTTP 403');
  });

  it('delivers an event published on hub A to the targeted user on hub B only', async () => {
    const alice = await open(b.url, { authorization: 'Bearer tok-alice' });
    const bob = await open(`${b.url}?token=tok-bob`, {}); // token in the query for header-less clients
    expect(bob.messages[0]).toMatchObject({ type: 'hello', data: { userId: 'user-bob' } });
    await a.hub.notifyUsers(['user-alice'], { type: 'chat.offered', data: { chatId: 'c1' } });
    await waitFor(() => alice.messages.length === 2, 'the event for alice');
    expect(alice.messages[1]).toMatchObject({ type: 'chat.offered', data: { chatId: 'c1' } });
    expect(Date.parse(alice.messages[1].at)).toBeGreaterThan(0);
    // A later event for bob arrives after alice's would have: bob got nothing in between.
    await a.hub.notifyUsers(['user-bob'], { type: 'notification', data: { n: 2 } });
    await waitFor(() => bob.messages.length === 2, 'the event for bob');
    expect(bob.messages[1]).toMatchObject({ type: 'notification', data: { n: 2 } });
    expect(alice.messages).toHaveLength(2);
  });

  it('delivers to every socket of a user, and stops after the socket closes', async () => {
    const one = await open(b.url, { authorization: 'Bearer tok-alice' });
    const two = await open(a.url, { authorization: 'Bearer tok-alice' });
    await a.hub.notifyUsers(['user-alice', 'user-alice'], { type: 'sync.status', data: { ok: true } });
    await waitFor(() => one.messages.length === 2 && two.messages.length === 2, 'both sockets');
    await sleep(50);
    expect(one.messages).toHaveLength(2); // the duplicate id did not double-deliver
    two.ws.close();
    await waitFor(() => two.ws.readyState === WebSocket.CLOSED, 'close');
    await waitFor(() => !a.hub.connectedUsers().includes('user-alice'), 'hub A to forget alice');
  });
});

describe('realtime heartbeat', () => {
  it('drops a socket that stops answering pings', async () => {
    const bus = createEventBus({ logger });
    const node = await startNode(bus, 300);
    try {
      const c = await connect(node.url, { authorization: 'Bearer tok-alice' });
      await waitFor(() => node.hub.connectedUsers().includes('user-alice'), 'connection');
      // A live client answers pings automatically; after several beats it is still there.
      await sleep(1000);
      expect(node.hub.connectedUsers()).toContain('user-alice');
      // Simulate a dead peer: stop answering pings (ws answers them in the receiver; pause it).
      (c.ws as any)._socket.pause();
      await waitFor(() => !node.hub.connectedUsers().includes('user-alice'), 'the dead socket to be dropped', 5000);
      c.ws.terminate();
    } finally {
      await node.hub.close();
      await node.app.close();
      await bus.close();
    }
  });
});

describe('realtime logging', () => {
  it('never writes a ?token= credential to the logs', async () => {
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk, _enc, cb) {
        lines.push(chunk.toString());
        cb();
      },
    });
    const log = createLogger('debug', sink as never);
    const bus = createEventBus({ logger: log });
    const node = await startNode(bus, undefined, log);
    try {
      const c = await connect(`${node.url}?token=tok-bob`);
      await waitFor(() => c.messages.length === 1, 'hello');
      c.ws.close();
      await waitFor(() => lines.some((l) => l.includes('/api/realtime')), 'the request log line');
      expect(lines.join('\n')).not.toContain('tok-bob');
      expect(lines.join('\n')).toContain('token=[redacted]');
    } finally {
      await node.hub.close();
      await node.app.close();
      await bus.close();
    }
  });
});
