// Chat lifecycle (H5) and messages: a customer message opens a chat (or joins the open one),
// operators reply through the channel, and a chat completes by itself when its queue's timeout
// passes after the last outgoing message. A customer message after completion opens a NEW chat,
// routed afresh (the completed chat's open_key was cleared, so the unique index lets it in).
import type { Insertable, Transaction } from 'kysely';
import type { DB, Database } from '../../schema.js';
import type { FileStore } from '../../platform/files/index.js';
import { forUpdate, fromJson, isUniqueViolation, newId, nowIso, sql, toJson, type Dialect } from '../../platform/db/index.js';
import { errors } from '../../platform/http/errors.js';
import type { RealtimeEvent } from '../../platform/realtime/types.js';
import type { RoutingService } from './routing-service.js';
import type { ChannelRuntime, ChatConnector, InboundMessage, OutgoingFile } from './connectors/types.js';
import type { Chat, ChatChannelsTable, ChatMessagesTable, ChatsTable } from './tables.js';

export interface ChannelContactLookup {
  /** `previousName`: the customer's name as this channel showed it before; the contact follows a rename only while it still has that name. */
  findOrCreateContactByChannel(input: { channel: 'telegram' | 'facebook'; externalId: string; name: string; username?: string | null; previousName?: string | null }): Promise<{ contact: { id: string } }>;
}

/** Largest image sent as a photo (Telegram's limit for sendPhoto); larger ones go as documents. */
const MAX_PHOTO_BYTES = 10 * 1024 * 1024;

export interface MessageFileView {
  id: string;
  name: string;
  mimeType: string;
  size: number;
  kind: 'photo' | 'document';
}

export interface MessageView {
  id: string;
  chatId: string;
  direction: 'in' | 'out';
  authorUserId: string | null;
  text: string | null;
  files: MessageFileView[];
  createdAt: string;
}

export interface StoredInboundFile {
  name: string;
  mimeType: string;
  size: number;
  fileKey: string;
  kind: 'photo' | 'document';
}

/**
 * A message time strictly after the chat's previous message: messages are listed by time, and two
 * messages processed within the same millisecond must still keep their order.
 */
export function laterThan(prev: string | null | undefined, now = new Date()): string {
  const t = nowIso(now);
  if (!prev || t > prev) return t;
  return nowIso(new Date(new Date(prev).getTime() + 1));
}

export function messageView(m: ChatMessagesTable): MessageView {
  return {
    id: m.id,
    chatId: m.chat_id,
    direction: m.direction,
    authorUserId: m.author_user_id,
    text: m.text,
    files: fromJson<MessageFileView[]>(m.files, []),
    createdAt: m.created_at,
  };
}

export interface ConversationDeps {
  db: DB;
  dialect: Dialect;
  files: FileStore;
  routing: RoutingService;
  crm: ChannelContactLookup;
  connectorOf(kind: ChatChannelsTable['kind']): ChatConnector;
  runtime(channel: ChatChannelsTable): Promise<ChannelRuntime>;
  notify(userIds: string[], event: RealtimeEvent): Promise<void>;
  /** Arrange for the completion check of a chat after delayMs (a delayed job keyed by chat and message time). */
  scheduleAutocomplete(chatId: string, key: string, delayMs: number): Promise<void>;
  minuteMs(): number;
  /**
   * Test seam: runs after the chat was read and before the message is stored, so a test can make
   * a completion land exactly in that window (the race the locked re-check below closes).
   */
  hooks?: { beforeStore?(chatId: string, direction: 'in' | 'out'): Promise<void> };
}

