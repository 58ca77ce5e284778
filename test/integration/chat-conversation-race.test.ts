// A customer message or an operator reply racing a completion (H5) on SQLite and PostgreSQL. The
// chat is read, then completed by someone else, then the message is stored: it must open a new chat
// routed afresh (a customer message) or leave the completed chat's timers alone (a reply).
// Deterministic: a seam runs the completion exactly in that window; on PostgreSQL a second test
// completes the chat in a concurrent transaction that commits only once the receiver waits for it.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createTestDb, dialects, type TestDb } from '../helpers/db.js';
import { newId, nowIso, sql } from '../../src/platform/db/index.js';
import { createIdentityService } from '../../src/modules/identity/index.js';
import { createQueueService } from '../../src/modules/chat/queues.js';
import { createRoutingService, type RoutingService } from '../../src/modules/chat/routing-service.js';
import { createConversationService, type ConversationService } from '../../src/modules/chat/conversations.js';
import type { ChatConnector, InboundMessage } from '../../src/modules/chat/connectors/types.js';
import type { ChatChannelsTable } from '../../src/modules/chat/tables.js';
import type { RealtimeEvent } from '../../src/platform/realtime/types.js';

const DIALECTS = await dialects();

describe.each(DIALECTS)('chat messages racing a completion on %s', (dialect) => {
  let tdb: TestDb;
  let routing: RoutingService;
  let conv: ConversationService;
  let channel: ChatChannelsTable;
  let opId: string;
  const events: { userIds: string[]; event: RealtimeEvent }[] = [];
  const autocompletes: string[] = [];
  const hook: { fn: ((chatId: string, direction: 'in' | 'out') => Promise<void>) | null } = { fn: null };
  let update = 1000;

  const message = (externalChatId: string, text: string): InboundMessage => ({
    updateId: String(update++),
    externalChatId,
    externalMessageId: String(update),
    customer: { externalUserId: externalChatId, name: 'Rita Race', username: 'rita' },
    text,
    files: [],
    unsupported: [],
    edited: false,
  });

  beforeAll(async () => {
    tdb = await createTestDb(dialect);
    const db = tdb.db;
    const identity = createIdentityService(db);
    opId = (await identity.createUser({ email: `race-${Date.now()}@example.com`, name: 'Race Operator' })).id;
    const q = await createQueueService({ db }).create({ name: 'Race', routingRule: 'to-all', completionTimeoutMinutes: 5, userIds: [opId] });
    const now = nowIso();
    channel = {
      id: newId(), kind: 'telegram', name: 'Race', is_active: 1, queue_id: q.id, delivery: 'auto', mode: 'webhook', external_id: null, external_username: null,
      last_error: null, last_checked_at: null, poll_offset: null, webhook_failures: 0, webhook_gave_up_at: null, token_rejected_at: null, created_at: now, updated_at: now,
    };
    await db.insertInto('chat_channels').values(channel).execute();
    const notify = async (userIds: string[], event: RealtimeEvent) => {
      events.push({ userIds, event });
    };
    routing = createRoutingService({
      db, dialect: tdb.dialect, limitFor: async () => 5, acceptTimeoutMs: async () => 60_000, roleMemberIds: async () => [], notify,
      scheduleOfferTimeout: async () => {},
    });
    const connector = { sendText: async () => ({ externalMessageId: '77' }), retryAfter: () => undefined, describeError: String } as unknown as ChatConnector;
    conv = createConversationService({
      db, dialect: tdb.dialect, files: undefined as never, routing, notify,
      crm: { findOrCreateContactByChannel: async () => ({ contact: { id: newId() } }) },
      connectorOf: () => connector,
      runtime: async (c) => ({ channelId: c.id, credentials: {} }),
      scheduleAutocomplete: async (chatId) => {
        autocompletes.push(chatId);
      },
      minuteMs: () => 60_000,
      hooks: { beforeStore: (chatId, direction) => (hook.fn ? hook.fn(chatId, direction) : Promise.resolve()) },
    });
    await routing.setStatus(opId, 'active');
  });
  afterAll(async () => {
    await tdb?.destroy();
  });
  beforeEach(() => {
    hook.fn = null;
    events.length = 0;
    autocompletes.length = 0;
  });

  /** A customer's chat, accepted by the operator. */
  async function chatInProgress(customer: string): Promise<string> {
    const first = await conv.receive(channel, message(customer, 'hello'), []);
    expect(first.newChat).toBe(true);
    await routing.accept(first.chatId, opId);
    await routing.idle();
    return first.chatId;
  }

  it('a customer message after a completion that slipped in opens a new chat, routed and announced', async () => {
    const chatId = await chatInProgress('5001');
    hook.fn = async (id, direction) => {
      hook.fn = null;
      if (direction === 'in' && id === chatId) await routing.complete(chatId, { kind: 'operator', userId: opId });
    };
    const r = await conv.receive(channel, message('5001', 'are you still there?'), []);
    await routing.idle();
    expect(r.newChat).toBe(true);
    expect(r.chatId).not.toBe(chatId);
    const old = await tdb.db.selectFrom('chat_messages').select('text').where('chat_id', '=', chatId).execute();
    expect(old.map((m) => m.text)).toEqual(['hello']);
    const fresh = await tdb.db.selectFrom('chats').selectAll().where('id', '=', r.chatId).executeTakeFirstOrThrow();
    expect(fresh.state).toBe('offered');
    expect((await conv.messages(r.chatId)).map((m) => m.text)).toEqual(['are you still there?']);
    expect(events.some((e) => e.event.type === 'chat.offered' && (e.event.data as { chatId: string }).chatId === r.chatId && e.userIds.includes(opId))).toBe(true);
  });

  it('a reply stored after the chat completed keeps the completed chat\'s timers still', async () => {
    const chatId = await chatInProgress('5002');
    hook.fn = async (id, direction) => {
      hook.fn = null;
      if (direction === 'out' && id === chatId) await routing.complete(chatId, { kind: 'system', reason: 'manager' });
    };
    const sent = await conv.send(chatId, opId, { text: 'one moment please' });
    const row = await tdb.db.selectFrom('chats').selectAll().where('id', '=', chatId).executeTakeFirstOrThrow();
    expect(row.state).toBe('completed');
    // It went out to the customer, so the history keeps it…
    expect((await conv.messages(chatId)).map((m) => m.id)).toContain(sent.id);
    // …but a completed chat gets no new "last outgoing" time and no completion check.
    expect(row.last_outgoing_at).toBeNull();
    expect(autocompletes).toEqual([]);
  });

  it.runIf(dialect === 'postgres')('PostgreSQL: a completion committing while the message waits for the chat lock → new chat', async () => {
    const chatId = await chatInProgress('5003');
    const db = tdb.db;
    let receiving: Promise<Awaited<ReturnType<ConversationService['receive']>>> | null = null;
    await db.transaction().execute(async (trx) => {
      // Complete the chat the way routing.complete does, but hold the commit…
      await sql`select id from chats where id = ${chatId} for update`.execute(trx);
      await trx.updateTable('chats').set({ state: 'completed', open_key: null, completed_at: nowIso(), completed_by: 'operator' }).where('id', '=', chatId).execute();
      // …while the customer's message reads the chat as still open and reaches for its lock.
      receiving = conv.receive(channel, message('5003', 'hello again'), []);
      const end = Date.now() + 10_000;
      for (;;) {
        const waiting = await sql<{ n: number }>`select count(*)::int as n from pg_stat_activity where wait_event_type = 'Lock' and datname = current_database() and query ilike '%chat%'`.execute(db);
        if (waiting.rows[0].n > 0) break;
        if (Date.now() > end) throw new Error('the receiver never waited for the chat lock');
        await new Promise((r) => setTimeout(r, 10));
      }
    });
    const r = await receiving!;
    await routing.idle();
    expect(r.chatId).not.toBe(chatId);
    expect(r.newChat).toBe(true);
    expect((await conv.messages(chatId)).map((m) => m.text)).toEqual(['hello']);
    expect((await conv.messages(r.chatId)).map((m) => m.text)).toEqual(['hello again']);
    const fresh = await db.selectFrom('chats').select(['state', 'open_key']).where('id', '=', r.chatId).executeTakeFirstOrThrow();
    expect(fresh).toEqual({ state: 'offered', open_key: `${channel.id}:5003` });
  });
});
