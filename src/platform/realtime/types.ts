// Realtime delivery to the console and operator clients over the WebSocket at GET /api/realtime.
// Modules call `notifyUsers`; the hub in every api process delivers to that user's open sockets,
// crossing processes through the EventBus.

export type RealtimeEventType =
  | 'chat.offered'
  | 'chat.assigned'
  | 'chat.message'
  | 'chat.completed'
  | 'chat.withdrawn'
  | 'email.received'
  | 'sync.status'
  | 'notification'
  | 'operator.status';

export interface RealtimeEvent {
  type: RealtimeEventType | string;
  data: unknown;
}

export interface Realtime {
  notifyUsers(userIds: string[], event: RealtimeEvent): Promise<void>;
}
