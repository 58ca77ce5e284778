// Table types of the chat module (see src/platform/db/index.ts for the cross-dialect conventions).
// Channels receive customer messages; each conversation is a `chats` row routed through a queue to
// one operator; `chat_offers` records who was shown a chat and what became of it.
import type { Generated, Selectable } from 'kysely';

export type RoutingRule = 'to-all' | 'least-busy';
export type ChatState = 'queued' | 'offered' | 'in-progress' | 'completed';
export type OfferState = 'pending' | 'accepted' | 'withdrawn' | 'expired';
export type OperatorStatus = 'active' | 'inactive';
export type ChannelKind = 'telegram';

export interface ChatQueuesTable {
  id: string;
  name: string;
  routing_rule: RoutingRule;
  /** Minutes after the last outgoing message until the chat completes by itself; null = never. */
  completion_timeout_minutes: number | null;
  created_at: string;
  updated_at: string;
}

/** A user serving a queue directly. */
export interface ChatQueueUsersTable {
  queue_id: string;
  user_id: string;
}

/** A role serving a queue: its members (resolved at routing time) are operators of the queue. */
export interface ChatQueueRolesTable {
  queue_id: string;
  role_id: string;
}

/** Operator state. A row is created the first time the user sets a status; no row = inactive. */
export interface ChatOperatorsTable {
  user_id: string;
  status: OperatorStatus;
  /** When the operator last accepted a new chat: least-busy ties go to the oldest (H3). An offer that expires does not count. */
  last_assigned_at: string | null;
  status_changed_at: string;
  /** Why the status last changed: 'operator' | 'accept-timeout'. */
  status_reason: string;
}

export interface ChatChannelsTable {
  id: string;
  kind: ChannelKind;
  name: string;
  is_active: number;
  queue_id: string;
  /** Administrator's choice: 'auto' | 'webhook' | 'polling' (0501). */
  delivery: 'auto' | 'webhook' | 'polling';
  /** How updates arrive now: 'webhook' | 'polling'; null before the first registration. */
  mode: string | null;
  /** The bot's own id and username as reported by getMe. */
  external_id: string | null;
  external_username: string | null;
  /** Last registration / health-check problem in plain words, null when healthy. */
  last_error: string | null;
  last_checked_at: string | null;
  /** Polling offset (next update_id to ask for). */
  poll_offset: number | null;
  /** Consecutive periodic checks that found Telegram failing to deliver to the webhook (0504). */
  webhook_failures: number;
  /** When an 'auto' channel gave up on a failing webhook and switched to polling; the webhook is retried later. */
  webhook_gave_up_at: string | null;
  /** When Telegram last rejected the bot token (401); pollers wait before trying it again. */
  token_rejected_at: string | null;
  created_at: string;
  updated_at: string;
}

/** Raw inbound updates, persisted before anything else so a crash never loses one; unique per channel. */
export interface ChatInboundUpdatesTable {
  id: string;
  channel_id: string;
  external_update_id: string;
  /** `<channel_id>:<external chat id>` (0502): updates of one conversation are processed in update_id order. */
  order_key: string | null;
  /** JSON text of the update as received. */
  payload: string;
  state: 'pending' | 'processed' | 'failed' | 'ignored';
  error: string | null;
  received_at: string;
  processed_at: string | null;
}

export interface ChatsTable {
  id: string;
  channel_id: string;
  queue_id: string;
  contact_id: string | null;
  /** The conversation's id in the channel (Telegram chat id as text). */
  external_chat_id: string;
  customer_name: string;
  customer_username: string | null;
  state: ChatState;
  operator_id: string | null;
  /** `<channel_id>:<external_chat_id>` while the chat is open, null once completed: unique, so one open chat per customer and channel. */
  open_key: string | null;
  created_at: string;
  offered_at: string | null;
  accepted_at: string | null;
  completed_at: string | null;
  /** 'operator' | 'timeout' | 'channel-deleted'. */
  completed_by: string | null;
  last_incoming_at: string | null;
  last_outgoing_at: string | null;
  last_message_at: string;
  /** Arrival order, assigned by the database (0503): a queue's waiting chats are offered in this order. */
  seq: Generated<number>;
}

/** A chats row as read. */
export type Chat = Selectable<ChatsTable>;

export interface ChatOffersTable {
  id: string;
  chat_id: string;
  user_id: string;
  rule: RoutingRule;
  state: OfferState;
  created_at: string;
  /** Least-busy offers expire (the operator is then set Inactive); to-all offers do not. */
  expires_at: string | null;
  resolved_at: string | null;
}

export interface ChatMessagesTable {
  id: string;
  chat_id: string;
  channel_id: string;
  direction: 'in' | 'out';
  author_user_id: string | null;
  text: string | null;
  /** JSON text: [{ id, name, mimeType, size, kind: 'photo'|'document' }]. */
  files: string;
  /** Telegram update_id (inbound); unique per channel so duplicate deliveries store nothing twice. */
  external_update_id: string | null;
  external_message_id: string | null;
  /** 'sent' | 'failed' for outgoing messages (with the reason in send_error). */
  delivery: string | null;
  send_error: string | null;
  created_at: string;
}

/** A file of a chat message: bytes in platform.files under file_key. */
export interface ChatFilesTable {
  id: string;
  chat_id: string;
  message_id: string | null;
  name: string;
  mime_type: string;
  size: number;
  file_key: string;
  kind: 'photo' | 'document';
  created_at: string;
}

export interface ChatTables {
  chat_queues: ChatQueuesTable;
  chat_queue_users: ChatQueueUsersTable;
  chat_queue_roles: ChatQueueRolesTable;
  chat_operators: ChatOperatorsTable;
  chat_channels: ChatChannelsTable;
  chat_inbound_updates: ChatInboundUpdatesTable;
  chats: ChatsTable;
  chat_offers: ChatOffersTable;
  chat_messages: ChatMessagesTable;
  chat_files: ChatFilesTable;
}
