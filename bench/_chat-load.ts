// Load generator for bench/chat.ts, run in a worker thread so the measured server does not share
// its event loop with the client: open-loop webhook POSTs at `rate`, operator WebSockets listening.
import { parentPort, workerData } from 'node:worker_threads';
import WebSocket from 'ws';

interface Input {
  url: string;
  channelId: string;
  secret: string;
  tokens: string[];
  customers: number;
  rate: number;
  seconds: number;
  firstUpdateId: number;
}

const w = workerData as Input;
const received = new Map<string, number>();
const sockets: WebSocket[] = [];
for (const token of w.tokens) {
  const ws = new WebSocket(`${w.url.replace('http', 'ws')}/api/realtime?token=${token}`);
  ws.on('message', (d) => {
    const e = JSON.parse(String(d)) as { type: string; data: { text?: string } };
    if (e.type === 'chat.message' && e.data.text?.startsWith('m')) received.set(e.data.text, performance.now());
  });
  await new Promise((r) => ws.once('open', r));
  sockets.push(ws);
}
let updateId = w.firstUpdateId;
const errors = new Map<string, number>();
const post = (customer: number, text: string) =>
  fetch(`${w.url}/webhooks/telegram/${w.channelId}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-telegram-bot-api-secret-token': w.secret },
    body: JSON.stringify({
      update_id: updateId++,
      message: { message_id: updateId, date: Math.floor(Date.now() / 1000), chat: { id: 5_000_000 + customer, type: 'private', first_name: `C${customer}` }, from: { id: 5_000_000 + customer, is_bot: false, first_name: `C${customer}` }, text },
    }),
  })
    .then((r) => r.text().then(() => r.status))
    .catch((e: Error) => {
      const k = String((e.cause as Error)?.message ?? e.message);
      errors.set(k, (errors.get(k) ?? 0) + 1);
      return 0;
    });

const total = w.rate * w.seconds;
const sentAt = new Map<string, number>();
const statuses: Promise<number>[] = [];
const t0 = performance.now();
for (let i = 0; i < total; i++) {
  const due = t0 + (i * 1000) / w.rate;
  const wait = due - performance.now();
  if (wait > 1) await new Promise((r) => setTimeout(r, wait));
  const text = `m${i}`;
  sentAt.set(text, performance.now());
  statuses.push(post(i % w.customers, text));
}
const codes = await Promise.all(statuses);
const deadline = performance.now() + 30_000;
while (received.size < total && performance.now() < deadline) await new Promise((r) => setTimeout(r, 20));
const lat = [...sentAt].filter(([k]) => received.has(k)).map(([k, v]) => received.get(k)! - v);
const elapsed = (Math.max(...received.values()) - t0) / 1000;
for (const ws of sockets) ws.close();
parentPort!.postMessage({ total, ok: codes.filter((c) => c === 200).length, lat, elapsed, errors: Object.fromEntries(errors) });
