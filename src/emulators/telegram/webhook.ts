// Webhook push mode: POST each pending update to the bot's registered URL with the
// X-Telegram-Bot-Api-Secret-Token header.
//
// Like Telegram, up to `max_connections` deliveries run at once, but updates of one chat are
// delivered strictly in order: an update is not sent while an earlier update of the same chat is
// in flight or waiting for a retry. A non-2xx answer or a connection error is recorded in
// last_error_* (visible through getWebhookInfo) and retried after 0.2 s, 0.5 s, 1 s, 2 s; after
// the last retry the update stays pending (and holds back its chat) until something kicks
// delivery again (a new update, a new setWebhook). Real Telegram retries far longer; the emulator
// keeps tests fast.
import http from 'node:http';
import https from 'node:https';
import type { BotRecord } from './store.js';
import { nowSeconds } from './store.js';
import type { TgUpdate } from './types.js';

export const DEFAULT_RETRY_DELAYS_MS = [200, 500, 1000, 2000];
const DELIVERY_TIMEOUT_MS = 15_000;

export interface DeliveryResult {
  ok: boolean;
  status?: number;
  error?: string;
  body?: string;
}

export interface WebhookDeliveryDeps {
  retryDelaysMs: number[];
  /** Called when an update was delivered or a delivery attempt for it failed. */
  onAttempt: (bot: BotRecord, updateId: number, result: DeliveryResult) => void;
  /** A 2xx answer may carry a method call ({"method":"sendMessage",…}); the emulator executes it. */
  onReplyMethod: (bot: BotRecord, body: Record<string, unknown>) => Promise<void>;
  /** Where a webhook URL is really delivered (the emulator's stand-in for DNS); default: the URL itself. */
  resolveUrl?: (url: string) => string;
}

// node:http with a keep-alive agent rather than fetch: several times less CPU per delivery, which
// matters when the emulator shares a process (and two cores) with the Switchboard under benchmark.
const keepAlive = { http: new http.Agent({ keepAlive: true, maxSockets: 100 }), https: new https.Agent({ keepAlive: true, maxSockets: 100 }) };

export function postUpdate(url: string, update: unknown, secret: string | undefined): Promise<DeliveryResult> {
  const body = Buffer.from(JSON.stringify(update));
  const headers: Record<string, string | number> = { 'content-type': 'application/json', 'content-length': body.length };
  if (secret !== undefined) headers['x-telegram-bot-api-secret-token'] = secret;
  return new Promise((resolve) => {
    let target: URL;
    try {
      target = new URL(url);
    } catch {
      resolve({ ok: false, error: 'Invalid webhook URL' });
      return;
    }
    const isHttps = target.protocol === 'https:';
    const req = (isHttps ? https : http).request(
      target,
      { method: 'POST', headers, agent: isHttps ? keepAlive.https : keepAlive.http, timeout: DELIVERY_TIMEOUT_MS },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', () => resolve({ ok: false, error: 'Connection reset while reading the answer' }));
        res.on('end', () => {
          const status = res.statusCode ?? 0;
          const text = Buffer.concat(chunks).toString('utf8');
          if (status >= 200 && status < 300) resolve({ ok: true, status, body: text });
          else resolve({ ok: false, status, body: text, error: `Wrong response from the webhook: ${status} ${res.statusMessage ?? ''}`.trim() });
        });
      },
    );
    req.on('timeout', () => req.destroy(Object.assign(new Error('timeout'), { code: 'ETIMEDOUT' })));
    req.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'ETIMEDOUT') resolve({ ok: false, error: 'Timeout expired' });
      else if (err.code === 'ECONNREFUSED') resolve({ ok: false, error: 'Connection refused' });
      else resolve({ ok: false, error: `Connection failed: ${err.code ?? err.message}` });
    });
    req.end(body);
  });
}

interface RetryState {
  failures: number;
  /** Waiting for the backoff timer. */
  waiting: boolean;
  /** Out of retries: stays pending until the next kick. */
  exhausted: boolean;
}

interface BotDelivery {
  inFlight: Set<TgUpdate>;
  retries: Map<TgUpdate, RetryState>;
  timers: Set<NodeJS.Timeout>;
}

const deliveries = new WeakMap<BotRecord, BotDelivery>();

