// A fixed-window attempt counter per key (login: per client address, and per address + email).
// @fastify/rate-limit runs only one limiter per request, and login needs two keys, one of them
// from the parsed body; this is small enough to own. Counts live in this process's memory: with
// several api processes each counts its own share (a shared store would need Redis).
export interface AttemptLimiter {
  /** Counts an attempt; returns the seconds to wait when the key is over its limit, else null. */
  hit(key: string, now?: number): number | null;
}

export function createAttemptLimiter(opts: { max: number; windowMs: number; maxKeys?: number }): AttemptLimiter {
  const maxKeys = opts.maxKeys ?? 100_000;
  // Insertion order = window start order, so the oldest windows are the first entries.
  const windows = new Map<string, { count: number; resetAt: number }>();

  function evict(now: number) {
    for (const [key, w] of windows) {
      if (w.resetAt > now && windows.size <= maxKeys) break;
      windows.delete(key);
    }
  }

  return {
    hit(key, now = Date.now()) {
      let w = windows.get(key);
      if (!w || w.resetAt <= now) {
        windows.delete(key);
        w = { count: 0, resetAt: now + opts.windowMs };
        windows.set(key, w);
        // A flood of distinct keys (spoofed emails) must not grow memory without bound.
        if (windows.size > maxKeys) evict(now);
      }
      w.count++;
      return w.count > opts.max ? Math.max(1, Math.ceil((w.resetAt - now) / 1000)) : null;
    },
  };
}
