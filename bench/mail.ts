// Mail ingestion benchmark (B3/B5), all in one run against a private real Dovecot:
//   (a) bare loop: imapflow FETCH 1:* (source) + postal-mime parse, nothing stored;
//   (b) Switchboard's first sync of the same folder to the API-visible state (rows + files),
//       as msg/s, the ratio b/a and the peak RSS of this process;
//   (c) APPEND → `email.received` latency (p50/p95) over 100 messages with the live engine (IDLE).
// Usage: npm run bench -- mail [--n=10000] [--pg] [--threads=1] [--latency=100]
import { performance } from 'node:perf_hooks';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { ImapFlow } from 'imapflow';
import PostalMime from 'postal-mime';
import { simpleParser } from 'mailparser';
import { startDovecot, type SeedMessage } from '../test/helpers/dovecot.js';
import { createMailHarness, waitFor } from '../test/fixtures/mail/harness.js';
import { createMailModule } from '../src/modules/mail/index.js';
import { concatBlobClass } from '../src/modules/mail/concat-blob.js';

const arg = (name: string, def: string) => process.argv.find((a) => a.startsWith(`--${name}=`))?.split('=')[1] ?? (process.argv.includes(`--${name}`) ? 'true' : def);
const N = Number(arg('n', '10000'));
const THREADS = Number(arg('threads', '1'));
const LAT = Number(arg('latency', '100'));
const DIALECT = arg('pg', 'false') === 'true' ? 'postgres' : 'sqlite';
const USER = 'bench@example.test';

// Deterministic pseudo-random so runs are comparable.
let seed = 42;
const rnd = () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);
const WORDS = ['meeting', 'invoice', 'contract', 'delivery', 'project', 'budget', 'report', 'привет', 'счёт', 'договор', 'встреча', 'Grüße', 'naïve', 'status', 'update', 'quarter'];
const para = (n: number) => Array.from({ length: n }, () => WORDS[Math.floor(rnd() * WORDS.length)]).join(' ');

function makeMessage(i: number): SeedMessage {
  const kind = rnd();
  const from = `sender${i % 97}@partner${i % 13}.example`;
  const head =
    `From: Sender ${i % 97} <${from}>\r\nTo: ${USER}\r\nCc: team${i % 5}@example.test\r\n` +
    `Subject: =?UTF-8?B?${Buffer.from(`${para(4)} #${i}`).toString('base64')}?=\r\n` +
    `Date: ${new Date(Date.UTC(2026, 9, 1) + i * 60_000).toUTCString()}\r\nMessage-ID: <bench-${i}@partner.example>\r\n` +
    (i % 10 === 3 ? `In-Reply-To: <bench-${i - 1}@partner.example>\r\nReferences: <bench-${i - 1}@partner.example>\r\n` : '') +
    `MIME-Version: 1.0\r\n`;
  let raw: string;
  if (kind < 0.65) {
    raw = head + `Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n${Array.from({ length: 8 }, () => para(40)).join('\r\n\r\n')}\r\n`;
  } else if (kind < 0.9) {
    const text = Array.from({ length: 5 }, () => para(40)).join('\r\n\r\n');
    raw =
      head +
      `Content-Type: multipart/alternative; boundary="alt${i}"\r\n\r\n--alt${i}\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n${text}\r\n` +
      `--alt${i}\r\nContent-Type: text/html; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n<html><body><p>${text.replace(/\r\n\r\n/g, '</p><p>')}</p></body></html>\r\n--alt${i}--\r\n`;
  } else {
    const att = Buffer.alloc(6000, i % 251).toString('base64').replace(/.{76}/g, '$&\r\n');
    raw =
      head +
      `Content-Type: multipart/mixed; boundary="mix${i}"\r\n\r\n--mix${i}\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n${para(60)}\r\n` +
      `--mix${i}\r\nContent-Type: application/pdf; name="doc-${i}.pdf"\r\nContent-Disposition: attachment; filename="doc-${i}.pdf"\r\nContent-Transfer-Encoding: base64\r\n\r\n${att}\r\n--mix${i}--\r\n`;
  }
  return { raw, flags: rnd() < 0.6 ? ['\\Seen'] : [] };
}

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
};

