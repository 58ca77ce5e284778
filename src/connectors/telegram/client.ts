// Bot API client over global fetch. The API root is configurable (api.telegram.org, a self-hosted
// telegram-bot-api server, or the emulator). The token travels in the URL path, so URLs are never
// logged and every error text is passed through redactToken.
import { TelegramError, kindForStatus, redactToken } from './errors.js';
import type {
  TelegramBotInfo,
  TelegramFile,
  TelegramMessage,
  TelegramUpdate,
  TelegramWebhookInfo,
} from './types.js';

export interface TelegramClientOptions {
  /** e.g. "https://api.telegram.org" (no trailing "/bot…"). */
  apiRoot: string;
  token: string;
  fetchImpl?: typeof fetch;
  /** Per-request timeout for ordinary calls (getUpdates adds its long-poll timeout). Default 30 s. */
  timeoutMs?: number;
}

export interface UploadInput {
  bytes: Buffer | Uint8Array;
  fileName: string;
  mimeType?: string;
  caption?: string;
}

export interface TelegramClient {
  getMe(): Promise<TelegramBotInfo>;
  setWebhook(input: { url: string; secretToken: string; dropPendingUpdates?: boolean; allowedUpdates?: string[]; maxConnections?: number }): Promise<true>;
  deleteWebhook(input?: { dropPendingUpdates?: boolean }): Promise<true>;
  getWebhookInfo(): Promise<TelegramWebhookInfo>;
  getUpdates(input: { offset?: number; timeout?: number; limit?: number; allowedUpdates?: string[]; signal?: AbortSignal }): Promise<TelegramUpdate[]>;
  sendMessage(chatId: number | string, text: string): Promise<TelegramMessage>;
  sendPhoto(chatId: number | string, input: { bytes: Buffer | Uint8Array; fileName: string; mimeType?: string; caption?: string }): Promise<TelegramMessage>;
  sendDocument(chatId: number | string, input: { bytes: Buffer | Uint8Array; fileName: string; mimeType: string; caption?: string }): Promise<TelegramMessage>;
  getFile(fileId: string): Promise<TelegramFile>;
  downloadFile(filePath: string, opts?: { maxBytes?: number }): Promise<Buffer>;
  /** Any other method, JSON params; errors classified like the rest. */
  call<T>(method: string, params?: Record<string, unknown>, opts?: { signal?: AbortSignal; timeoutMs?: number }): Promise<T>;
}

const DEFAULT_TIMEOUT_MS = 30_000;
/** Extra time on top of getUpdates' own long-poll timeout before we give up on the request. */
const LONG_POLL_GRACE_MS = 10_000;

interface Envelope {
  ok: boolean;
  result?: unknown;
  error_code?: number;
  description?: string;
  parameters?: { retry_after?: number; migrate_to_chat_id?: number };
}

