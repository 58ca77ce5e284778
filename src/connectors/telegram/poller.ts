// Long-poll loop for bots without a public webhook URL.
//
// Delivery guarantee: at-least-once. The offset that confirms a batch is sent only with the next
// getUpdates, and only after onUpdates resolved; if onUpdates throws or the process dies, the same
// updates come again, so the handler must be idempotent (the chat module dedups by update_id).
//
// Failure handling: 429 → wait exactly retry_after; network/5xx → exponential backoff; 401 → stop
// (the token is revoked or wrong, retrying cannot help); 409 "webhook is active" → stop and report
// (the caller decides whether to delete the webhook); 409 "terminated by other getUpdates request"
// → report and keep trying with backoff (another instance or a stale request of ours).
import { TelegramError, describeTelegramError, isTelegramError } from './errors.js';
import type { TelegramClient } from './client.js';
import type { TelegramUpdate } from './types.js';

export interface PollerLogger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

export type PollerStopReason = 'aborted' | 'auth' | 'webhook-conflict';

export interface PollerResult {
  reason: PollerStopReason;
  error?: TelegramError;
  /** The next offset to use (last confirmed update_id + 1), for persisting. */
  offset?: number;
}

export interface PollerOptions {
  client: Pick<TelegramClient, 'getUpdates'>;
  onUpdates: (updates: TelegramUpdate[]) => Promise<void>;
  signal: AbortSignal;
  logger: PollerLogger;
  /** Resume from a persisted offset. */
  initialOffset?: number;
  /** Long-poll timeout in seconds (default 25). */
  timeoutSeconds?: number;
  limit?: number;
  allowedUpdates?: string[];
  /** Every failure, classified, with a plain-words explanation (for channel diagnostics). */
  onError?: (err: TelegramError | Error, explanation: string) => void;
  /** First transient backoff (doubles up to maxBackoffMs). Defaults 1 s / 30 s. */
  backoffMs?: number;
  maxBackoffMs?: number;
  /** Injected for tests: how to wait. */
  sleep?: (ms: number, signal: AbortSignal) => Promise<void>;
}

export interface Poller {
  /** Resolves when the loop ends (abort, revoked token, webhook conflict). Never rejects. */
  done: Promise<PollerResult>;
  /** The offset the next getUpdates will send. */
  offset(): number | undefined;
}

export function abortableSleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done(): void {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}

export function createPoller(opts: PollerOptions): Poller {
  let offset = opts.initialOffset;
  const sleep = opts.sleep ?? abortableSleep;
  const baseBackoff = opts.backoffMs ?? 1000;
  const maxBackoff = opts.maxBackoffMs ?? 30_000;
  const timeout = opts.timeoutSeconds ?? 25;
  const { signal, logger } = opts;

  const report = (err: TelegramError | Error): void => {
    const explanation = describeTelegramError(err);
    try {
      opts.onError?.(err, explanation);
    } catch {
      // a faulty reporter must not kill the loop
    }
  };

  async function loop(): Promise<PollerResult> {
    let backoff = baseBackoff;
    while (!signal.aborted) {
      let updates: TelegramUpdate[];
      try {
        updates = await opts.client.getUpdates({
          offset,
          timeout,
          limit: opts.limit,
          allowedUpdates: opts.allowedUpdates,
          signal,
        });
      } catch (err) {
        if (signal.aborted) break;
        if (!isTelegramError(err)) {
          logger.error({ err: (err as Error).message }, 'telegram poller: unexpected error');
          report(err as Error);
          await sleep(backoff, signal);
          backoff = Math.min(backoff * 2, maxBackoff);
          continue;
        }
        report(err);
        if (err.kind === 'auth') {
          logger.error({ kind: err.kind, status: err.status }, 'telegram poller stopped: token rejected');
          return { reason: 'auth', error: err, offset };
        }
        if (err.kind === 'conflict' && err.conflictKind === 'webhook') {
          logger.warn({ kind: err.kind }, 'telegram poller stopped: a webhook is set for this bot');
          return { reason: 'webhook-conflict', error: err, offset };
        }
        if (err.kind === 'rate-limited') {
          const waitMs = (err.retryAfter ?? 1) * 1000;
          logger.warn({ retryAfter: err.retryAfter }, 'telegram poller: rate limited');
          await sleep(waitMs, signal);
          continue;
        }
        logger.warn({ kind: err.kind, status: err.status, description: err.description, backoffMs: backoff }, 'telegram poller: getUpdates failed');
        await sleep(backoff, signal);
        backoff = Math.min(backoff * 2, maxBackoff);
        continue;
      }
      backoff = baseBackoff;
      if (updates.length === 0) continue;
      try {
        await opts.onUpdates(updates);
      } catch (err) {
        // Not confirmed: the same batch comes again after the backoff.
        logger.error({ err: (err as Error).message, count: updates.length }, 'telegram poller: handler failed; will re-fetch');
        report(err as Error);
        await sleep(backoff, signal);
        backoff = Math.min(backoff * 2, maxBackoff);
        continue;
      }
      offset = updates[updates.length - 1].update_id + 1;
    }
    return { reason: 'aborted', offset };
  }

  const done = loop().catch((err: unknown): PollerResult => {
    logger.error({ err: (err as Error).message }, 'telegram poller crashed');
    return { reason: 'aborted', offset };
  });
  return { done, offset: () => offset };
}

/**
 * Confirms processed updates without waiting (getUpdates with timeout 0, limit 1), e.g. on a
 * graceful shutdown, so a restart does not re-fetch the last batch. Best effort: failures ignored.
 */
export async function confirmOffset(client: Pick<TelegramClient, 'getUpdates'>, offset: number | undefined): Promise<void> {
  if (offset === undefined) return;
  try {
    await client.getUpdates({ offset, timeout: 0, limit: 1 });
  } catch {
    // the next poller run will confirm it anyway
  }
}