async function main() {
  const dc = await startDovecot({ users: [{ user: USER, password: 'bench-pw' }] });
  try {
    console.log(`seeding ${N} messages…`);
    const msgs = Array.from({ length: N }, (_, i) => makeMessage(i));
    const bytes = msgs.reduce((a, m) => a + Buffer.byteLength(m.raw), 0);
    await dc.seedMaildir(USER, 'INBOX', msgs);
    console.log(`seeded: ${N} messages, avg ${(bytes / N / 1024).toFixed(1)} KB, ${msgs.filter((m) => String(m.raw).includes('multipart/mixed')).length} with attachments`);

    // (a) bare loop — and the parser choice: postal-mime vs mailparser on the same sources.
    const bare = async (parse: (b: Buffer) => Promise<unknown>) => {
      const c = new ImapFlow({ host: dc.host, port: dc.port, secure: false, doSTARTTLS: false, auth: { user: USER, pass: 'bench-pw' }, logger: false });
      await c.connect();
      await c.mailboxOpen('INBOX', { readOnly: true });
      const t0 = performance.now();
      let n = 0;
      for await (const m of c.fetch('1:*', { uid: true, flags: true, source: true }, { uid: true })) {
        await parse(m.source!);
        n++;
      }
      const s = (performance.now() - t0) / 1000;
      await c.logout();
      return { n, rate: n / s, s };
    };
    // Best of two runs: the reference machine is shared, and a single run can land in a load spike.
    const a1 = await bare((b) => PostalMime.parse(b));
    const a2 = await bare((b) => PostalMime.parse(b));
    const a = a1.rate >= a2.rate ? a1 : a2;
    console.log(`(a) bare imapflow fetch + postal-mime parse: ${a.n} msgs in ${a.s.toFixed(1)} s = ${a.rate.toFixed(0)} msg/s`);
    const am = await bare((b) => simpleParser(b));
    console.log(`    same loop with mailparser: ${am.rate.toFixed(0)} msg/s (postal-mime is ${(a.rate / am.rate).toFixed(2)}x)`);
    // Switchboard's parse worker replaces the Blob postal-mime uses (src/modules/mail/concat-blob.ts);
    // the same loop with that change is the fairer baseline, so the ratio is given against both.
    const realBlob = globalThis.Blob;
    let a2s: Awaited<ReturnType<typeof bare>>;
    try {
      (globalThis as { Blob: unknown }).Blob = concatBlobClass();
      a2s = await bare((b) => PostalMime.parse(b));
    } finally {
      globalThis.Blob = realBlob;
    }
    console.log(`    same loop with Switchboard's Blob stand-in: ${a2s.rate.toFixed(0)} msg/s`);

    // (b) and (c) run in a child process so its peak RSS is Switchboard's alone (not this
    // process's seeding buffers and the mailparser comparison).
    const out = await new Promise<string>((resolve, reject) => {
      const c = spawn(process.execPath, [...process.execArgv, fileURLToPath(import.meta.url), '--phase=sync', `--port=${dc.port}`, `--bare=${a.rate}`, `--bare2=${a2s.rate}`, ...process.argv.slice(2)], { stdio: ['ignore', 'pipe', 'inherit'] });
      let buf = '';
      c.stdout.on('data', (d) => {
        buf += d;
        process.stdout.write(d);
      });
      c.on('exit', (code) => (code === 0 ? resolve(buf) : reject(new Error(`sync phase exited with ${code}`))));
    });
    void out;
  } finally {
    await dc.close();
  }
}


