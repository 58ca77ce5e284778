// Public face of the chat module (H1–H6, H9, H10): queues, routing to operators, chat lifecycle,
// Telegram channel, operator API and realtime events.
//
//   const chat = createChatModule(platform, { identity, crm, settings });
//   chat.registerRoutes(app); await chat.start(roles); … await chat.stop();
//
// Jobs: chat.inbound (a stored webhook update → chat message; in embedded mode updates are
// processed inline after the 200 and the job only retries unfinished ones), chat.offer-timeout (least-busy
// accept timeout), chat.autocomplete (completion timeout), chat.maintenance (every minute: safety
// nets for lost jobs), chat.channel-check (every 5 minutes: webhook self-diagnosis),
// chat.roles-changed (after a role membership change: withdraw offers from operators who left).
import type { Platform } from '../../platform/index.js';
import type { App } from '../../platform/http/app.js';
import { PermanentJobError } from '../../platform/jobs/types.js';
import { registerChatRoutes } from './routes.js';
import { AUTOCOMPLETE_JOB, CHANNEL_CHECK_JOB, MAINTENANCE_JOB, OFFER_TIMEOUT_JOB, ROLES_CHANGED_JOB, createChatModuleService, type ChatDeps } from './service.js';
import { INBOUND_JOB } from './channels.js';

export type { ChatDeps, ChatModuleService, ChatView } from './service.js';
export type { ChatTables, ChannelKind, RoutingRule, ChatState } from './tables.js';
export type { ChatConnector } from './connectors/types.js';
export { decide, pickLeastBusy, compareLeastBusy, type OperatorSnapshot } from './routing.js';
export { isPublicUrl } from './site-url.js';

interface TimelineCapable {
  registerTimelineSource?(source: {
    name: string;
    list(recordType: string, recordId: string, user: unknown, opts: { limit: number; before: { at: string; id: string } | null }): Promise<{ id: string; at: string; kind: string; title: string; actorId?: string | null; data?: Record<string, unknown> }[]>;
  }): void;
}

export function createChatModule(platform: Platform, deps: ChatDeps & { crm: TimelineCapable }) {
  const service = createChatModuleService(platform, deps);
  const { jobs, db } = platform;

  jobs.define<{ id: string; order?: string | null }>(INBOUND_JOB, (data, ctx) => service.channels.processInOrder(data.id, data.order, { lastAttempt: ctx.isLastAttempt }), {
    concurrency: 8,
  });
  jobs.define<{ offerId: string }>(OFFER_TIMEOUT_JOB, async (data) => {
    await service.routing.expireOffer(data.offerId);
  });
  jobs.define<{ chatId: string }>(AUTOCOMPLETE_JOB, async (data) => {
    await service.routing.complete(data.chatId, { kind: 'timeout' });
  }, { concurrency: 4 });
  jobs.define(MAINTENANCE_JOB, async () => {
    await service.routing.expireDueOffers();
    await service.conversations.completeDue();
    await service.channels.retryPendingUpdates();
    await service.routing.routeAll();
  });
  // Role membership changed (identity): operators who no longer serve a queue through a role
  // lose its pending offers, new ones get waiting chats. A durable job, run on a worker, so the
  // reconciliation survives the api process that made the change.
  jobs.define(ROLES_CHANGED_JOB, async () => {
    await service.routing.rolesChanged();
  });
  deps.identity.onMembershipChanged?.(() => {
    jobs.enqueue(ROLES_CHANGED_JOB, {}, { attempts: 5, backoff: { type: 'exponential', delayMs: 1000 } }).catch((err) => platform.logger.error({ err }, 'chat: could not schedule the reconciliation of queue operators after a role change'));
  });
  jobs.define(CHANNEL_CHECK_JOB, async () => {
    try {
      await service.channels.checkChannels();
    } catch (err) {
      throw new PermanentJobError(String(err));
    }
  });

  // A contact's timeline shows its chats.
  deps.crm.registerTimelineSource?.({
    name: 'chat',
    async list(recordType, recordId, _user, { limit, before }) {
      if (recordType !== 'contact') return [];
      let q = db
        .selectFrom('chats')
        .innerJoin('chat_channels', 'chat_channels.id', 'chats.channel_id')
        .select(['chats.id', 'chats.created_at', 'chats.state', 'chats.operator_id', 'chats.channel_id', 'chats.completed_at', 'chat_channels.name as channel_name', 'chat_channels.kind'])
        .where('chats.contact_id', '=', recordId)
        .orderBy('chats.created_at', 'desc')
        .orderBy('chats.id', 'desc')
        .limit(limit);
      if (before) q = q.where((eb) => eb(eb.refTuple('chats.created_at', 'chats.id'), '<', eb.tuple(before.at, before.id)));
      const rows = await q.execute();
      return rows.map((r) => ({
        id: r.id,
        at: r.created_at,
        kind: 'chat',
        title: `Chat in ${r.kind === 'telegram' ? 'Telegram' : r.kind} (${r.channel_name}) — ${r.state}`,
        actorId: r.operator_id,
        data: { chatId: r.id, state: r.state, channelId: r.channel_id, completedAt: r.completed_at },
      }));
    },
  });

  return {
    service,
    registerRoutes(app: App) {
      registerChatRoutes(app, service);
    },
    async start(roles: { api: boolean; worker: boolean; scheduler: boolean }) {
      if (roles.scheduler) {
        await jobs.repeat('chat-maintenance', MAINTENANCE_JOB, { everyMs: 60_000 }, {});
        await jobs.repeat('chat-channel-check', CHANNEL_CHECK_JOB, { everyMs: 5 * 60_000 }, {});
      }
      if (roles.worker) service.channels.startSupervisor();
      // Embedded mode: webhook updates are processed where they arrive (see acceptWebhook).
      service.channels.setInlineProcessing(roles.worker && platform.jobs.kind === 'local');
    },
    async stop() {
      service.channels.setInlineProcessing(false);
      await service.channels.drainInline();
      await service.channels.stopSupervisor();
      await service.routing.idle();
    },
  };
}

export type ChatModule = ReturnType<typeof createChatModule>;
