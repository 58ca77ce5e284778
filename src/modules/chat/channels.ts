// Chat channels (H6): the administrator enters a bot token; we verify it, keep it in the
// SecretStore, and arrange delivery — a webhook at {SiteUrl}/webhooks/telegram/{id} with a secret
// token when SiteUrl is publicly reachable, otherwise long polling by exactly one worker (the
// holder of the lease `telegram-poll:<id>`). Never both: the mode is flipped in the database
// before the webhook is set (pollers stop on their next supervision tick, and Telegram itself
// refuses getUpdates while a webhook exists), and the webhook is deleted before polling starts.
//
// Inbound updates are persisted first (unique per channel and update_id, so duplicate deliveries
// are no-ops) and processed afterwards: webhook deliveries through a job, polled ones inline.
import type { DB } from '../../schema.js';
import type { SecretStore } from '../../platform/crypto/secret-store.js';
import type { FileStore } from '../../platform/files/index.js';
import type { JobQueue } from '../../platform/jobs/types.js';
import type { Leases } from '../../platform/leases/types.js';
import type { Logger } from '../../platform/logger.js';
import { forUpdate, fromJson, isForeignKeyViolation, isUniqueViolation, newId, nowIso, toBool, toJson, fromBool, type Dialect } from '../../platform/db/index.js';
import { AppError, errors } from '../../platform/http/errors.js';
import { createPoller, newWebhookSecret, type Poller } from '../../connectors/telegram/index.js';
import type { ChatConnectors } from './connectors/registry.js';
import type { ChannelRuntime, ChatConnector, DeliveryDiagnostics } from './connectors/types.js';
import type { ConversationService, StoredInboundFile } from './conversations.js';
import { isPublicUrl, webhookUrl } from './site-url.js';

/** Only scheme + host of a URL we did not register: its path may carry someone else's secret. */
function safeOrigin(url: string): string {
  try {
    return new URL(url).origin;
  } catch {
    return 'an invalid address';
  }
}
import type { ChannelKind, ChatChannelsTable, ChatInboundUpdatesTable } from './tables.js';

export const TELEGRAM_WARNING =
  'Use this bot only for Switchboard: a bot can deliver its messages to one integration at a time, so another program using the same token (its own webhook or polling) would take messages away from Switchboard.';

export interface ChannelView {
  id: string;
  kind: ChannelKind;
  name: string;
  isActive: boolean;
  queueId: string;
  delivery: 'auto' | 'webhook' | 'polling';
  mode: 'webhook' | 'polling' | null;
  botId: string | null;
  botUsername: string | null;
  hasToken: boolean;
  lastError: string | null;
  lastCheckedAt: string | null;
  createdAt: string;
  updatedAt: string;
}

export interface ChannelInput {
  kind: ChannelKind;
  name?: string;
  queueId: string;
  token: string;
  isActive?: boolean;
  delivery?: 'auto' | 'webhook' | 'polling';
}

export interface ChannelDeps {
  db: DB;
  /** Row locks (FOR UPDATE) on PostgreSQL; SQLite serialises writers. Default 'sqlite'. */
  dialect?: Dialect;
  secrets: SecretStore;
  files: FileStore;
  jobs: JobQueue;
  leases: Leases;
  instanceId: string;
  logger: Logger;
  connectors: ChatConnectors;
  conversations: ConversationService;
  siteUrl(): Promise<string>;
  /** Largest customer file we download (Telegram bots can download up to 20 MB). */
  maxFileBytes?: number;
}

export const INBOUND_JOB = 'chat.inbound';
const POLL_LEASE_MS = 30_000;
const tokenRef = (id: string) => `chat-channel:${id}:bot-token`;
const secretRef = (id: string) => `chat-channel:${id}:webhook-secret`;