function stateOf(bot: BotRecord): BotDelivery {
  let s = deliveries.get(bot);
  if (!s) {
    s = { inFlight: new Set(), retries: new Map(), timers: new Set() };
    deliveries.set(bot, s);
  }
  return s;
}

/** The chat an update belongs to, for per-chat ordering (one lane for updates without a chat). */
export function chatKeyOf(update: TgUpdate): string {
  for (const [key, value] of Object.entries(update)) {
    if (key === 'update_id' || typeof value !== 'object' || value === null) continue;
    const v = value as { chat?: { id?: number }; message?: { chat?: { id?: number } }; from?: { id?: number } };
    const id = v.chat?.id ?? v.message?.chat?.id ?? v.from?.id;
    if (id !== undefined) return String(id);
  }
  return 'none';
}

/** New update, new webhook, or a retry comes due: gives exhausted updates a fresh round and pumps. */
export function kickDelivery(bot: BotRecord, deps: WebhookDeliveryDeps): void {
  const s = stateOf(bot);
  for (const r of s.retries.values()) {
    if (r.exhausted) {
      r.exhausted = false;
      r.failures = 0;
    }
  }
  pump(bot, deps);
}

/** Forgets retry bookkeeping (webhook removed or replaced, queue dropped). */
export function resetDelivery(bot: BotRecord): void {
  const s = stateOf(bot);
  for (const t of s.timers) clearTimeout(t);
  s.timers.clear();
  s.retries.clear();
}

function pump(bot: BotRecord, deps: WebhookDeliveryDeps): void {
  const hook = bot.webhook;
  if (!hook) return;
  const s = stateOf(bot);
  const busyChats = new Set<string>();
  for (const entry of bot.queue) {
    if (s.inFlight.size >= hook.maxConnections) return;
    const update = entry.update;
    const chat = chatKeyOf(update);
    if (busyChats.has(chat)) continue;
    // Whatever happens to this update, later ones of the same chat wait behind it.
    busyChats.add(chat);
    if (s.inFlight.has(update)) continue;
    const retry = s.retries.get(update);
    if (retry && (retry.waiting || retry.exhausted)) continue;
    void attempt(bot, update, deps);
  }
}

async function attempt(bot: BotRecord, update: TgUpdate, deps: WebhookDeliveryDeps): Promise<void> {
  const hook = bot.webhook!;
  const s = stateOf(bot);
  s.inFlight.add(update);
  const result = await postUpdate(deps.resolveUrl ? deps.resolveUrl(hook.url) : hook.url, update, hook.secretToken);
  s.inFlight.delete(update);
  const stillCurrent = bot.webhook !== null && bot.webhook.generation === hook.generation;
  const stillQueued = bot.queue.some((q) => q.update === update);
  if (!stillCurrent || !stillQueued) {
    // The webhook changed or the queue was dropped meanwhile: this attempt no longer counts.
    deps.onAttempt(bot, update.update_id, result);
    pump(bot, deps);
    return;
  }
  if (result.ok) {
    s.retries.delete(update);
    const i = bot.queue.findIndex((q) => q.update === update);
    if (i >= 0) bot.queue.splice(i, 1);
    deps.onAttempt(bot, update.update_id, result);
    pump(bot, deps);
    await maybeRunReplyMethod(bot, result.body, deps);
    return;
  }
  bot.lastErrorDate = nowSeconds();
  bot.lastErrorMessage = result.error;
  const retry = s.retries.get(update) ?? { failures: 0, waiting: false, exhausted: false };
  s.retries.set(update, retry);
  if (retry.failures >= deps.retryDelaysMs.length) {
    retry.exhausted = true;
  } else {
    retry.waiting = true;
    const timer = setTimeout(() => {
      s.timers.delete(timer);
      retry.waiting = false;
      pump(bot, deps);
    }, deps.retryDelaysMs[retry.failures]);
    s.timers.add(timer);
    retry.failures += 1;
  }
  deps.onAttempt(bot, update.update_id, result);
  pump(bot, deps);
}

async function maybeRunReplyMethod(bot: BotRecord, body: string | undefined, deps: WebhookDeliveryDeps): Promise<void> {
  if (!body || !body.trimStart().startsWith('{')) return;
  try {
    const parsed = JSON.parse(body) as Record<string, unknown>;
    if (typeof parsed.method === 'string') await deps.onReplyMethod(bot, parsed);
  } catch {
    // Telegram ignores unusable webhook answers; so do we.
  }
}
