// Parsing runs either inline or on a small pool of worker threads. On the 2-core reference
// machine the pool lets MIME decoding overlap with IMAP I/O and database writes on the main
// thread (measured in bench/mail.ts); with `threads: 0` everything stays inline.
import { Worker } from 'node:worker_threads';
import { parseMessage, type ParsedMail } from './parse.js';

export interface Parser {
  parse(raw: Buffer): Promise<ParsedMail>;
  close(): Promise<void>;
}

export function createInlineParser(): Parser {
  return { parse: (raw) => parseMessage(raw), close: async () => {} };
}

export function createParserPool(threads: number): Parser {
  if (threads <= 0) return createInlineParser();
  const self = new URL(import.meta.url);
  const isTs = self.pathname.endsWith('.ts');
  const workerUrl = new URL(isTs ? './parse-worker.ts' : './parse-worker.js', self);
  type Pending = { resolve: (p: ParsedMail) => void; reject: (e: unknown) => void; raw: Buffer };
  const workers: { w: Worker; pending: Map<number, Pending> }[] = [];
  let seq = 0;
  let rr = 0;
  let closed = false;
  const spawn = () => {
    // Running from TypeScript sources (tests, tsx): the worker needs the tsx loader as well.
    const w = new Worker(workerUrl, isTs ? { execArgv: [...process.execArgv.filter((a) => !a.startsWith('--inspect')), '--import', 'tsx'] } : {});
    w.unref();
    const entry = { w, pending: new Map<number, Pending>() };
    w.on('message', (m: { id: number; parsed: ParsedMail }) => {
      const p = entry.pending.get(m.id);
      if (!p) return;
      entry.pending.delete(m.id);
      p.resolve(m.parsed);
    });
    const fail = () => {
      // A crashed worker must not lose messages: parse them inline instead.
      const i = workers.indexOf(entry);
      if (i >= 0) workers.splice(i, 1);
      for (const p of entry.pending.values()) parseMessage(p.raw).then(p.resolve, p.reject);
      entry.pending.clear();
      if (!closed) workers.push(spawn());
    };
    w.on('error', fail);
    w.on('exit', (code) => {
      if (!closed && code !== 0) fail();
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
        entry.w.postMessage({ id, raw });
      });
    },
    async close() {
      closed = true;
      await Promise.all(workers.map((e) => e.w.terminate()));
      workers.length = 0;
    },
  };
}
