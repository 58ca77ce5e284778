// Webhook push mode: POST each pending update, in order, to the bot's registered URL with the
// X-Telegram-Bot-Api-Secret-Token header. A non-2xx answer or a connection error is recorded in
// last_error_* (visible through getWebhookInfo) and retried with a short backoff; after the last
// retry the update simply stays pending until something kicks the loop again (a new update, a new
// setWebhook). Real Telegram retries for much longer; the emulator keeps tests fast.
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
}

export async function postUpdate(url: string, update: unknown, secret: string | undefined): Promise<DeliveryResult> {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (secret !== undefined) headers['x-telegram-bot-api-secret-token'] = secret;
  try {
    const res = await fetch(url, {
      method: 'POST',
      headers,
      body: JSON.stringify(update),
      signal: AbortSignal.timeout(DELIVERY_TIMEOUT_MS),
    });
    const body = await res.text();
    if (res.status >= 200 && res.status < 300) return { ok: true, status: res.status, body };
    return { ok: false, status: res.status, body, error: `Wrong response from the webhook: ${res.status} ${res.statusText}`.trim() };
  } catch (err) {
    const cause = (err as { cause?: { code?: string } }).cause;
    if ((err as Error).name === 'TimeoutError') return { ok: false, error: 'Timeout expired' };
    if (cause?.code === 'ECONNREFUSED') return { ok: false, error: 'Connection refused' };
    return { ok: false, error: `Connection failed: ${cause?.code ?? (err as Error).message}` };
  }
}

const running = new WeakMap<BotRecord, { again: boolean }>();

/** Starts the delivery loop for a bot if it is not already running (then it re-checks the queue). */
export function kickDelivery(bot: BotRecord, deps: WebhookDeliveryDeps): void {
  const state = running.get(bot);
  if (state) {
    state.again = true;
    return;
  }
  const mine = { again: false };
  running.set(bot, mine);
  void deliveryLoop(bot, deps, mine).finally(() => running.delete(bot));
}

async function deliveryLoop(bot: BotRecord, deps: WebhookDeliveryDeps, state: { again: boolean }): Promise<void> {
  let failures = 0;
  for (;;) {
    const hook = bot.webhook;
    const head = bot.queue[0];
    if (!hook || !head) return;
    state.again = false;
    const generation = hook.generation;
    const update: TgUpdate = head.update;
    const result = await postUpdate(hook.url, update, hook.secretToken);
    // The webhook may have been removed or replaced while we were waiting for the answer.
    if (!bot.webhook || bot.webhook.generation !== generation) {
      deps.onAttempt(bot, update.update_id, result);
      continue;
    }
    if (result.ok) {
      failures = 0;
      if (bot.queue[0]?.update === update) bot.queue.shift();
      deps.onAttempt(bot, update.update_id, result);
      await maybeRunReplyMethod(bot, result.body, deps);
      continue;
    }
    bot.lastErrorDate = nowSeconds();
    bot.lastErrorMessage = result.error;
    deps.onAttempt(bot, update.update_id, result);
    if (failures >= deps.retryDelaysMs.length) {
      // Out of retries: keep the update pending; a later kick starts over.
      if (!state.again) return;
      failures = 0;
      continue;
    }
    await new Promise((r) => setTimeout(r, deps.retryDelaysMs[failures]));
    failures += 1;
  }
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
