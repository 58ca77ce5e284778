// Shared bits of the chat route/end-to-end tests: an operator's WebSocket and a ready app + emulator.
import WebSocket from 'ws';
import { startTelegramEmulator, type TelegramEmulator } from '../../src/emulators/telegram/index.js';
import { startTestApp, type TestApp } from '../helpers/app.js';
import type { Dialect } from '../../src/platform/db/index.js';
import type { ChatModuleService } from '../../src/modules/chat/index.js';

export interface RealtimeMessage {
  type: string;
  data: any;
  at: string;
}

export interface Socket {
  events: RealtimeMessage[];
  waitFor(pred: (e: RealtimeMessage) => boolean, timeoutMs?: number): Promise<RealtimeMessage>;
  close(): void;
}

export async function openSocket(baseUrl: string, token: string): Promise<Socket> {
  const ws = new WebSocket(`${baseUrl.replace(/^http/, 'ws')}/api/realtime?token=${encodeURIComponent(token)}`);
  const events: RealtimeMessage[] = [];
  const waiters = new Set<() => void>();
  ws.on('message', (d) => {
    try {
      events.push(JSON.parse(String(d)) as RealtimeMessage);
    } catch {
      return;
    }
    for (const w of [...waiters]) w();
  });
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  return {
    events,
    waitFor(pred, timeoutMs = 15_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const hit = events.find(pred);
          if (hit) {
            clearTimeout(timer);
            waiters.delete(check);
            resolve(hit);
          }
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`no matching realtime event within ${timeoutMs} ms; got ${events.map((e) => e.type).join(', ')}`));
        }, timeoutMs);
        waiters.add(check);
        check();
      });
    },
    close: () => ws.close(),
  };
}

export async function waitUntil<T>(fn: () => Promise<T | null | undefined | false>, timeoutMs = 15_000, what = 'condition'): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export interface ChatEnv {
  tg: TelegramEmulator;
  t: TestApp;
  chat: ChatModuleService;
  close(): Promise<void>;
}

/** Emulator + server wired to it; SiteUrl points at the server itself. */
export async function startChatEnv(dialect: Dialect, opts: { redis?: boolean } = {}): Promise<ChatEnv> {
  const tg = await startTelegramEmulator({ webhookRetryDelaysMs: [100, 200, 400] });
  const t = await startTestApp({ dialect, redis: opts.redis, env: { TELEGRAM_API_ROOT: tg.url } });
  await t.modules.settings.set('SiteUrl', t.url, { actorId: null });
  const chat = t.modules.chat as ChatModuleService;
  return {
    tg,
    t,
    chat,
    async close() {
      await t.close();
      await tg.close();
    },
  };
}
