// Classified Telegram failures. The connector only classifies; the chat module decides what to do
// (retry later, stop the channel, tell the administrator). Descriptions never carry the bot token.

export type TelegramErrorKind =
  | 'auth'
  | 'rate-limited'
  | 'conflict'
  | 'not-found'
  | 'forbidden'
  | 'bad-request'
  | 'transient';

export class TelegramError extends Error {
  override readonly name = 'TelegramError';

  constructor(
    readonly kind: TelegramErrorKind,
    /** HTTP status (= Telegram error_code); 0 for network failures and timeouts. */
    readonly status: number,
    /** Telegram's description (or ours for network failures), token redacted. */
    readonly description: string,
    /** Seconds to wait, from `parameters.retry_after` (rate-limited only). */
    readonly retryAfter?: number,
    /** The Bot API method that failed, e.g. "sendMessage". */
    readonly method?: string,
  ) {
    super(`Telegram ${method ?? 'request'} failed (${status || 'network'}): ${description}`);
  }

  /** For 409: is it "webhook is active" (vs. "terminated by other getUpdates request")? */
  get conflictKind(): 'webhook' | 'other-poller' | undefined {
    if (this.kind !== 'conflict') return undefined;
    return /webhook/i.test(this.description) ? 'webhook' : 'other-poller';
  }
}

export function isTelegramError(err: unknown): err is TelegramError {
  return err instanceof TelegramError;
}

export function kindForStatus(status: number): TelegramErrorKind {
  if (status === 401) return 'auth';
  if (status === 403) return 'forbidden';
  if (status === 404) return 'not-found';
  if (status === 409) return 'conflict';
  if (status === 429) return 'rate-limited';
  if (status >= 500 || status === 0 || status === 408) return 'transient';
  return 'bad-request';
}

/** Removes a bot token from any text: "bot123:AbC…" → "bot<redacted>", and the bare token too. */
export function redactToken(text: string, token?: string): string {
  let out = text;
  if (token) out = out.split(token).join('<redacted>');
  return out.replace(/bot\d+:[A-Za-z0-9_-]+/g, 'bot<redacted>').replace(/\b\d{5,}:[A-Za-z0-9_-]{30,}\b/g, '<redacted>');
}

/**
 * Plain-words explanation for channel diagnostics and the console. Says what happened and what
 * the administrator can do; never includes the token.
 */
export function describeTelegramError(err: unknown): string {
  if (!isTelegramError(err)) {
    return 'Switchboard could not talk to Telegram because of an unexpected error. It will try again.';
  }
  switch (err.kind) {
    case 'auth':
      return 'The bot token was rejected by Telegram (revoked or mistyped). Get the current token from @BotFather and enter it again.';
    case 'rate-limited':
      return `Telegram asked Switchboard to slow down (too many messages); it will retry in ${err.retryAfter ?? 'a few'} seconds.`;
    case 'conflict':
      return err.conflictKind === 'webhook'
        ? 'A webhook is registered for this bot, so Telegram refuses polling. Switchboard must either use the webhook or remove it; make sure no other integration set it.'
        : 'Another program is polling this bot with the same token. A bot can be used by only one integration: stop the other program or create a separate bot for Switchboard.';
    case 'forbidden':
      return /blocked/i.test(err.description)
        ? 'The customer has blocked the bot, so Telegram does not deliver messages to them any more.'
        : `Telegram refused the operation: ${err.description}.`;
    case 'not-found':
      return 'Telegram did not find what was asked for: check the Telegram API address configured for this installation, or the file may have expired.';
    case 'bad-request':
      return `Telegram rejected the request: ${err.description}.`;
    case 'transient':
      return `Telegram could not be reached or had a temporary problem (${err.description}). Switchboard will retry automatically.`;
  }
}
