// The chat module's service: wires routing, queues, conversations and channels together and adds
// the read models the operator workspace needs (chat lists, chat detail, files, client settings).
import type { Readable } from 'node:stream';
import type { Platform } from '../../platform/index.js';
import { errors } from '../../platform/http/errors.js';
import { createRoutingService } from './routing-service.js';
import { positiveNumber } from './routing.js';
import { createQueueService } from './queues.js';
import { createConversationService, type ChannelContactLookup } from './conversations.js';
import { createChannelService } from './channels.js';
import { createChatConnectors } from './connectors/registry.js';
import type { Chat, ChatState } from './tables.js';

export interface ChatDeps {
  identity: {
    roleMemberIds(roleId: string): Promise<string[]>;
    onMembershipChanged?(listener: () => void): () => void;
    /** Users by name or email, for the chat manager's operator list (who may serve a queue). */
    listUsers?(opts: { q?: string; limit: number; after?: null; activeOnly?: boolean }): Promise<{ id: string; name: string; email: string; isActive: boolean }[]>;
  };
  crm: ChannelContactLookup & {
    getContact?(id: string): Promise<{ id: string; name: string }>;
    /** The operator who takes a chat gets access to the customer's contact (owned by the system). */
    grantAccess?(type: 'contact', id: string, userId: string, access: 'read' | 'edit'): Promise<void>;
  };
  settings: { get<T = unknown>(code: string, userId?: string): Promise<T> };
  /** Tests and sandboxes may hand in their own fetch for the Telegram client. */
  fetchImpl?: typeof fetch;
}

export const OFFER_TIMEOUT_JOB = 'chat.offer-timeout';
export const AUTOCOMPLETE_JOB = 'chat.autocomplete';
export const MAINTENANCE_JOB = 'chat.maintenance';
export const ROLES_CHANGED_JOB = 'chat.roles-changed';
export const CHANNEL_CHECK_JOB = 'chat.channel-check';

export interface ChatView {
  id: string;
  channelId: string;
  queueId: string;
  contactId: string | null;
  customerName: string;
  customerUsername: string | null;
  state: ChatState;
  operatorId: string | null;
  offeredToMe: boolean;
  createdAt: string;
  offeredAt: string | null;
  acceptedAt: string | null;
  completedAt: string | null;
  completedBy: string | null;
  lastMessageAt: string;
  lastIncomingAt: string | null;
  lastOutgoingAt: string | null;
  /** Lists name the channel, so a client can show it without another request. */
  channelName?: string;
  channelKind?: string;
}

/** The customer's contact as a chat shows it, with their identities in the channels. */
export interface ChatContactView {
  id: string;
  name: string;
  channels: { channel: string; externalId: string; username: string | null }[];
}

function chatView(c: Chat, offeredToMe: boolean): ChatView {
  return {
    id: c.id,
    channelId: c.channel_id,
    queueId: c.queue_id,
    contactId: c.contact_id,
    customerName: c.customer_name,
    customerUsername: c.customer_username,
    state: c.state,
    operatorId: c.operator_id,
    offeredToMe,
    createdAt: c.created_at,
    offeredAt: c.offered_at,
    acceptedAt: c.accepted_at,
    completedAt: c.completed_at,
    completedBy: c.completed_by,
    lastMessageAt: c.last_message_at,
    lastIncomingAt: c.last_incoming_at,
    lastOutgoingAt: c.last_outgoing_at,
  };
}