export function createChannelService(deps: ChannelDeps) {
  const { db, secrets, logger } = deps;
  const dialect = deps.dialect ?? 'sqlite';
  const log = logger.child({ component: 'chat-channels' });
  const connectorOf = (kind: ChannelKind): ChatConnector => deps.connectors.registry[kind];
  const maxFileBytes = deps.maxFileBytes ?? 20 * 1024 * 1024;
  const tuning = {
    superviseMs: 5000,
    pollTimeoutSeconds: 25,
    /** Periodic checks that must find the webhook failing before an 'auto' channel switches to polling. */
    webhookGiveUpChecks: 3,
    /** How long an 'auto' channel that gave up on its webhook polls before trying the webhook again. */
    webhookRetryAfterMs: 60 * 60_000,
    /** How long pollers leave a rejected token alone before trying it again. */
    tokenRetryAfterMs: 10 * 60_000,
  };

  // Webhook secrets are needed on every delivery; decrypting one per request would be waste.
  const secretCache = new Map<string, { kind: ChannelKind; secret: string | null; at: number }>();
  const SECRET_CACHE_MS = 30_000;

  function view(c: ChatChannelsTable, hasToken: boolean): ChannelView {
    return {
      id: c.id,
      kind: c.kind,
      name: c.name,
      isActive: fromBool(c.is_active),
      queueId: c.queue_id,
      delivery: c.delivery,
      mode: (c.mode as ChannelView['mode']) ?? null,
      botId: c.external_id,
      botUsername: c.external_username,
      hasToken,
      lastError: c.last_error,
      lastCheckedAt: c.last_checked_at,
      createdAt: c.created_at,
      updatedAt: c.updated_at,
    };
  }

  async function load(id: string): Promise<ChatChannelsTable> {
    const c = await db.selectFrom('chat_channels').selectAll().where('id', '=', id).executeTakeFirst();
    if (!c) throw errors.notFound('Chat channel', id);
    return c;
  }

  async function runtime(c: Pick<ChatChannelsTable, 'id'>): Promise<ChannelRuntime> {
    const token = await secrets.get(tokenRef(c.id));
    if (!token) throw errors.conflict('The channel has no bot token; enter it again.');
    return { channelId: c.id, credentials: { token } };
  }

  async function setError(id: string, lastError: string | null, extra: Partial<ChatChannelsTable> = {}) {
    await db.updateTable('chat_channels').set({ last_error: lastError, last_checked_at: nowIso(), ...extra }).where('id', '=', id).execute();
  }

  async function checkQueue(queueId: string) {
    const q = await db.selectFrom('chat_queues').select('id').where('id', '=', queueId).executeTakeFirst();
    if (!q) throw errors.validation([{ field: 'queueId', message: 'Unknown chat queue.' }]);
  }

  /** Verifies a token; a rejected token is the administrator's mistake (400), anything else is Telegram's (502). */
  async function verify(kind: ChannelKind, token: string) {
    const connector = connectorOf(kind);
    try {
      return await connector.verify({ token });
    } catch (err) {
      if (connector.isAuthError(err)) {
        throw errors.validation([{ field: 'token', message: 'Telegram did not accept this bot token (401 Unauthorized). Copy the token from @BotFather again; it looks like 123456789:AA…' }], 'Telegram did not accept this bot token.');
      }
      throw errors.upstream('CHANNEL_UNREACHABLE', `Switchboard could not check the token: ${connector.describeError(err)}`);
    }
  }

  // --- delivery: webhook or polling, never both ---

  const pollers = new Map<string, { abort: AbortController; poller: Poller }>();

  function stopLocalPoller(id: string) {
    const p = pollers.get(id);
    if (p) {
      p.abort.abort();
      pollers.delete(id);
    }
  }

  async function configureDelivery(id: string): Promise<void> {
    const c = await load(id);
    const connector = connectorOf(c.kind);
    const rt = await runtime(c);
    if (!fromBool(c.is_active)) {
      // An inactive channel receives nothing; Telegram keeps new messages up to 24 h meanwhile.
      await db.updateTable('chat_channels').set({ mode: null, updated_at: nowIso() }).where('id', '=', id).execute();
      stopLocalPoller(id);
      try {
        await connector.unregisterWebhook(rt);
      } catch (err) {
        log.warn({ channelId: id, problem: connector.describeError(err) }, 'could not remove the webhook of a deactivated channel');
      }
      return;
    }
    const site = await deps.siteUrl();
    const wantWebhook = c.delivery === 'webhook' || (c.delivery === 'auto' && isPublicUrl(site));
    if (wantWebhook) {
      // Pollers everywhere stop on their next tick once the mode says webhook.
      await db.updateTable('chat_channels').set({ mode: 'webhook', updated_at: nowIso() }).where('id', '=', id).execute();
      stopLocalPoller(id);
      const url = webhookUrl(site, c.kind, c.id);
      let secret = await secrets.get(secretRef(id));
      if (!secret) {
        secret = newWebhookSecret();
        await secrets.put(secretRef(id), secret);
        secretCache.delete(id);
      }
      try {
        await connector.registerWebhook(rt, url, secret);
        await setError(id, null, { webhook_failures: 0, token_rejected_at: null });
        return;
      } catch (err) {
        const problem = connector.describeError(err);
        if (connector.isAuthError(err)) {
          await markTokenRejected(id, err);
          return;
        }
        if (c.delivery === 'webhook') {
          await setError(id, `Telegram refused the webhook ${url}: ${problem}`);
          return;
        }
        log.warn({ channelId: id, problem }, 'webhook refused; falling back to long polling');
        await setError(id, `Telegram refused the webhook ${url} (${problem}); Switchboard uses long polling instead.`);
      }
    }
    // Polling: the webhook must be gone first, or Telegram answers getUpdates with 409.
    try {
      await connector.unregisterWebhook(rt);
    } catch (err) {
      await setError(id, `Could not switch the bot to polling: ${connector.describeError(err)}`);
      return;
    }
    // The token works (deleteWebhook answered): a past rejection no longer holds pollers back.
    await db.updateTable('chat_channels').set({ mode: 'polling', token_rejected_at: null, updated_at: nowIso() }).where('id', '=', id).execute();
    if (!wantWebhook) await setError(id, null);
    kickSupervisor();
  }

  /** Persists a raw update; null when this update was already stored (duplicate delivery). */
  async function persistUpdate(channelId: string, updateId: string, payload: unknown, orderKey: string | null = null): Promise<string | null> {
    const id = newId();
    try {
      await db
        .insertInto('chat_inbound_updates')
        .values({ id, channel_id: channelId, external_update_id: updateId, order_key: orderKey, payload: toJson(payload), state: 'pending', error: null, received_at: nowIso(), processed_at: null })
        .execute();
      return id;
    } catch (err) {
      if (isUniqueViolation(err)) return null;
      throw err;
    }
  }

  async function markUpdate(id: string, state: 'processed' | 'ignored' | 'failed', error: string | null = null) {
    await db.updateTable('chat_inbound_updates').set({ state, error, processed_at: nowIso() }).where('id', '=', id).execute();
  }

  /** Turns a stored update into a chat message. Throws on a transient failure so the job retries. */
  // Busy channels process many updates a second; their row changes rarely (a deactivation takes
  // effect within CHANNEL_CACHE_MS).
  const channelCache = new Map<string, { row: ChatChannelsTable | undefined; at: number }>();
  const CHANNEL_CACHE_MS = 2000;
  async function cachedChannel(id: string): Promise<ChatChannelsTable | undefined> {
    const hit = channelCache.get(id);
    if (hit && Date.now() - hit.at < CHANNEL_CACHE_MS) return hit.row;
    const row = await db.selectFrom('chat_channels').selectAll().where('id', '=', id).executeTakeFirst();
    if (channelCache.size > 1000) channelCache.clear();
    channelCache.set(id, { row, at: Date.now() });
    return row;
  }

  async function processUpdate(rowOrId: string | ChatInboundUpdatesTable, opts: { lastAttempt?: boolean } = {}): Promise<void> {
    const row = typeof rowOrId === 'string' ? await db.selectFrom('chat_inbound_updates').selectAll().where('id', '=', rowOrId).executeTakeFirst() : rowOrId;
    if (!row || row.state !== 'pending') return;
    const rowId = row.id;
    const channel = await cachedChannel(row.channel_id);
    if (!channel) return markUpdate(rowId, 'ignored', 'channel deleted');
    const connector = connectorOf(channel.kind);
    const parsed = connector.parseInbound(fromJson(row.payload, null));
    if (parsed.kind === 'ignored') return markUpdate(rowId, 'ignored', parsed.reason);
    if (!fromBool(channel.is_active)) return markUpdate(rowId, 'ignored', 'channel inactive');
    const m = parsed.message;
    try {
      const stored: StoredInboundFile[] = [];
      const notes: string[] = [];
      for (const f of m.files) {
        if (f.size !== null && f.size > maxFileBytes) {
          notes.push(`[${f.fileName ?? f.kind} not downloaded: larger than ${Math.round(maxFileBytes / 1048576)} MB]`);
          continue;
        }
        const bytes = await connector.downloadFile(await runtime(channel), f.ref, maxFileBytes);
        const put = await deps.files.put(bytes, 'chat');
        stored.push({
          kind: f.kind,
          name: f.fileName ?? (f.kind === 'photo' ? `photo-${m.externalMessageId}.jpg` : `file-${m.externalMessageId}`),
          mimeType: f.mimeType ?? (f.kind === 'photo' ? 'image/jpeg' : 'application/octet-stream'),
          size: put.size,
          fileKey: put.key,
        });
      }
      const text = notes.length ? [m.text, ...notes].filter(Boolean).join('\n') : m.text;
      const r = await deps.conversations.receive(channel, { ...m, text }, stored, {
        alsoInTransaction: async (trx) => {
          await trx.updateTable('chat_inbound_updates').set({ state: 'processed', error: null, processed_at: nowIso() }).where('id', '=', rowId).execute();
        },
      });
      if (r.duplicate) await markUpdate(rowId, 'processed');
    } catch (err) {
      if (opts.lastAttempt) {
        await markUpdate(rowId, 'failed', connector.describeError(err));
        return;
      }
      throw err;
    }
  }

  /** POST /webhooks/<kind>/<channelId>: authenticate, persist, hand to a job. */
  async function acceptWebhook(kind: ChannelKind, channelId: string, headers: Record<string, string | string[] | undefined>, body: unknown): Promise<200 | 400 | 401 | 404> {
    let cached = secretCache.get(channelId);
    if (!cached || Date.now() - cached.at > SECRET_CACHE_MS) {
      const c = await db.selectFrom('chat_channels').select(['kind']).where('id', '=', channelId).executeTakeFirst();
      if (!c) return 404;
      cached = { kind: c.kind, secret: await secrets.get(secretRef(channelId)), at: Date.now() };
      secretCache.set(channelId, cached);
    }
    if (cached.kind !== kind) return 404;
    if (!cached.secret || !connectorOf(kind).verifyWebhook(headers, cached.secret)) return 401;
    const updateId = (body as { update_id?: unknown } | null)?.update_id;
    if (typeof updateId !== 'number' || !Number.isSafeInteger(updateId)) return 400;
    const parsed = connectorOf(kind).parseInbound(body);
    const order = parsed.kind === 'message' ? `${channelId}:${parsed.message.externalChatId}` : null;
    let rowId: string | null;
    try {
      rowId = await persistUpdate(channelId, String(updateId), body, order);
    } catch (err) {
      // The channel was deleted since its secret was cached here.
      if (isForeignKeyViolation(err)) {
        secretCache.delete(channelId);
        return 404;
      }
      throw err;
    }
    if (rowId) {
      if (inline.enabled) {
        // Embedded mode (local jobs, this process works them): process right after answering.
        // Measured: a local job costs ~20 claim statements per wake at chat rates, more than the
        // update itself. Durability is unchanged: the update is stored, and an unfinished one is
        // handed to a job by the maintenance sweep (retryPendingUpdates).
        const p = processInOrder(rowId, order)
          .catch((err) => log.warn({ channelId, problem: connectorOf(kind).describeError(err) }, 'inbound update failed; the maintenance job retries it'))
          .finally(() => inline.running.delete(p));
        inline.running.add(p);
      } else {
        await deps.jobs.enqueue(INBOUND_JOB, { id: rowId, order }, { jobKey: `chat-inbound:${rowId}`, attempts: 6, backoff: { type: 'exponential', delayMs: 1000 } });
      }
    }
    return 200;
  }

  const inline = { enabled: false, running: new Set<Promise<void>>() };

  /**
   * The job of one stored update. Jobs run several at a time and may be claimed in any order, so
   * the job processes every pending update of its conversation, oldest update_id first, one
   * conversation at a time in this process: messages are stored in the order the customer sent them.
   */
  async function processInOrder(rowId: string, order: string | null | undefined, opts: { lastAttempt?: boolean } = {}): Promise<void> {
    if (!order) return processUpdate(rowId, opts);
    return inOrder(order, async () => {
      const rows = await db
        .selectFrom('chat_inbound_updates')
        .selectAll()
        .where('order_key', '=', order)
        .where('state', '=', 'pending')
        .execute();
      rows.sort((a, b) => a.external_update_id.length - b.external_update_id.length || (a.external_update_id < b.external_update_id ? -1 : a.external_update_id > b.external_update_id ? 1 : 0));
      for (const r of rows) await processUpdate(r, r.id === rowId ? opts : {});
    });
  }

  /**
   * Inbound jobs run several at a time; messages of ONE conversation must still be stored in the
   * order they arrived. Handlers register here synchronously when they start (in claim order), so
   * a conversation's updates run one after another in this process.
   */
  const chains = new Map<string, Promise<void>>();
  function inOrder(key: string, fn: () => Promise<void>): Promise<void> {
    const prev = chains.get(key) ?? Promise.resolve();
    const next = prev.catch(() => {}).then(fn);
    const tail = next.catch(() => {});
    chains.set(key, tail);
    void tail.then(() => {
      if (chains.get(key) === tail) chains.delete(key);
    });
    return next;
  }

  // --- polling supervisor (worker role) ---

  let supervisorTimer: NodeJS.Timeout | null = null;
  let supervising: Promise<void> | null = null;
  let running = false;

  function kickSupervisor() {
    if (running && !supervising) supervising = supervise().finally(() => (supervising = null));
  }

  async function supervise(): Promise<void> {
    const rows = await db.selectFrom('chat_channels').select(['id', 'kind', 'mode', 'is_active', 'poll_offset', 'token_rejected_at']).execute();
    const seen = new Set<string>();
    for (const r of rows) {
      seen.add(r.id);
      const lease = `telegram-poll:${r.id}`;
      // A rejected token stays rejected until someone enters a new one: try it again only now and then.
      const rejected = !!r.token_rejected_at && Date.now() - Date.parse(r.token_rejected_at) < tuning.tokenRetryAfterMs;
      const want = running && r.kind === 'telegram' && fromBool(r.is_active) && r.mode === 'polling' && !rejected;
      if (!want) {
        if (pollers.has(r.id)) {
          stopLocalPoller(r.id);
          await deps.leases.release(lease, deps.instanceId);
        }
        continue;
      }
      const mine = await deps.leases.acquire(lease, deps.instanceId, POLL_LEASE_MS);
      if (!mine) {
        stopLocalPoller(r.id);
        continue;
      }
      if (!pollers.has(r.id)) await startPoller(r.id, r.poll_offset);
    }
    for (const id of [...pollers.keys()]) {
      if (!seen.has(id)) {
        stopLocalPoller(id);
        await deps.leases.release(`telegram-poll:${id}`, deps.instanceId);
      }
    }
  }

  async function startPoller(channelId: string, offset: number | null) {
    let rt: ChannelRuntime;
    try {
      rt = await runtime({ id: channelId });
    } catch {
      return;
    }
    const abort = new AbortController();
    const client = deps.connectors.telegram.client(rt.credentials.token);
    const poller = createPoller({
      client,
      signal: abort.signal,
      logger: log,
      initialOffset: offset ?? undefined,
      timeoutSeconds: tuning.pollTimeoutSeconds,
      onUpdates: async (updates) => {
        for (const u of updates) {
          const p = deps.connectors.telegram.parseInbound(u);
          const rowId = await persistUpdate(channelId, String(u.update_id), u, p.kind === 'message' ? `${channelId}:${p.message.externalChatId}` : null);
          if (rowId) {
            try {
              await processUpdate(rowId);
            } catch (err) {
              // Stored as pending: the maintenance job retries it; the poll moves on.
              log.warn({ channelId, problem: deps.connectors.telegram.describeError(err) }, 'polled update failed; will retry');
            }
          }
        }
        if (updates.length) {
          await db.updateTable('chat_channels').set({ poll_offset: updates[updates.length - 1].update_id + 1 }).where('id', '=', channelId).execute();
        }
      },
      onError: (_err, explanation) => {
        void (async () => {
          const now = await db.selectFrom('chat_channels').select('mode').where('id', '=', channelId).executeTakeFirst();
          if (now?.mode === 'polling') await setError(channelId, explanation);
        })().catch(() => {});
      },
    });
    pollers.set(channelId, { abort, poller });
    void poller.done.then(async (result) => {
      if (pollers.get(channelId)?.poller === poller) pollers.delete(channelId);
      if (result.reason === 'auth') {
        await markTokenRejected(channelId, result.error).catch(() => {});
        return;
      }
      if (result.reason === 'webhook-conflict') {
        // A switch to the webhook also ends polling with a conflict: that is no error.
        const now = await db.selectFrom('chat_channels').select('mode').where('id', '=', channelId).executeTakeFirst().catch(() => undefined);
        if (now?.mode === 'polling') await setError(channelId, deps.connectors.telegram.describeError(result.error)).catch(() => {});
      }
    });
  }

  /** Processes stored updates that never finished (a crash between persist and process). */
  async function retryPendingUpdates(olderThanMs = 30_000): Promise<number> {
    const rows = await db
      .selectFrom('chat_inbound_updates')
      .select(['id', 'order_key'])
      .where('state', '=', 'pending')
      .where('received_at', '<', nowIso(new Date(Date.now() - olderThanMs)))
      .orderBy('received_at')
      .limit(200)
      .execute();
    for (const r of rows) {
      await deps.jobs.enqueue(INBOUND_JOB, { id: r.id, order: r.order_key }, { jobKey: `chat-inbound:${r.id}`, attempts: 6, backoff: { type: 'exponential', delayMs: 1000 } });
    }
    return rows.length;
  }

  /** When a delivery (webhook or poll) last reached us; tells a current webhook error from history. */
  async function lastDeliveryAt(channelId: string): Promise<Date | null> {
    const row = await db
      .selectFrom('chat_inbound_updates')
      .select('received_at')
      .where('channel_id', '=', channelId)
      .orderBy('received_at', 'desc')
      .limit(1)
      .executeTakeFirst();
    return row ? new Date(row.received_at) : null;
  }

  /** Telegram rejected the token (revoked or replaced): say so, and keep pollers from retrying it every tick. */
  async function markTokenRejected(channelId: string, err: unknown) {
    const connector = deps.connectors.telegram;
    log.warn({ channelId }, 'Telegram rejected the bot token; polling pauses until a new token is entered (retried every few minutes)');
    await setError(channelId, connector.describeError(err), { token_rejected_at: nowIso() });
  }

  /** Deletes the webhook and moves the channel to polling (the supervisor starts a poller). */
  async function fallBackToPolling(c: ChatChannelsTable, rt: ChannelRuntime, message: string) {
    const connector = connectorOf(c.kind);
    try {
      await connector.unregisterWebhook(rt);
    } catch (err) {
      await setError(c.id, `Could not switch the bot to polling: ${connector.describeError(err)}`);
      return;
    }
    const now = nowIso();
    await db
      .updateTable('chat_channels')
      .set({ mode: 'polling', webhook_failures: 0, webhook_gave_up_at: now, last_error: message, last_checked_at: now, updated_at: now })
      .where('id', '=', c.id)
      .execute();
    kickSupervisor();
  }

  /**
   * One periodic look at a webhook channel through getWebhookInfo (judged by diagnoseWebhook): a
   * lost or replaced registration is registered again; a failing one is reported in plain words,
   * and an 'auto' channel whose webhook failed WEBHOOK_GIVE_UP_CHECKS checks in a row switches to
   * polling; a healthy one clears the error (Telegram keeps its last error after recovery, so the
   * time of our last received delivery decides whether that error is still current).
   */
  async function checkWebhook(c: ChatChannelsTable, site: string) {
    const connector = connectorOf(c.kind);
    const rt = await runtime(c);
    const expected = webhookUrl(site, c.kind, c.id);
    const h = await connector.webhookHealth(rt, expected, await lastDeliveryAt(c.id));
    if (h.state === 'missing' || h.state === 'other-url') {
      await configureDelivery(c.id);
      const after = await load(c.id);
      if (after.mode === 'webhook' && !after.last_error) {
        const had = h.url ? `a webhook at ${safeOrigin(h.url)}` : 'none';
        await setError(c.id, `The webhook registration was lost (Telegram had ${had}); Switchboard registered it again.`);
      }
      return;
    }
    if (h.state === 'ok') {
      await setError(c.id, null, { webhook_failures: 0, token_rejected_at: null });
      return;
    }
    const failures = c.webhook_failures + 1;
    if (c.delivery === 'auto' && failures >= tuning.webhookGiveUpChecks) {
      log.warn({ channelId: c.id, failures, problem: h.lastError }, 'the webhook keeps failing; switching the channel to long polling');
      await fallBackToPolling(
        c,
        rt,
        `Telegram could not deliver to the webhook ${expected} in ${failures} checks in a row ("${h.lastError ?? 'unknown error'}"), so Switchboard switched to long polling; it tries the webhook again later. Check that SiteUrl is reachable from the internet over HTTPS.`,
      );
      return;
    }
    await setError(c.id, h.explanation, { webhook_failures: failures });
  }

  /** Periodic self-diagnosis: a lost webhook is registered again; a failing one is reported (and an 'auto' one gives way to polling); a public SiteUrl moves 'auto' channels from polling to the webhook. */
  async function checkChannels(): Promise<void> {
    const site = await deps.siteUrl();
    const rows = await db.selectFrom('chat_channels').selectAll().where('is_active', '=', 1).execute();
    for (const c of rows) {
      const connector = connectorOf(c.kind);
      try {
        if (c.mode === 'webhook') {
          await checkWebhook(c, site);
        } else if (c.mode === 'polling' && c.delivery === 'auto' && isPublicUrl(site)) {
          // After giving up on a failing webhook, wait before trying it again.
          const gaveUp = c.webhook_gave_up_at ? Date.parse(c.webhook_gave_up_at) : 0;
          if (Date.now() - gaveUp >= tuning.webhookRetryAfterMs) await configureDelivery(c.id);
        } else if (c.mode === null) {
          await configureDelivery(c.id);
        }
      } catch (err) {
        if (connector.isAuthError(err)) await markTokenRejected(c.id, err).catch(() => {});
        else await setError(c.id, connector.describeError(err)).catch(() => {});
      }
    }
  }

  async function diagnostics(c: ChatChannelsTable): Promise<DeliveryDiagnostics> {
    const site = await deps.siteUrl();
    const expected = c.mode === 'webhook' ? webhookUrl(site, c.kind, c.id) : null;
    const holder = c.mode === 'polling' ? await deps.leases.holderOf(`telegram-poll:${c.id}`) : null;
    const out: DeliveryDiagnostics = {
      mode: (c.mode as DeliveryDiagnostics['mode']) ?? null,
      state: 'not-configured',
      explanation: 'Switchboard has not arranged delivery for this channel yet; the periodic check does it within a few minutes.',
      webhookUrl: null,
      expectedWebhookUrl: expected,
      pendingUpdateCount: null,
      lastErrorAt: null,
      lastError: c.last_error,
      pollingHolder: holder,
    };
    const connector = connectorOf(c.kind);
    if (!fromBool(c.is_active)) {
      out.state = 'inactive';
      out.explanation = 'The channel is deactivated: it receives no messages (Telegram keeps them for up to 24 hours).';
      return out;
    }
    try {
      // The admin is waiting on this page: do not hang for the client's full timeout.
      const h = await Promise.race([
        connector.webhookHealth(await runtime(c), expected ?? '', await lastDeliveryAt(c.id)),
        new Promise<never>((_, reject) => setTimeout(() => reject(new Error('Telegram did not answer within 5 seconds.')), 5000).unref()),
      ]);
      out.webhookUrl = h.url && c.mode === 'webhook' && h.url === expected ? h.url : h.url ? safeOrigin(h.url) : null;
      out.pendingUpdateCount = h.pending;
      if (c.mode === 'webhook') {
        out.state = h.state === 'ok' ? 'ok' : `webhook-${h.state}`;
        out.explanation = h.explanation;
        out.lastError = h.state === 'ok' ? null : h.explanation;
        out.lastErrorAt = h.state === 'failing' ? h.lastErrorAt : null;
      } else if (c.mode === 'polling') {
        if (h.url) {
          out.state = 'polling-blocked';
          out.explanation = out.lastError = `Another webhook (at ${safeOrigin(h.url)}) is registered for this bot, so polling cannot work: is another integration using it?`;
        } else {
          out.state = 'polling';
          out.explanation = holder
            ? `Switchboard fetches messages from Telegram by long polling (process ${holder}).`
            : 'The channel uses long polling, but no worker process is polling it right now; it starts within a few seconds of a worker running.';
        }
      }
    } catch (err) {
      out.state = connector.isAuthError(err) ? 'token-revoked' : 'unreachable';
      out.explanation = out.lastError = connector.describeError(err);
    }
    return out;
  }

  return {
    connectorOf,
    runtime,
    load,
    view: async (c: ChatChannelsTable) => view(c, await secrets.has(tokenRef(c.id))),
    diagnostics,
    configureDelivery,
    acceptWebhook,
    processUpdate,
    processInOrder,
    persistUpdate,
    retryPendingUpdates,
    checkChannels,
    tuning,

    async list(opts: { limit: number; after?: { k: string; id: string } | null }): Promise<ChannelView[]> {
      let q = db.selectFrom('chat_channels').selectAll().orderBy('name').orderBy('id').limit(opts.limit + 1);
      if (opts.after) {
        const a = opts.after;
        q = q.where((eb) => eb(eb.refTuple('name', 'id'), '>', eb.tuple(a.k, a.id)));
      }
      const rows = await q.execute();
      return Promise.all(rows.map(async (c) => view(c, await secrets.has(tokenRef(c.id)))));
    },

    async create(input: ChannelInput): Promise<ChannelView> {
      await checkQueue(input.queueId);
      const who = await verify(input.kind, input.token);
      const taken = await db.selectFrom('chat_channels').select(['id', 'name']).where('kind', '=', input.kind).where('external_id', '=', who.externalId).executeTakeFirst();
      if (taken) throw errors.conflict(`This bot is already connected as the channel "${taken.name}".`, { channelId: taken.id });
      const id = newId();
      const now = nowIso();
      await db
        .insertInto('chat_channels')
        .values({
          id, kind: input.kind, name: input.name?.trim() || (who.username ? `@${who.username}` : who.displayName), is_active: toBool(input.isActive ?? true),
          queue_id: input.queueId, delivery: input.delivery ?? 'auto', mode: null, external_id: who.externalId, external_username: who.username,
          last_error: null, last_checked_at: null, poll_offset: null, webhook_failures: 0, webhook_gave_up_at: null, token_rejected_at: null, created_at: now, updated_at: now,
        })
        .execute();
      await secrets.put(tokenRef(id), input.token);
      await secrets.put(secretRef(id), newWebhookSecret());
      await configureDelivery(id);
      const c = await load(id);
      return view(c, true);
    },

    async update(id: string, patch: Partial<Omit<ChannelInput, 'kind'>>): Promise<ChannelView> {
      const c = await load(id);
      if (patch.queueId) await checkQueue(patch.queueId);
      let reconfigure = false;
      if (patch.token !== undefined) {
        const who = await verify(c.kind, patch.token);
        if (c.external_id && who.externalId !== c.external_id) {
          throw errors.validation([{ field: 'token', message: `This token belongs to another bot (@${who.username ?? who.externalId}); create a new channel for it.` }]);
        }
        await secrets.put(tokenRef(id), patch.token);
        await db.updateTable('chat_channels').set({ token_rejected_at: null }).where('id', '=', id).execute();
        reconfigure = true;
      }
      if (patch.isActive !== undefined && patch.isActive !== fromBool(c.is_active)) reconfigure = true;
      if (patch.delivery !== undefined && patch.delivery !== c.delivery) reconfigure = true;
      await db
        .updateTable('chat_channels')
        .set({
          ...(patch.name !== undefined ? { name: patch.name } : {}),
          ...(patch.queueId !== undefined ? { queue_id: patch.queueId } : {}),
          ...(patch.isActive !== undefined ? { is_active: toBool(patch.isActive) } : {}),
          ...(patch.delivery !== undefined ? { delivery: patch.delivery } : {}),
          updated_at: nowIso(),
        })
        .where('id', '=', id)
        .execute();
      secretCache.delete(id);
      channelCache.delete(id);
      if (reconfigure) await configureDelivery(id);
      return view(await load(id), await secrets.has(tokenRef(id)));
    },

    /**
     * Deletes a channel that has no chats (H6: one with chats is only deactivated). Race-free: the
     * check and the delete run in one transaction holding the channel row's lock; opening a chat
     * takes a key-share lock on that row (foreign key), so a chat either committed before the check
     * (→ 409 CHANNEL_HAS_CHATS) or its insert waits and then finds the channel gone. Telegram is told
     * only after the commit, with the token read before the secrets go.
     */
    async remove(id: string): Promise<void> {
      const c = await load(id);
      const rt = await runtime(c).catch(() => null);
      const hasChats = () =>
        new AppError(409, 'CHANNEL_HAS_CHATS', 'This channel has chats, so it cannot be deleted (their history would be lost). Deactivate it instead.', { channelId: id });
      try {
        await db.transaction().execute(async (trx) => {
          const locked = await forUpdate(trx.selectFrom('chat_channels').select('id').where('id', '=', id), dialect).executeTakeFirst();
          if (!locked) throw errors.notFound('Chat channel', id);
          const chat = await trx.selectFrom('chats').select('id').where('channel_id', '=', id).limit(1).executeTakeFirst();
          if (chat) throw hasChats();
          await trx.deleteFrom('chat_channels').where('id', '=', id).execute();
        });
      } catch (err) {
        // Belt and braces: whatever still references the channel makes it a 409, never a 500.
        if (isForeignKeyViolation(err)) throw hasChats();
        throw err;
      }
      secretCache.delete(id);
      channelCache.delete(id);
      stopLocalPoller(id);
      if (rt) {
        try {
          await connectorOf(c.kind).unregisterWebhook(rt);
        } catch (err) {
          log.warn({ channelId: id, problem: connectorOf(c.kind).describeError(err) }, 'could not remove the webhook of a deleted channel');
        }
      }
      await secrets.deletePrefix(`chat-channel:${id}:`);
      await deps.leases.release(`telegram-poll:${id}`, deps.instanceId);
    },

    /** Process webhook updates in this process instead of through a job (embedded mode only). */
    setInlineProcessing(enabled: boolean) {
      inline.enabled = enabled;
    },

    async drainInline() {
      while (inline.running.size) await Promise.all([...inline.running]);
    },

    startSupervisor() {
      if (running) return;
      running = true;
      kickSupervisor();
      supervisorTimer = setInterval(kickSupervisor, tuning.superviseMs);
      supervisorTimer.unref?.();
    },

    async stopSupervisor() {
      running = false;
      if (supervisorTimer) clearInterval(supervisorTimer);
      supervisorTimer = null;
      await supervising;
      const ids = [...pollers.keys()];
      const dones = ids.map((id) => pollers.get(id)!.poller.done);
      for (const id of ids) stopLocalPoller(id);
      await Promise.all(dones);
      for (const id of ids) await deps.leases.release(`telegram-poll:${id}`, deps.instanceId);
    },

    /** Channels this process polls right now (diagnostics, tests). */
    pollingHere: () => [...pollers.keys()],
  };
}

export type ChannelService = ReturnType<typeof createChannelService>;
