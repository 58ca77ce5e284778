// Reads getWebhookInfo for channel self-diagnosis: is our webhook registered, is Telegram able to
// deliver, and what to tell the administrator in plain words. Telegram keeps last_error_* after
// deliveries recover, so an error counts as current only when no delivery arrived after it (the
// caller knows when the last one did) and updates are waiting or it is recent.
import type { TelegramWebhookInfo } from './types.js';

export type WebhookState = 'ok' | 'missing' | 'other-url' | 'failing';

export interface WebhookDiagnosis {
  state: WebhookState;
  pendingUpdates: number;
  lastError?: { at: string; message: string };
  /** True when Switchboard should call setWebhook again (lost or replaced registration). */
  needsReregistration: boolean;
  explanation: string;
}

/** An error younger than this is "current" even when nothing is pending. */
const RECENT_ERROR_MS = 10 * 60 * 1000;

/**
 * @param lastDeliveryAt when a delivery last reached us (null: none known). An error older than
 *   that delivery is history: Telegram delivered again since.
 */
export function diagnoseWebhook(info: TelegramWebhookInfo, expectedUrl: string, now: Date = new Date(), lastDeliveryAt: Date | null = null): WebhookDiagnosis {
  const pendingUpdates = info.pending_update_count ?? 0;
  const lastError =
    info.last_error_date !== undefined
      ? { at: new Date(info.last_error_date * 1000).toISOString(), message: info.last_error_message ?? 'unknown error' }
      : undefined;
  const base = { pendingUpdates, ...(lastError && { lastError }) };

  if (!info.url) {
    return {
      ...base,
      state: 'missing',
      needsReregistration: true,
      explanation:
        'Telegram has no webhook registered for this bot, so it is not sending it messages. Switchboard will register it again; if this keeps happening, another program may be removing it (a bot can serve only one integration).',
    };
  }
  if (info.url !== expectedUrl) {
    return {
      ...base,
      state: 'other-url',
      needsReregistration: true,
      explanation: `The bot's webhook points somewhere else (${safeOrigin(info.url)}), so messages do not reach Switchboard. Another integration is probably using the same bot; Switchboard will point it back, but the other program should stop using this bot.`,
    };
  }
  const recent = lastError !== undefined && now.getTime() - info.last_error_date! * 1000 < RECENT_ERROR_MS;
  // last_error_date has whole seconds: a delivery counts as "after" only from the next second on.
  const recovered = lastError !== undefined && lastDeliveryAt !== null && lastDeliveryAt.getTime() >= (info.last_error_date! + 1) * 1000;
  if (lastError && !recovered && (pendingUpdates > 0 || recent)) {
    return {
      ...base,
      state: 'failing',
      needsReregistration: false,
      explanation: `Telegram cannot deliver messages to Switchboard: "${lastError.message}" (last at ${lastError.at}). ${pendingUpdates} message(s) are waiting at Telegram and will arrive once Switchboard's address (SiteUrl) is reachable from the internet over HTTPS.`,
    };
  }
  return {
    ...base,
    state: 'ok',
    needsReregistration: false,
    explanation:
      pendingUpdates > 0
        ? `The webhook is registered; ${pendingUpdates} message(s) are on their way.`
        : 'The webhook is registered and Telegram delivers messages normally.',
  };
}

/** Only scheme + host of a foreign URL: its path may carry someone else's secret. */
function safeOrigin(url: string): string {
  try {
    return new URL(url).origin;
  } catch {
    return 'an invalid address';
  }
}
