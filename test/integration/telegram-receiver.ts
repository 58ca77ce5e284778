// A tiny real HTTP server standing in for a bot's webhook endpoint in Telegram tests: records every
// request (headers + JSON body) and answers with a status chosen per request by the test.
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ReceivedRequest {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  body: unknown;
}

export interface Answer {
  status: number;
  body?: unknown;
  contentType?: string;
}

export interface WebhookReceiver {
  url: string;
  requests: ReceivedRequest[];
  /** Decides each answer; default 200 with an empty body. */
  respond: (req: ReceivedRequest, index: number) => Answer | Promise<Answer>;
  /** Serves a fixed file at GET <url>/files/<name> (for "send by URL" tests). */
  files: Map<string, { bytes: Buffer; contentType: string }>;
  waitFor(count: number, timeoutMs?: number): Promise<ReceivedRequest[]>;
  close(): Promise<void>;
}

export async function startWebhookReceiver(): Promise<WebhookReceiver> {
  let server: Server;
  const receiver: WebhookReceiver = {
    url: '',
    requests: [],
    files: new Map(),
    respond: () => ({ status: 200 }),
    async waitFor(count, timeoutMs = 10_000) {
      const deadline = Date.now() + timeoutMs;
      while (receiver.requests.length < count) {
        if (Date.now() > deadline) throw new Error(`receiver: ${receiver.requests.length}/${count} requests after ${timeoutMs} ms`);
        await new Promise((r) => setTimeout(r, 10));
      }
      return receiver.requests;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
  server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const path = req.url ?? '/';
    if (req.method === 'GET' && path.startsWith('/files/')) {
      const f = receiver.files.get(path.slice('/files/'.length));
      if (!f) {
        res.writeHead(404).end();
        return;
      }
      res.writeHead(200, { 'content-type': f.contentType }).end(f.bytes);
      return;
    }
    const raw = Buffer.concat(chunks).toString('utf8');
    let body: unknown = raw;
    try {
      body = raw ? JSON.parse(raw) : undefined;
    } catch {
      // keep the raw text
    }
    const entry: ReceivedRequest = { method: req.method ?? '', path, headers: req.headers, body };
    const index = receiver.requests.length;
    receiver.requests.push(entry);
    const answer = await receiver.respond(entry, index);
    const text = answer.body === undefined ? '' : typeof answer.body === 'string' ? answer.body : JSON.stringify(answer.body);
    res.writeHead(answer.status, { 'content-type': answer.contentType ?? 'application/json' }).end(text);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  receiver.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return receiver;
}
