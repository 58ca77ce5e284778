// What the chat module needs from a channel kind (Telegram now, Facebook Messenger next). The
// module decides (routing, storage, when to retry); a ChatConnector translates to one external
// protocol. `{ telegram } satisfies Record<ChannelKind, ChatConnector>` in registry.ts makes a
// missing kind a compile error rather than a `switch` repeated in every service.

/** A normalized inbound message from a customer. */
export interface InboundMessage {
  /** Idempotency key: unique per channel (Telegram update_id). */
  updateId: string;
  externalChatId: string;
  externalMessageId: string;
  customer: { externalUserId: string; name: string; username: string | null };
  text: string | null;
  files: { kind: 'photo' | 'document'; ref: string; fileName: string | null; mimeType: string | null; size: number | null }[];
  /** Payload types we do not carry (sticker, voice, …), to tell the operator. */
  unsupported: string[];
  edited: boolean;
}

export type ParsedInbound = { kind: 'message'; message: InboundMessage } | { kind: 'ignored'; updateId: string; reason: string };

export interface OutgoingFile {
  bytes: Buffer;
  fileName: string;
  mimeType: string;
  kind: 'photo' | 'document';
}

/** How a channel is doing, for the administrator (GET /api/chat-channels/{id}). */
export type ChannelHealthState =
  | 'ok'
  | 'webhook-missing'
  | 'webhook-other-url'
  | 'webhook-failing'
  | 'polling'
  | 'polling-blocked'
  | 'token-revoked'
  | 'inactive'
  | 'not-configured'
  | 'unreachable';

export interface DeliveryDiagnostics {
  mode: 'webhook' | 'polling' | null;
  /** The channel's state in one word, and the same in plain words (what happens, what to do). */
  state: ChannelHealthState;
  explanation: string;
  webhookUrl: string | null;
  expectedWebhookUrl: string | null;
  pendingUpdateCount: number | null;
  /** When the current delivery problem was last seen (null when there is none). */
  lastErrorAt: string | null;
  /** The channel's problem in plain words, or null when healthy. */
  lastError: string | null;
  /** Process holding the polling lease (polling mode). */
  pollingHolder: string | null;
}

/** The push registration as the service sees it, judged (see connectors/telegram/diagnostics.ts). */
export interface WebhookHealth {
  state: 'ok' | 'missing' | 'other-url' | 'failing';
  /** Registered URL; only its origin is safe to show (a foreign path may hold a secret). */
  url: string | null;
  pending: number | null;
  /** The service's last delivery error (kept by the service after recovery). */
  lastErrorAt: string | null;
  lastError: string | null;
  /** Plain words for the administrator. */
  explanation: string;
}

/** Credentials and context a connector works with; secrets come from the SecretStore. */
export interface ChannelRuntime {
  channelId: string;
  credentials: Record<string, string>;
}

export interface ChatConnector {
  /** Checks the credentials; returns the account's identity (bot id and username). */
  verify(credentials: Record<string, string>): Promise<{ externalId: string; username: string | null; displayName: string }>;
  /** Registers push delivery at `url`; throws when the service refuses (caller falls back to pull). */
  registerWebhook(rt: ChannelRuntime, url: string, secret: string): Promise<void>;
  unregisterWebhook(rt: ChannelRuntime): Promise<void>;
  /**
   * Current push registration as the service sees it, judged against the URL we registered;
   * `lastDeliveryAt` (the last delivery that reached us) tells a current error from history.
   */
  webhookHealth(rt: ChannelRuntime, expectedUrl: string, lastDeliveryAt: Date | null): Promise<WebhookHealth>;
  parseInbound(payload: unknown): ParsedInbound;
  /** Constant-time check of the webhook's secret header. */
  verifyWebhook(headers: Record<string, string | string[] | undefined>, secret: string): boolean;
  downloadFile(rt: ChannelRuntime, ref: string, maxBytes: number): Promise<Buffer>;
  sendText(rt: ChannelRuntime, externalChatId: string, text: string): Promise<{ externalMessageId: string }>;
  sendFile(rt: ChannelRuntime, externalChatId: string, file: OutgoingFile, caption?: string): Promise<{ externalMessageId: string }>;
  /** Plain words for an error of this connector. */
  describeError(err: unknown): string;
  /** True when the error means the credentials are no longer valid. */
  isAuthError(err: unknown): boolean;
  /** Seconds the service asked us to wait (flood control), when the error is a rate limit. */
  retryAfter(err: unknown): number | undefined;
}