export function createTelegramClient(options: TelegramClientOptions): TelegramClient {
  const fetchImpl = options.fetchImpl ?? fetch;
  const root = options.apiRoot.replace(/\/+$/, '');
  const token = options.token;
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;

  const fail = (method: string, status: number, description: string, retryAfter?: number): TelegramError =>
    new TelegramError(kindForStatus(status), status, redactToken(description, token), retryAfter, method);

  interface Exchange {
    status: number;
    statusText: string;
    headers: Headers;
    body: Buffer;
  }

  /**
   * One HTTP exchange, body included, under one deadline. The caller's signal and the deadline are
   * combined by hand (not AbortSignal.any) so a poller's long-lived signal does not collect a
   * dependent signal per request.
   */
  async function exchange(method: string, url: string, init: RequestInit, signal: AbortSignal | undefined, ms: number, maxBytes?: number): Promise<Exchange> {
    const controller = new AbortController();
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      controller.abort();
    }, ms);
    const onAbort = (): void => controller.abort(signal?.reason);
    if (signal?.aborted) onAbort();
    else signal?.addEventListener('abort', onAbort, { once: true });
    try {
      const res = await fetchImpl(url, { ...init, signal: controller.signal });
      const declared = Number(res.headers.get('content-length') ?? NaN);
      if (maxBytes !== undefined && Number.isFinite(declared) && declared > maxBytes) {
        await res.body?.cancel().catch(() => {});
        throw fail(method, 400, 'file is too big');
      }
      const body = Buffer.from(await res.arrayBuffer());
      if (maxBytes !== undefined && body.length > maxBytes) throw fail(method, 400, 'file is too big');
      return { status: res.status, statusText: res.statusText, headers: res.headers, body };
    } catch (err) {
      if (err instanceof TelegramError) throw err;
      // The caller's own abort is not a Telegram failure: rethrow it untouched (name AbortError).
      if (signal?.aborted) throw signal.reason ?? err;
      if (timedOut) throw fail(method, 0, `no answer within ${Math.round(ms / 1000)} s`);
      const cause = (err as { cause?: { code?: string; message?: string } }).cause;
      throw fail(method, 0, `network error: ${cause?.code ?? cause?.message ?? (err as Error).message}`);
    } finally {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
    }
  }

  async function call<T>(
    method: string,
    params: Record<string, unknown> | FormData = {},
    opts: { signal?: AbortSignal; timeoutMs?: number } = {},
  ): Promise<T> {
    const init: RequestInit =
      params instanceof FormData
        ? { method: 'POST', body: params }
        : { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(params) };
    const res = await exchange(method, `${root}/bot${token}/${method}`, init, opts.signal, opts.timeoutMs ?? timeoutMs);
    let body: Envelope | undefined;
    try {
      body = JSON.parse(res.body.toString('utf8')) as Envelope;
    } catch {
      body = undefined;
    }
    if (body && body.ok === true && res.status >= 200 && res.status < 300) return body.result as T;
    const status = body?.error_code ?? res.status;
    const retryAfter =
      body?.parameters?.retry_after ?? (res.headers.get('retry-after') ? Number(res.headers.get('retry-after')) : undefined);
    const description = body?.description ?? `HTTP ${res.status} ${res.statusText}`.trim();
    throw fail(method, status === 200 ? 502 : status, description, status === 429 ? (retryAfter ?? 1) : undefined);
  }

  function upload(field: 'photo' | 'document', chatId: number | string, input: UploadInput): FormData {
    const form = new FormData();
    form.set('chat_id', String(chatId));
    if (input.caption) form.set('caption', input.caption);
    // Copy into a plain ArrayBuffer-backed view: Blob does not accept SharedArrayBuffer-backed buffers.
    const blob = new Blob([new Uint8Array(input.bytes)], { type: input.mimeType ?? 'application/octet-stream' });
    form.set(field, blob, input.fileName);
    return form;
  }

  return {
    call,
    getMe: () => call<TelegramBotInfo>('getMe'),
    setWebhook: (input) =>
      call<true>('setWebhook', {
        url: input.url,
        secret_token: input.secretToken,
        ...(input.dropPendingUpdates !== undefined && { drop_pending_updates: input.dropPendingUpdates }),
        ...(input.allowedUpdates !== undefined && { allowed_updates: input.allowedUpdates }),
        ...(input.maxConnections !== undefined && { max_connections: input.maxConnections }),
      }),
    deleteWebhook: (input = {}) =>
      call<true>('deleteWebhook', input.dropPendingUpdates !== undefined ? { drop_pending_updates: input.dropPendingUpdates } : {}),
    getWebhookInfo: () => call<TelegramWebhookInfo>('getWebhookInfo'),
    getUpdates: (input) => {
      const timeout = input.timeout ?? 0;
      return call<TelegramUpdate[]>(
        'getUpdates',
        {
          ...(input.offset !== undefined && { offset: input.offset }),
          ...(input.limit !== undefined && { limit: input.limit }),
          ...(input.allowedUpdates !== undefined && { allowed_updates: input.allowedUpdates }),
          timeout,
        },
        { signal: input.signal, timeoutMs: timeout * 1000 + LONG_POLL_GRACE_MS },
      );
    },
    sendMessage: (chatId, text) => call<TelegramMessage>('sendMessage', { chat_id: chatId, text }),
    sendPhoto: (chatId, input) => call<TelegramMessage>('sendPhoto', upload('photo', chatId, input)),
    sendDocument: (chatId, input) => call<TelegramMessage>('sendDocument', upload('document', chatId, input)),
    getFile: (fileId) => call<TelegramFile>('getFile', { file_id: fileId }),
    downloadFile: async (filePath, opts = {}) => {
      if (filePath.startsWith('/')) {
        // A self-hosted telegram-bot-api in --local mode answers getFile with a path on its own disk.
        throw fail('downloadFile', 400, 'the Bot API server runs in --local mode and returned a disk path; run it without --local so files can be downloaded over HTTP');
      }
      const path = filePath.split('/').map(encodeURIComponent).join('/');
      const max = opts.maxBytes ?? 20 * 1024 * 1024;
      const res = await exchange('downloadFile', `${root}/file/bot${token}/${path}`, { method: 'GET' }, undefined, timeoutMs * 4, max);
      if (res.status < 200 || res.status >= 300) {
        let description = `HTTP ${res.status}`;
        try {
          description = (JSON.parse(res.body.toString('utf8')) as Envelope).description ?? description;
        } catch {
          // not JSON
        }
        throw fail('downloadFile', res.status, description);
      }
      return res.body;
    },
  };
}
