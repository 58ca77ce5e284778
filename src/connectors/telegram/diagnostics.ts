// Reads getWebhookInfo for channel self-diagnosis: is our webhook registered, is Telegram able to
// deliver, and what to tell the administrator in plain words. Telegram keeps last_error_* after
// deliveries recover, so an error counts as current only while updates are waiting or it is recent.
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

export function diagnoseWebhook(info: TelegramWebhookInfo, expectedUrl: string, now: Date = new Date()): WebhookDiagnosis {
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
        'No webhook is registered for this bot, so Telegram is not sending it messages. Switchboard will register it again; if this keeps happening, another program may be removing it (a bot can serve only one integration).',
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
  if (lastError && (pendingUpdates > 0 || recent)) {
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