export function createChatModuleService(platform: Platform, deps: ChatDeps) {
  const { db, logger } = platform;
  const log = logger.child({ module: 'chat' });
  /** Test-only time scale: how long a "minute" of the accept and completion timeouts lasts. */
  const timing = { minuteMs: 60_000 };

  // SimultaneousChats may be set per user; routing asks for many operators at once, so values are
  // cached for a second (a changed limit applies within that second).
  const limitCache = new Map<string, { v: number; at: number }>();
  async function limitFor(userId: string): Promise<number> {
    const hit = limitCache.get(userId);
    if (hit && Date.now() - hit.at < 1000) return hit.v;
    const v = Math.floor(positiveNumber(await deps.settings.get('SimultaneousChats', userId), 2));
    limitCache.set(userId, { v, at: Date.now() });
    if (limitCache.size > 10_000) limitCache.clear();
    return v;
  }

  const notify = (userIds: string[], event: { type: string; data: unknown }) =>
    userIds.length ? platform.realtime.notifyUsers([...new Set(userIds)], event) : Promise.resolve();

  const routing = createRoutingService({
    db,
    dialect: platform.dialect,
    limitFor,
    acceptTimeoutMs: async () => positiveNumber(await deps.settings.get('OmniChatOperatorAcceptChatTimeout'), 5) * timing.minuteMs,
    roleMemberIds: (roleId) => deps.identity.roleMemberIds(roleId),
    notify,
    scheduleOfferTimeout: async (offerId, delayMs) => {
      await platform.jobs.enqueue(OFFER_TIMEOUT_JOB, { offerId }, { jobKey: `chat-offer-timeout:${offerId}`, delayMs, attempts: 3, backoff: { type: 'fixed', delayMs: 1000 } });
    },
    onBackgroundError: (err, what) => log.error({ err, what }, 'chat routing background work failed'),
    minuteMs: () => timing.minuteMs,
    onAccepted: async (chat, userId) => {
      if (chat.contactId) await deps.crm.grantAccess?.('contact', chat.contactId, userId, 'edit');
    },
  });

  const queues = createQueueService({ db, onMembershipChanged: (queueId) => routing.background('queue membership', () => routing.membershipChanged(queueId)) });
  const connectors = createChatConnectors(platform.config.roots, deps.fetchImpl);

  const channelsRef: { current: ReturnType<typeof createChannelService> | null } = { current: null };
  const conversations = createConversationService({
    db,
    dialect: platform.dialect,
    files: platform.files,
    routing,
    crm: deps.crm,
    connectorOf: (kind) => connectors.registry[kind],
    runtime: (channel) => channelsRef.current!.runtime(channel),
    notify,
    scheduleAutocomplete: async (chatId, key, delayMs) => {
      await platform.jobs.enqueue(AUTOCOMPLETE_JOB, { chatId }, { jobKey: `chat-autocomplete:${chatId}:${key}`, delayMs, attempts: 3, backoff: { type: 'fixed', delayMs: 1000 } });
    },
    minuteMs: () => timing.minuteMs,
  });

  const channels = createChannelService({
    db,
    dialect: platform.dialect,
    secrets: platform.secrets,
    files: platform.files,
    jobs: platform.jobs,
    leases: platform.leases,
    instanceId: platform.instanceId,
    logger: platform.logger,
    connectors,
    conversations,
    siteUrl: async () => String((await deps.settings.get<string>('SiteUrl')) || platform.config.siteUrl),
  });
  channelsRef.current = channels;

  async function offeredTo(userId: string, chatIds: string[]): Promise<Set<string>> {
    if (!chatIds.length) return new Set();
    const rows = await db.selectFrom('chat_offers').select('chat_id').where('user_id', '=', userId).where('state', '=', 'pending').where('chat_id', 'in', chatIds).execute();
    return new Set(rows.map((r) => r.chat_id));
  }

  /** Whether the user works a chat with this contact right now (in progress with them, or offered to them). */
  async function worksWithContact(userId: string, contactId: string): Promise<boolean> {
    const row = await db
      .selectFrom('chats')
      .select('chats.id')
      .where('chats.contact_id', '=', contactId)
      .where((eb) =>
        eb.or([
          eb.and([eb('chats.state', '=', 'in-progress'), eb('chats.operator_id', '=', userId)]),
          eb.and([
            eb('chats.state', '=', 'offered'),
            eb.exists(eb.selectFrom('chat_offers').select('chat_offers.id').whereRef('chat_offers.chat_id', '=', 'chats.id').where('chat_offers.user_id', '=', userId).where('chat_offers.state', '=', 'pending')),
          ]),
        ]),
      )
      .limit(1)
      .executeTakeFirst();
    return !!row;
  }

  async function loadChat(chatId: string): Promise<Chat> {
    const c = await db.selectFrom('chats').selectAll().where('id', '=', chatId).executeTakeFirst();
    if (!c) throw errors.notFound('Chat', chatId);
    return c;
  }

  return {
    /**
     * Active users with their operator status and load: chat managers pick queue operators from
     * here (they need not hold CanManageAdministration, which the user list requires).
     */
    async listOperators(o: { q?: string; limit: number }) {
      const users = ((await deps.identity.listUsers?.({ q: o.q, limit: o.limit, after: null, activeOnly: true })) ?? []).filter((u) => u.isActive);
      const views = await routing.operatorViews(users.map((u) => u.id));
      return users.map((u, i) => ({ ...views[i], name: u.name, email: u.email }));
    },
    routing,
    queues,
    conversations,
    channels,
    connectors,
    timing,

    async listChats(userId: string, o: { state?: ChatState; queueId?: string; contactId?: string; all: boolean; limit: number; after: { k: string; id: string } | null }): Promise<ChatView[]> {
      let q = db.selectFrom('chats').selectAll().orderBy('created_at', 'desc').orderBy('id', 'desc').limit(o.limit + 1);
      if (o.state) q = q.where('state', '=', o.state);
      if (o.queueId) q = q.where('queue_id', '=', o.queueId);
      if (o.contactId) q = q.where('contact_id', '=', o.contactId);
      // The operator working with a customer sees that customer's whole chat history (H10).
      const historyOfCurrent = !o.all && !!o.contactId && (await worksWithContact(userId, o.contactId));
      if (!o.all && !historyOfCurrent) {
        // Mine: chats I work or worked, and chats offered to me right now (never others' offers: H4).
        q = q.where((eb) =>
          eb.or([
            eb('operator_id', '=', userId),
            eb.and([
              eb('state', '=', 'offered'),
              eb.exists(eb.selectFrom('chat_offers').select('chat_offers.id').whereRef('chat_offers.chat_id', '=', 'chats.id').where('chat_offers.user_id', '=', userId).where('chat_offers.state', '=', 'pending')),
            ]),
          ]),
        );
      }
      if (o.after) {
        const a = o.after;
        q = q.where((eb) => eb(eb.refTuple('created_at', 'id'), '<', eb.tuple(a.k, a.id)));
      }
      const rows = await q.execute();
      const mine = await offeredTo(userId, rows.map((r) => r.id));
      const channelIds = [...new Set(rows.map((r) => r.channel_id))];
      const channels = channelIds.length ? await db.selectFrom('chat_channels').select(['id', 'name', 'kind']).where('id', 'in', channelIds).execute() : [];
      const channelOf = new Map(channels.map((c) => [c.id, c]));
      return rows.map((r) => ({ ...chatView(r, mine.has(r.id)), channelName: channelOf.get(r.channel_id)?.name, channelKind: channelOf.get(r.channel_id)?.kind }));
    },

    async chatView(chatId: string, userId: string): Promise<ChatView> {
      const c = await loadChat(chatId);
      return chatView(c, (await offeredTo(userId, [chatId])).has(chatId));
    },

    /** An operator sees a chat they work(ed) or were ever offered. */
    async canSee(chatId: string, userId: string): Promise<boolean> {
      const c = await db.selectFrom('chats').select(['operator_id', 'contact_id']).where('id', '=', chatId).executeTakeFirst();
      if (!c) return false;
      if (c.operator_id === userId) return true;
      const o = await db.selectFrom('chat_offers').select('id').where('chat_id', '=', chatId).where('user_id', '=', userId).executeTakeFirst();
      if (o) return true;
      // An earlier chat of the customer this operator is working with now (H10: history with the contact).
      return !!c.contact_id && (await worksWithContact(userId, c.contact_id));
    },

    async chatDetail(chatId: string, userId: string) {
      const c = await loadChat(chatId);
      const channel = await db.selectFrom('chat_channels').select(['id', 'name', 'kind']).where('id', '=', c.channel_id).executeTakeFirstOrThrow();
      let contact: ChatContactView | null = null;
      if (c.contact_id) {
        // The customer's identities in the channels (Telegram id and @username…). Read from the CRM's
        // contact_channels table directly: the CRM service offers no lookup by contact for them yet.
        const identities = await db
          .selectFrom('contact_channels')
          .select(['channel', 'external_id', 'username'])
          .where('contact_id', '=', c.contact_id)
          .orderBy('channel')
          .orderBy('external_id')
          .execute();
        const channels = identities.map((i) => ({ channel: i.channel, externalId: i.external_id, username: i.username }));
        try {
          const found = deps.crm.getContact ? await deps.crm.getContact(c.contact_id) : null;
          contact = found ? { id: found.id, name: found.name, channels } : { id: c.contact_id, name: c.customer_name, channels };
        } catch {
          contact = { id: c.contact_id, name: c.customer_name, channels };
        }
      }
      return {
        ...chatView(c, (await offeredTo(userId, [chatId])).has(chatId)),
        messages: await conversations.messages(chatId),
        contact,
        channel,
      };
    },

    async file(chatId: string, fileId: string): Promise<{ name: string; mimeType: string; size: number; stream: Readable }> {
      const f = await db.selectFrom('chat_files').selectAll().where('id', '=', fileId).where('chat_id', '=', chatId).executeTakeFirst();
      if (!f) throw errors.notFound('File', fileId);
      return { name: f.name, mimeType: f.mime_type, size: f.size, stream: platform.files.stream(f.file_key) };
    },

    async clientSettings(userId: string) {
      return {
        notificationSoundUrl: '/api/system-settings/OmniChatNotificationSound/file',
        simultaneousChats: await limitFor(userId),
        acceptTimeoutMinutes: positiveNumber(await deps.settings.get('OmniChatOperatorAcceptChatTimeout'), 5),
      };
    },

    log,
  };
}

export type ChatModuleService = ReturnType<typeof createChatModuleService>;
