// Parsing runs either inline or on a small pool of worker threads. The worker only runs
// postal-mime's MIME decoding (the expensive part) and hands the result back; mapping and the
// fallback for unparseable messages stay here. The worker body is plain CommonJS evaluated from
// a string, so it works the same from TypeScript sources (tests, tsx) and from the built dist.
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import type { Email } from 'postal-mime';
import { CONCAT_BLOB_SOURCE } from './concat-blob.js';
import { LIMITS, fallbackParse, fromPostal, parseMessage, type ParsedMail } from './parse.js';

export interface Parser {
  parse(raw: Buffer): Promise<ParsedMail>;
  close(): Promise<void>;
}

export function createInlineParser(): Parser {
  return { parse: (raw) => parseMessage(raw), close: async () => {} };
}

const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
${CONCAT_BLOB_SOURCE}
globalThis.Blob = ConcatBlob;
const PostalMime = require(workerData.postalPath);
parentPort.on('message', async (msg) => {
  try {
    const email = await PostalMime.parse(msg.raw, workerData.options);
    const transfer = [];
    for (const a of email.attachments) if (a.content instanceof ArrayBuffer && !transfer.includes(a.content)) transfer.push(a.content);
    parentPort.postMessage({ id: msg.id, email }, transfer);
  } catch (err) {
    parentPort.postMessage({ id: msg.id, error: String((err && err.message) || err) });
  }
});
`;

const WORKER_YOUNG_GEN_MB = 8;

export interface ParserPool extends Parser {
  /** Live workers, and how many were started to replace dead ones in the last minute. */
  stats(): { workers: number; recentRespawns: number };
}

export function createParserPool(threads: number, opts: { workerSource?: string } = {}): ParserPool | Parser {
  if (threads <= 0) return createInlineParser();
  const postalPath = createRequire(import.meta.url).resolve('postal-mime');
  type Pending = { resolve: (p: ParsedMail) => void; reject: (e: unknown) => void; raw: Buffer };
  const workers: { w: Worker; pending: Map<number, Pending> }[] = [];
  let seq = 0;
  let rr = 0;
  let closed = false;
  // A worker that cannot start (or keeps crashing) must not turn into a respawn storm: each death
  // is handled once, respawns are capped per minute, and past the cap parsing goes inline.
  const MAX_RESPAWNS_PER_MINUTE = 5;
  let respawns: number[] = [];
  const spawn = () => {
    // A parse makes only short-lived garbage: a small young generation (V8 grows it to 48 MB under
    // a steady allocation rate) keeps the worker's share of a first sync's RSS down. Old-space
    // limits are untouched, so large messages parse as before.
    const w = new Worker(opts.workerSource ?? WORKER_SOURCE, {
      eval: true,
      workerData: { postalPath, options: { ...LIMITS, attachmentEncoding: 'arraybuffer' } },
      resourceLimits: { maxYoungGenerationSizeMb: WORKER_YOUNG_GEN_MB },
    });
    w.unref();
    const entry = { w, pending: new Map<number, Pending>() };
    w.on('message', (m: { id: number; email?: Email; error?: string }) => {
      const p = entry.pending.get(m.id);
      if (!p) return;
      entry.pending.delete(m.id);
      try {
        p.resolve(m.email ? fromPostal(m.email) : fallbackParse(p.raw, m.error ?? 'unparseable message'));
      } catch (err) {
        p.resolve(fallbackParse(p.raw, (err as Error).message));
      }
    });
    let dead = false;
    const fail = () => {
      // 'error' is followed by 'exit': handle a worker's death once.
      if (dead) return;
      dead = true;
      // A crashed worker must not lose messages: parse its pending ones inline.
      const i = workers.indexOf(entry);
      if (i >= 0) workers.splice(i, 1);
      for (const p of entry.pending.values()) parseMessage(p.raw).then(p.resolve, p.reject);
      entry.pending.clear();
      if (closed) return;
      const now = Date.now();
      respawns = respawns.filter((t) => now - t < 60_000);
      if (respawns.length >= MAX_RESPAWNS_PER_MINUTE) return; // parse() falls back to inline when no worker is left
      respawns.push(now);
      workers.push(spawn());
    };
    w.on('error', fail);
    w.on('exit', () => {
      if (!closed) fail();
    });
    return entry;
  };
  for (let i = 0; i < threads; i++) workers.push(spawn());
  return {
    parse(raw) {
      if (closed || workers.length === 0) return parseMessage(raw);
      const entry = workers[rr++ % workers.length];
      const id = ++seq;
      return new Promise<ParsedMail>((resolve, reject) => {
        entry.pending.set(id, { resolve, reject, raw });
        // Copy once (the fetched Buffer may share a pooled ArrayBuffer we must not detach) and
        // transfer the copy: posting it untransferred made structured clone copy it a second time.
        const copy = new Uint8Array(raw);
        entry.w.postMessage({ id, raw: copy }, [copy.buffer]);
      });
    },
    stats() {
      return { workers: workers.length, recentRespawns: respawns.length };
    },
    async close() {
      closed = true;
      await Promise.all(workers.map((e) => e.w.terminate()));
      workers.length = 0;
    },
  };
}
