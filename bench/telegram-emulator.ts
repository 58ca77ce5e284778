// Telegram emulator + connector overhead, so chat benchmarks can tell the emulator's share of a
// latency figure from Switchboard's own.
//   1. webhook push: open-loop customer messages at RATE msg/s over CHATS chats to a no-op receiver;
//      latency = customer message created → webhook request received.
//   2. sendMessage through the connector client: sequential and 20 concurrent calls.
// Run: npx tsx bench/telegram-emulator.ts [rate=200] [seconds=10]
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { startTelegramEmulator } from '../src/emulators/telegram/index.js';
import { createTelegramClient } from '../src/connectors/telegram/index.js';

const RATE = Number(process.argv[2] ?? 200);
const SECONDS = Number(process.argv[3] ?? 10);
const CHATS = 50;

function pct(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

const tg = await startTelegramEmulator();
const { token } = tg.createBot({ username: 'bench_bot' });
const sentAt: number[] = [];
const latencies: number[] = [];
const receiver = createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    const u = JSON.parse(Buffer.concat(chunks).toString()) as { message: { text: string } };
    const t = sentAt[Number(u.message.text.slice(1))];
    if (t !== undefined) latencies.push(performance.now() - t);
    res.writeHead(200).end();
  });
});
await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
const hookUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;
const client = createTelegramClient({ apiRoot: tg.url, token });
await client.setWebhook({ url: hookUrl, secretToken: 'bench' });

const total = RATE * SECONDS;
const cpu0 = process.cpuUsage();
const started = performance.now();
for (let i = 0; i < total; i += 1) {
  const due = started + (i * 1000) / RATE;
  const wait = due - performance.now();
  if (wait > 1) await new Promise((r) => setTimeout(r, wait));
  const chat = 1_000_000 + (i % CHATS);
  sentAt[i] = performance.now();
  // Not awaited: open loop, arrivals do not wait for deliveries.
  void tg.customerSends(token, { from: { id: chat, first_name: `C${chat}` }, text: `m${i}` });
}
const deadline = Date.now() + 30_000;
while (latencies.length < total && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
const elapsed = (performance.now() - started) / 1000;
const cpu = process.cpuUsage(cpu0);
const cpuPerMsg = (cpu.user + cpu.system) / 1000 / total;
const sorted = [...latencies].sort((a, b) => a - b);
console.log(
  `webhook push   ${RATE} msg/s × ${SECONDS}s over ${CHATS} chats: delivered ${latencies.length}/${total} in ${elapsed.toFixed(1)}s` +
    (sorted.length ? `   latency p50 ${pct(sorted, 50).toFixed(1)} ms  p95 ${pct(sorted, 95).toFixed(1)} ms  p99 ${pct(sorted, 99).toFixed(1)} ms` : '') +
    `   CPU ${cpuPerMsg.toFixed(2)} ms/msg (emulator + receiver + load generator in one process)`,
);

await client.deleteWebhook({ dropPendingUpdates: true });
await tg.customerSends(token, { from: { id: 42, first_name: 'Ann' }, text: 'hi' });
const N = 2000;
let t0 = performance.now();
for (let i = 0; i < N / 4; i += 1) await client.sendMessage(42, `reply ${i}`);
const seq = (N / 4 / (performance.now() - t0)) * 1000;
t0 = performance.now();
let next = 0;
await Promise.all(
  Array.from({ length: 20 }, async () => {
    while (next < N) {
      next += 1;
      await client.sendMessage(42, `reply ${next}`);
    }
  }),
);
const par = (N / (performance.now() - t0)) * 1000;
console.log(`sendMessage    sequential ${Math.round(seq)} calls/s   20 concurrent ${Math.round(par)} calls/s   rss ${Math.round(process.memoryUsage().rss / 1e6)} MB`);

await tg.close();
receiver.closeAllConnections();
receiver.close();