async function syncPhase() {
  const port = Number(arg('port', '0'));
  const bareRate = Number(arg('bare', '0'));
  const bare2Rate = Number(arg('bare2', '0'));
  const dc = { host: '127.0.0.1', port, users: [{ user: USER, password: 'bench-pw' }], append: async (user: string, folder: string, raw: string) => {
    const c = await appendClient();
    await c.append(folder, Buffer.from(raw));
  } } as const;
  let ac: ImapFlow | null = null;
  async function appendClient() {
    if (ac && ac.usable) return ac;
    ac = new ImapFlow({ host: '127.0.0.1', port, secure: false, doSTARTTLS: false, auth: { user: USER, pass: 'bench-pw' }, logger: false });
    ac.on('error', () => {});
    await ac.connect();
    return ac;
  }
  const a = { rate: bareRate };
  // (b) Switchboard first sync.
  const h = await createMailHarness(DIALECT as 'sqlite' | 'postgres');
  const mb = h.directory.add({ dovecot: dc as unknown as Parameters<typeof h.directory.add>[0]['dovecot'], user: USER });
  const mail = createMailModule(h.platform, { directory: h.directory, getSyncIntervalMinutes: async () => 10 }, { parseThreads: THREADS, tickMs: 200, pollMs: 30_000 });
  let peak = process.memoryUsage().rss;
  let atPeak = process.memoryUsage();
  const sampler = setInterval(() => {
    const m = process.memoryUsage();
    if (m.rss > peak) [peak, atPeak] = [m.rss, m];
  }, 50);
  const rssBefore = process.memoryUsage().rss;
  if (process.env.BENCH_GC_PROBE) console.log(`    [probe] before sync: heap used ${(process.memoryUsage().heapUsed / 1048576).toFixed(0)} MB`);
  const t0 = performance.now();
  const cpu0 = process.cpuUsage();
  const res = await mail.service.syncMailbox(mb.id);
  const visible = await h.db.db.selectFrom('emails').select((eb) => eb.fn.countAll<number>().as('n')).where('mailbox_id', '=', mb.id).executeTakeFirstOrThrow();
  const bs = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  clearInterval(sampler);
  const g = (globalThis as { gc?: () => void }).gc;
  if (process.env.BENCH_GC_PROBE && g) {
    g();
    console.log(`    [probe] after sync + full GC: heap used ${(process.memoryUsage().heapUsed / 1048576).toFixed(0)} MB, rss ${(process.memoryUsage().rss / 1048576).toFixed(0)} MB`);
  }
  const rate = Number(visible.n) / bs;
  console.log(`(b) Switchboard first sync (${DIALECT}, parse threads ${THREADS}): ${visible.n} emails visible in ${bs.toFixed(1)} s = ${rate.toFixed(0)} msg/s; fetched ${res?.fetched}`);
  // CPU time of this process (all its threads) is steadier than wall time on a shared machine.
  console.log(`    CPU ${((cpu.user + cpu.system) / 1000 / Number(visible.n) * 1000).toFixed(0)} ms per 1000 messages (user ${(cpu.user / 1e6).toFixed(1)} s, system ${(cpu.system / 1e6).toFixed(1)} s, all threads)`);
  console.log(`    ratio b/a = ${((rate / a.rate) * 100).toFixed(0)} % (target ≥ 85 %)${bare2Rate ? `; against the loop with the same Blob stand-in ${((rate / bare2Rate) * 100).toFixed(0)} %` : ''}`);
  const maxRss = process.resourceUsage().maxRSS * 1024;
  console.log(`    peak RSS ${(Math.max(peak, maxRss) / 1048576).toFixed(0)} MB for the whole sync process (at start ${(rssBefore / 1048576).toFixed(0)} MB; target < 300 MB)`);
  const toMb = (x: number) => (x / 1048576).toFixed(0);
  console.log(`    at the sampled peak: V8 heap ${toMb(atPeak.heapUsed)}/${toMb(atPeak.heapTotal)} MB used/reserved (all threads' isolates count in RSS, only this one here), external ${toMb(atPeak.external)} MB (array buffers ${toMb(atPeak.arrayBuffers)} MB)`);

  // (c) APPEND → email.received latency with the live engine.
  await mail.start({ worker: true, scheduler: false });
  await waitFor(() => mail.service.engine.liveMailboxes().includes(mb.id), 30_000);
  await new Promise((r) => setTimeout(r, 500));
  const lat: number[] = [];
  for (let i = 0; i < LAT; i++) {
    const subject = `latency-${i}`;
    const t = Date.now();
    await dc.append(USER, 'INBOX', `From: live@example.org\r\nTo: ${USER}\r\nSubject: ${subject}\r\nMessage-ID: <lat-${i}@example.org>\r\n\r\nping\r\n`);
    const ev = await waitFor(() => h.events.find((e) => e.event.type === 'email.received' && (e.event.data as { subject: string }).subject === subject), 30_000, 5);
    lat.push(ev!.at - t);
  }
  console.log(`(c) APPEND → email.received over ${LAT}: p50 ${pct(lat, 50)} ms, p95 ${pct(lat, 95)} ms, max ${Math.max(...lat)} ms (target p95 ≤ 2000 ms)`);
  await mail.stop();
  await h.close();
  await (ac as ImapFlow | null)?.logout().catch(() => {});
}

(arg('phase', '') === 'sync' ? syncPhase() : main()).then(
  () => process.exit(0),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
