// Fire-and-forget fan-out between processes (in-process bus by default; Redis pub/sub with REDIS_URL).
// Not durable: anything that must not be lost goes through the database or the job queue first.

export type EventHandler = (payload: any) => void;

export interface EventBus {
  readonly kind: 'local' | 'redis';
  publish(channel: string, payload: unknown): Promise<void>;
  /** Returns an unsubscribe function. */
  subscribe(channel: string, handler: EventHandler): () => void;
  close(): Promise<void>;
}
