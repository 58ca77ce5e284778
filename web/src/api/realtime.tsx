// Live updates over GET /api/realtime (WebSocket). Each event `{ type, data }` refreshes the
// queries it affects, and components can subscribe to react themselves (the chat sound, toasts).
// Reconnects with backoff; after a reconnect every live query is refetched since events may have
// been missed while offline.
import { createContext, useCallback, useContext, useEffect, useMemo, useRef, useState, type ReactNode } from 'react';
import { useQueryClient } from '@tanstack/react-query';

export interface RealtimeEvent {
  type: string;
  data: any;
}
type Listener = (e: RealtimeEvent) => void;

interface Realtime {
  connected: boolean;
  subscribe(fn: Listener): () => void;
}

const RealtimeContext = createContext<Realtime>({ connected: false, subscribe: () => () => {} });

/** Which query keys (first segment) each event type makes stale. */
const INVALIDATES: Record<string, string[]> = {
  'chat.offered': ['chats'],
  'chat.assigned': ['chats', 'chat'],
  'chat.message': ['chat', 'chats'],
  'chat.completed': ['chats', 'chat'],
  'chat.withdrawn': ['chats'],
  'email.received': ['emails', 'email-threads'],
  'sync.status': ['sync-status', 'mailboxes'],
  notification: ['notifications'],
  'operator.status': ['operator-me'],
};

export function RealtimeProvider({ enabled, children }: { enabled: boolean; children: ReactNode }) {
  const qc = useQueryClient();
  const listeners = useRef(new Set<Listener>());
  const [connected, setConnected] = useState(false);

  useEffect(() => {
    if (!enabled) return;
    let ws: WebSocket | null = null;
    let stopped = false;
    let attempt = 0;
    let timer: ReturnType<typeof setTimeout> | undefined;
    let everConnected = false;

    const open = () => {
      const proto = location.protocol === 'https:' ? 'wss:' : 'ws:';
      ws = new WebSocket(`${proto}//${location.host}/api/realtime`);
      ws.onopen = () => {
        attempt = 0;
        setConnected(true);
        if (everConnected) void qc.invalidateQueries();
        everConnected = true;
      };
      ws.onmessage = (m) => {
        let e: RealtimeEvent;
        try {
          e = JSON.parse(String(m.data));
        } catch {
          return;
        }
        if (!e || typeof e.type !== 'string') return;
        for (const key of INVALIDATES[e.type] ?? []) void qc.invalidateQueries({ queryKey: [key] });
        for (const fn of listeners.current) fn(e);
      };
      ws.onclose = () => {
        setConnected(false);
        if (stopped) return;
        attempt++;
        timer = setTimeout(open, Math.min(30_000, 500 * 2 ** Math.min(attempt, 6)));
      };
    };
    open();
    return () => {
      stopped = true;
      clearTimeout(timer);
      ws?.close();
    };
  }, [enabled, qc]);

  const subscribe = useCallback((fn: Listener) => {
    listeners.current.add(fn);
    return () => {
      listeners.current.delete(fn);
    };
  }, []);
  const value = useMemo<Realtime>(() => ({ connected, subscribe }), [connected, subscribe]);
  return <RealtimeContext.Provider value={value}>{children}</RealtimeContext.Provider>;
}

export function useRealtime(): Realtime {
  return useContext(RealtimeContext);
}

/** Runs `fn` for each realtime event (latest closure, stable subscription). */
export function useRealtimeEvent(fn: Listener) {
  const { subscribe } = useRealtime();
  const ref = useRef(fn);
  ref.current = fn;
  useEffect(() => subscribe((e) => ref.current(e)), [subscribe]);
}