export function createConversationService(deps: ConversationDeps) {
  const { db } = deps;

  /** Who hears about a chat right now: its operator, or the operators it is offered to. */
  async function audience(chat: Pick<ChatsTable, 'id' | 'operator_id' | 'state'>): Promise<string[]> {
    if (chat.state === 'in-progress' && chat.operator_id) return [chat.operator_id];
    if (chat.state === 'offered') {
      const rows = await db.selectFrom('chat_offers').select('user_id').where('chat_id', '=', chat.id).where('state', '=', 'pending').execute();
      return rows.map((r) => r.user_id);
    }
    return [];
  }

  /**
   * A customer message. Idempotent by (channel, update id): a duplicate delivery stores nothing and
   * notifies nobody. Returns the chat and whether it is new.
   *
   * The open chat is read without a lock first (the common case costs one indexed read), then
   * locked inside the message transaction and checked again: a timeout or an operator may have
   * completed it in between. Storing the message in that completed chat would lose it (no new
   * chat, nobody notified), so the transaction rolls back and the message opens a new chat,
   * routed afresh. PostgreSQL: `FOR UPDATE` orders us after the completing transaction; SQLite:
   * transactions are BEGIN IMMEDIATE (one writer at a time, across processes too), so the read
   * inside the transaction sees every committed completion.
   */
  async function receive(
    channel: ChatChannelsTable,
    m: InboundMessage,
    files: StoredInboundFile[],
    opts: { alsoInTransaction?: (trx: Transaction<Database>) => Promise<void> } = {},
  ): Promise<{ chatId: string; duplicate: boolean; newChat: boolean }> {
    // A chat can complete under us only a few times in a row in any real run; the bound turns a
    // logic error into an exception rather than a loop.
    for (let attempt = 0; attempt < 5; attempt++) {
      const r = await receiveOnce(channel, m, files, opts);
      if (r !== CHAT_CLOSED) return r;
    }
    throw new Error('The customer\'s chat kept completing while a message was stored; giving up (the update stays pending and is retried).');
  }

  const CHAT_CLOSED = Symbol('chat closed');
  class ChatClosed extends Error {}

  async function receiveOnce(
    channel: ChatChannelsTable,
    m: InboundMessage,
    files: StoredInboundFile[],
    opts: { alsoInTransaction?: (trx: Transaction<Database>) => Promise<void> },
  ): Promise<{ chatId: string; duplicate: boolean; newChat: boolean } | typeof CHAT_CLOSED> {
    const openKey = `${channel.id}:${m.externalChatId}`;
    const open = await db.selectFrom('chats').select('id').where('open_key', '=', openKey).executeTakeFirst();
    let chatId = open?.id;
    let newChat = false;
    const now = nowIso();
    const customerName = m.customer.name || m.customer.username || m.externalChatId;
    if (!chatId) {
      // Before opening a chat, make sure this update is not a late duplicate of one stored in a
      // chat that has completed since (into an open chat the unique index catches duplicates).
      const dup = await db
        .selectFrom('chat_messages')
        .select('chat_id')
        .where('channel_id', '=', channel.id)
        .where('external_update_id', '=', m.updateId)
        .executeTakeFirst();
      if (dup) return { chatId: dup.chat_id, duplicate: true, newChat: false };
      // The customer's previous chat here tells the contact what their name used to be (a rename in between is followed).
      const previous = await db
        .selectFrom('chats')
        .select('customer_name')
        .where('channel_id', '=', channel.id)
        .where('external_chat_id', '=', m.externalChatId)
        .orderBy('seq', 'desc')
        .limit(1)
        .executeTakeFirst();
      const { contact } = await deps.crm.findOrCreateContactByChannel({
        channel: channel.kind,
        externalId: m.customer.externalUserId,
        name: m.customer.name,
        username: m.customer.username,
        previousName: previous?.customer_name ?? null,
      });
      const row: Insertable<ChatsTable> = {
        id: newId(), channel_id: channel.id, queue_id: channel.queue_id, contact_id: contact.id, external_chat_id: m.externalChatId,
        customer_name: customerName, customer_username: m.customer.username, state: 'queued',
        operator_id: null, open_key: openKey, created_at: now, offered_at: null, accepted_at: null, completed_at: null, completed_by: null,
        last_incoming_at: now, last_outgoing_at: null, last_message_at: now,
      };
      try {
        await db.insertInto('chats').values(row).execute();
        chatId = row.id;
        newChat = true;
      } catch (err) {
        // Two deliveries of one customer's first messages raced: the other opened the chat.
        if (!isUniqueViolation(err)) throw err;
        chatId = (await db.selectFrom('chats').select('id').where('open_key', '=', openKey).executeTakeFirst())?.id;
        if (!chatId) return CHAT_CLOSED;
      }
    }
    await deps.hooks?.beforeStore?.(chatId, 'in');
    const messageId = newId();
    const text = m.unsupported.length && !m.text && !files.length ? `[${m.unsupported.join(', ')} — not supported by Switchboard]` : m.text;
    let stored: { at: string; chat: Chat; fileViews: MessageFileView[]; renamedFrom: string | null };
    try {
      // One transaction (one commit) for everything this message writes: on PostgreSQL every
      // commit waits for the WAL flush, and that dominated the inbound latency.
      stored = await db.transaction().execute(async (trx) => {
        // The raw update was committed durably before Telegram got its 200; if this commit were
        // lost in a PostgreSQL crash, the update would still be pending and be processed again
        // (idempotently). So this transaction need not wait for the WAL flush.
        if (deps.dialect === 'postgres') await sql`set local synchronous_commit to off`.execute(trx);
        const locked = await forUpdate(trx.selectFrom('chats').selectAll().where('id', '=', chatId!), deps.dialect).executeTakeFirst();
        if (!locked || locked.state === 'completed' || locked.open_key !== openKey) throw new ChatClosed();
        const at = newChat ? now : laterThan(locked.last_message_at);
        const fileRows = files.map((f) => ({ id: newId(), chat_id: chatId, message_id: messageId, name: f.name, mime_type: f.mimeType, size: f.size, file_key: f.fileKey, kind: f.kind, created_at: at }));
        const fileViews: MessageFileView[] = fileRows.map((f) => ({ id: f.id, name: f.name, mimeType: f.mime_type, size: f.size, kind: f.kind }));
        await trx
          .insertInto('chat_messages')
          .values({
            id: messageId, chat_id: chatId, channel_id: channel.id, direction: 'in', author_user_id: null, text, files: toJson(fileViews),
            external_update_id: m.updateId, external_message_id: m.externalMessageId, delivery: null, send_error: null, created_at: at,
          })
          .execute();
        if (fileRows.length) await trx.insertInto('chat_files').values(fileRows).execute();
        // The customer renamed themselves (name or username) since the chat opened: the chat shows the current name.
        const renamed = locked.customer_name !== customerName || locked.customer_username !== m.customer.username;
        if (!newChat) {
          await trx
            .updateTable('chats')
            .set({ last_incoming_at: at, last_message_at: at, ...(renamed ? { customer_name: customerName, customer_username: m.customer.username } : {}) })
            .where('id', '=', chatId!)
            .execute();
        }
        await opts.alsoInTransaction?.(trx);
        return { at, chat: locked, fileViews, renamedFrom: !newChat && renamed ? locked.customer_name : null };
      });
    } catch (err) {
      if (err instanceof ChatClosed) return CHAT_CLOSED;
      // A concurrent delivery of the same update stored it first.
      if (isUniqueViolation(err)) return { chatId, duplicate: true, newChat: false };
      throw err;
    }
    if (stored.renamedFrom !== null) {
      await deps.crm.findOrCreateContactByChannel({
        channel: channel.kind,
        externalId: m.customer.externalUserId,
        name: m.customer.name,
        username: m.customer.username,
        previousName: stored.renamedFrom,
      });
    }
    const view: MessageView = { id: messageId, chatId, direction: 'in', authorUserId: null, text, files: stored.fileViews, createdAt: stored.at };
    if (newChat) {
      await deps.routing.routeQueue(channel.queue_id);
    } else {
      await deps.notify(await audience(stored.chat), { type: 'chat.message', data: view });
    }
    return { chatId, duplicate: false, newChat };
  }

  async function loadChat(chatId: string): Promise<Chat> {
    const chat = await db.selectFrom('chats').selectAll().where('id', '=', chatId).executeTakeFirst();
    if (!chat) throw errors.notFound('Chat', chatId);
    return chat;
  }

  /** An operator's reply (text and/or files), sent through the channel first and stored once sent. */
  async function send(chatId: string, userId: string, input: { text?: string | null; files?: { bytes: Buffer; fileName: string; mimeType: string }[] }): Promise<MessageView> {
    const chat = await loadChat(chatId);
    if (chat.state !== 'in-progress' || chat.operator_id !== userId) {
      throw errors.conflict(chat.state === 'completed' ? 'This chat is completed; the customer starts a new one by writing again.' : 'You can reply only in a chat you are working on: accept it first.', { state: chat.state });
    }
    const text = input.text?.trim() ? input.text : null;
    const files = input.files ?? [];
    if (!text && files.length === 0) throw errors.validation([{ field: 'text', message: 'Write a message or attach a file.' }]);
    const channel = await db.selectFrom('chat_channels').selectAll().where('id', '=', chat.channel_id).executeTakeFirstOrThrow();
    const connector = deps.connectorOf(channel.kind);
    const rt = await deps.runtime(channel);
    const externalIds: string[] = [];
    const stored: StoredInboundFile[] = [];
    try {
      // A caption rides on the first file when it fits (Telegram: 1024 characters); otherwise the text goes first on its own.
      const captionFits = !!text && files.length > 0 && text.length <= 1024;
      if (text && !captionFits) externalIds.push((await connector.sendText(rt, chat.external_chat_id, text)).externalMessageId);
      for (const [i, f] of files.entries()) {
        // Telegram takes photos up to 10 MB (and recompresses them); a bigger image goes as a document.
        const kind: OutgoingFile['kind'] = /^image\/(jpeg|png|webp)$/.test(f.mimeType) && f.bytes.length <= MAX_PHOTO_BYTES ? 'photo' : 'document';
        const sent = await connector.sendFile(rt, chat.external_chat_id, { ...f, kind }, i === 0 && captionFits ? text! : undefined);
        externalIds.push(sent.externalMessageId);
        const put = await deps.files.put(f.bytes, 'chat');
        stored.push({ name: f.fileName, mimeType: f.mimeType, size: put.size, fileKey: put.key, kind });
      }
    } catch (err) {
      const wait = connector.retryAfter(err);
      if (wait !== undefined && stored.length === 0 && externalIds.length === 0) {
        throw errors.tooMany(`Telegram asked to slow down; the message was not sent. Try again in ${wait} s.`, wait);
      }
      if (stored.length === 0 && externalIds.length === 0) {
        throw errors.upstream('CHANNEL_SEND_FAILED', `The message was not delivered: ${connector.describeError(err)}`);
      }
      // Part went out (text, some files): keep what was sent and report the rest.
      throw errors.upstream('CHANNEL_SEND_PARTIAL', `Only part of the message was delivered: ${connector.describeError(err)}`);
    }
    // The chat may have completed while Telegram was sending (timeout, a manager): the message went
    // out, so it is stored — but it must not move last_outgoing_at or schedule a completion check of
    // a completed chat. Checked under the chat's lock so a completion cannot slip in between.
    await deps.hooks?.beforeStore?.(chat.id, 'out');
    const messageId = newId();
    const saved = await db.transaction().execute(async (trx) => {
      const locked = await forUpdate(trx.selectFrom('chats').selectAll().where('id', '=', chat.id), deps.dialect).executeTakeFirst();
      if (!locked) return null;
      const stillMine = locked.state === 'in-progress' && locked.operator_id === userId;
      const now = laterThan(locked.last_message_at);
      const fileRows = stored.map((f) => ({ id: newId(), chat_id: chat.id, message_id: messageId, name: f.name, mime_type: f.mimeType, size: f.size, file_key: f.fileKey, kind: f.kind, created_at: now }));
      const fileViews: MessageFileView[] = fileRows.map((f) => ({ id: f.id, name: f.name, mimeType: f.mime_type, size: f.size, kind: f.kind }));
      await trx
        .insertInto('chat_messages')
        .values({
          id: messageId, chat_id: chat.id, channel_id: channel.id, direction: 'out', author_user_id: userId, text, files: toJson(fileViews),
          external_update_id: null, external_message_id: externalIds.join(','), delivery: 'sent', send_error: null, created_at: now,
        })
        .execute();
      if (fileRows.length) await trx.insertInto('chat_files').values(fileRows).execute();
      await trx
        .updateTable('chats')
        .set(stillMine ? { last_outgoing_at: now, last_message_at: now } : { last_message_at: now })
        .where('id', '=', chat.id)
        .execute();
      return { now, fileViews, stillMine };
    });
    if (!saved) throw errors.notFound('Chat', chatId);
    const { now, fileViews } = saved;
    if (saved.stillMine) {
      const queue = await db.selectFrom('chat_queues').select('completion_timeout_minutes').where('id', '=', chat.queue_id).executeTakeFirst();
      if (queue?.completion_timeout_minutes) {
        // One check per outgoing message; a stale check finds a newer message and does nothing.
        await deps.scheduleAutocomplete(chat.id, now, queue.completion_timeout_minutes * deps.minuteMs() + 20);
      }
    }
    const view: MessageView = { id: messageId, chatId: chat.id, direction: 'out', authorUserId: userId, text, files: fileViews, createdAt: now };
    await deps.notify([userId], { type: 'chat.message', data: view });
    return view;
  }

  async function messages(chatId: string, limit = 500): Promise<MessageView[]> {
    const rows = await db.selectFrom('chat_messages').selectAll().where('chat_id', '=', chatId).orderBy('created_at').orderBy('id').limit(limit).execute();
    return rows.map(messageView);
  }

  /** Safety net for lost completion jobs: completes every chat whose timeout has passed. */
  async function completeDue(): Promise<number> {
    const rows = await db
      .selectFrom('chats')
      .innerJoin('chat_queues', 'chat_queues.id', 'chats.queue_id')
      .select(['chats.id', 'chats.last_outgoing_at', 'chat_queues.completion_timeout_minutes'])
      .where('chats.state', '=', 'in-progress')
      .where('chat_queues.completion_timeout_minutes', 'is not', null)
      .where('chats.last_outgoing_at', 'is not', null)
      .execute();
    const now = Date.now();
    let n = 0;
    for (const r of rows) {
      const due = new Date(r.last_outgoing_at!).getTime() + r.completion_timeout_minutes! * deps.minuteMs();
      if (due <= now && (await deps.routing.complete(r.id, { kind: 'timeout' }))) n++;
    }
    return n;
  }

  return { receive, send, messages, audience, loadChat, completeDue };
}

export type ConversationService = ReturnType<typeof createConversationService>;
