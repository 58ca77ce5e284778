// The sync engine's plumbing against a real Dovecot, on SQLite and PostgreSQL: every server access
// goes through the connector registry chosen by the mailbox kind; a settings change reaches the
// worker holding the mailbox; a stalled server cannot hold a sync; slow connects do not stretch a
// tick past the lease TTL; mailboxes spread over the live workers.
import net from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { dialects } from '../helpers/db.js';
import { startDovecot, type Dovecot } from '../helpers/dovecot.js';
import { createFakeDirectory, createMailHarness, waitFor, type FakeDirectory, type MailHarness } from '../fixtures/mail/harness.js';
import { createMailModule, type MailModule } from '../../src/modules/mail/index.js';
import { fairShare } from '../../src/modules/mail/engine.js';
import { mailConnectors, type MailConnectors } from '../../src/connectors/mail/index.js';
import type { Platform } from '../../src/platform/index.js';

const DIALECTS = await dialects();

/** A TCP server on loopback; `handle` decides what each connection gets. */
async function listen(handle: (s: net.Socket) => void): Promise<{ port: number; sockets: Set<net.Socket>; close(): Promise<void> }> {
  const sockets = new Set<net.Socket>();
  const srv = net.createServer((s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    s.on('error', () => {});
    handle(s);
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  return {
    port: (srv.address() as net.AddressInfo).port,
    sockets,
    close: () => {
      for (const s of sockets) s.destroy();
      return new Promise((r) => srv.close(() => r()));
    },
  };
}

/** Something with a Dovecot's address for FakeDirectory.add, pointing elsewhere. */
const at = (port: number) => ({ host: '127.0.0.1', port, users: [] }) as unknown as Dovecot;

describe.each(DIALECTS)('mail sync engine on %s', (dialect) => {
  let dc: Dovecot;
  let h: MailHarness;
  const USER = `engine-${dialect}@example.test`;
  const modules: MailModule[] = [];

  beforeAll(async () => {
    dc = await startDovecot({ users: [{ user: USER, password: 'pw-engine' }] });
    h = await createMailHarness(dialect);
  });
  afterEach(async () => {
    for (const m of modules.splice(0)) await m.stop();
  });
  afterAll(async () => {
    await h?.close();
    await dc?.close();
  });

  function mk(platform: Platform = h.otherPlatform(), opts: Parameters<typeof createMailModule>[2] = {}) {
    const m = createMailModule(platform, { directory: h.directory, getSyncIntervalMinutes: async () => 10 }, { parseThreads: 0, tickMs: 300, pollMs: 500, leaseTtlMs: 3000, ...opts });
    modules.push(m);
    return m;
  }
  const stored = (mailboxId: string, subject: string) =>
    h.db.db.selectFrom('emails').select('id').where('mailbox_id', '=', mailboxId).where('subject', '=', subject).executeTakeFirst();

  it('sync, live watching, raw reads and sending go through the connector registry of the mailbox kind', async () => {
    const calls = { connect: 0, watch: 0 };
    const submitted: { envelope: { from: string; to: string[] }; raw: string }[] = [];
    const counting: MailConnectors = {
      imap: {
        ...mailConnectors.imap,
        connect: (a) => (calls.connect++, mailConnectors.imap.connect(a)),
        watch: (a, o) => (calls.watch++, mailConnectors.imap.watch(a, o)),
        // No SMTP server here: the registry's connector is what sends, so this one accepts.
        submit: async (_a, envelope, raw) => (submitted.push({ envelope, raw: raw.toString() }), { accepted: envelope.to, rejected: [] }),
      },
    };
    await dc.append(USER, 'INBOX', `From: reg@example.org\r\nSubject: Via registry\r\nMessage-ID: <registry-${dialect}@example.org>\r\n\r\nhello\r\n`);
    const mb = h.directory.add({ dovecot: dc, user: USER, settings: { allFolders: false, selectedFolders: ['INBOX'] } });
    const mail = mk(h.otherPlatform(), { connectors: counting });
    await mail.start({ worker: true, scheduler: false });
    await waitFor(() => stored(mb.id, 'Via registry'));
    await waitFor(() => calls.watch > 0);
    const email = (await stored(mb.id, 'Via registry'))!;
    const before = calls.connect;
    const raw = await mail.service.queries.raw(mb.userId, email.id);
    expect(raw.data!.toString()).toContain('Via registry');
    expect(calls.connect).toBe(before + 1);

    // Sending: submitted through the connector (exact bytes, Bcc only in the envelope), then the
    // copy filed in Sent over a session the connector opened.
    const sent = await mail.service.sender.send(mb.userId, { mailboxId: mb.id, to: ['to@example.org'], bcc: ['hidden@example.org'], subject: 'Sent via registry', text: 'hi' });
    expect(sent.status).toBe('sent');
    expect(submitted).toHaveLength(1);
    expect(submitted[0].envelope.to.sort()).toEqual(['hidden@example.org', 'to@example.org']);
    expect(submitted[0].raw).toContain('Subject: Sent via registry');
    expect(submitted[0].raw).not.toContain('hidden@example.org');
    expect(calls.connect).toBe(before + 2);

    // A kind without a connector fails in plain words and permanently (no retry loop).
    const ex = h.directory.add({ dovecot: dc, user: USER, settings: { allFolders: false, selectedFolders: ['INBOX'] } });
    h.directory.update(ex.id, { kind: 'exchange' });
    await expect(mail.service.syncMailbox(ex.id)).rejects.toMatchObject({ kind: 'permanent', message: expect.stringMatching(/exchange/) });
    expect((await mail.service.syncStatus(ex.id)).lastError).toMatch(/cannot be synced yet/);
  });

  it('a settings change processed by another worker restarts the lease holder\'s live connection', async () => {
    await dc.createFolder(USER, 'Projects');
    const mb = h.directory.add({ dovecot: dc, user: USER, settings: { allFolders: false, selectedFolders: ['INBOX'] } });
    // Worker A holds the mailbox and watches it; its job queue is not running. Worker B runs the
    // jobs (the change, the syncs) and holds no mailbox.
    const pA = h.otherPlatform();
    const pB = h.otherPlatform();
    const a = mk(pA);
    const b = mk(pB);
    await pB.jobs.start({ worker: true, scheduler: false });
    await a.start({ worker: true, scheduler: false });
    await waitFor(async () => (await h.platform.leases.holderOf(`mailbox:${mb.id}`)) === pA.instanceId && (await a.service.syncStatus(mb.id)).lastSuccessAt);

    h.directory.update(mb.id, { settings: { selectedFolders: ['INBOX', 'Projects'] } });
    await pB.jobs.enqueue('mail.mailbox-changed', { mailboxId: mb.id });
    // B's full sync after the change has seen Projects; anything appended later reaches the CRM
    // only through A's live connection (the periodic resync is minutes away).
    await waitFor(async () => {
      const f = await h.db.db.selectFrom('mail_folders').select(['selected', 'last_synced_at']).where('mailbox_id', '=', mb.id).where('path', '=', 'Projects').executeTakeFirst();
      const c = await pB.jobs.counts();
      return f?.selected === 1 && f.last_synced_at && c.waiting + c.active + c.delayed === 0;
    });
    await dc.append(USER, 'Projects', `From: p@example.org\r\nSubject: Into Projects\r\nMessage-ID: <projects-${dialect}@example.org>\r\n\r\nhello\r\n`);
    await waitFor(() => stored(mb.id, 'Into Projects'), 15_000);
    expect(await h.platform.leases.holderOf(`mailbox:${mb.id}`)).toBe(pA.instanceId);

    // Sync status reports "live" from the lease, also in a process that holds no connection.
    expect(b.service.engine.liveMailboxes()).toEqual([]);
    expect((await b.service.syncStatus(mb.id)).live).toBe(true);
    await a.stop();
    expect((await b.service.syncStatus(mb.id)).live).toBe(false);
  });

  it('a server that stops answering mid-sync fails the sync within the socket timeout, in plain words', async () => {
    await dc.createFolder(USER, 'Stall');
    for (let i = 0; i < 6; i++) await dc.append(USER, 'Stall', `From: s@example.org\r\nSubject: stall ${i}\r\nMessage-ID: <stall-${i}-${dialect}@example.org>\r\n\r\nbody ${i}\r\n`);
    // A proxy in front of Dovecot that, once told, swallows everything the server says.
    let stalled = false;
    const proxy = await listen((client) => {
      const server = net.connect(dc.port, '127.0.0.1');
      server.on('error', () => client.destroy());
      client.on('close', () => server.destroy());
      server.on('data', (b) => {
        if (!stalled) client.write(b);
      });
      client.on('data', (b) => server.write(b));
    });
    try {
      const mb = h.directory.add({ dovecot: at(proxy.port), user: USER, password: 'pw-engine', settings: { allFolders: false, selectedFolders: ['Stall'] } });
      const mail = mk(h.otherPlatform(), {
        socketTimeoutMs: 1000,
        batchCount: 2,
        afterBatch: () => {
          stalled = true;
        },
      });
      const t0 = Date.now();
      await expect(mail.service.syncMailbox(mb.id)).rejects.toMatchObject({ kind: 'transient' });
      expect(Date.now() - t0).toBeLessThan(10_000);
      const st = await mail.service.syncStatus(mb.id);
      expect(st.state).toBe('error');
      expect(st.lastError).toMatch(/connection to the mail server was lost/);
    } finally {
      await proxy.close();
    }
  });

  it('slow connects run in the background: a tick renews leases at once and a good mailbox behind them goes live', async () => {
    // Accepts connections and never greets: each connect waits for its greeting timeout (20 s).
    const blackhole = await listen(() => {});
    const dir: FakeDirectory = createFakeDirectory(h.db.db);
    try {
      for (let i = 0; i < 6; i++) dir.add({ dovecot: at(blackhole.port), user: `slow-${i}@example.test`, password: 'x', settings: { allFolders: false, selectedFolders: ['INBOX'] } });
      const good = dir.add({ dovecot: dc, user: USER, settings: { allFolders: false, selectedFolders: ['INBOX'] } });
      const p = h.otherPlatform();
      const mail = createMailModule(p, { directory: dir, getSyncIntervalMinutes: async () => 10 }, { parseThreads: 0, tickMs: 60_000, pollMs: 500, leaseTtlMs: 3000 });
      modules.push(mail);
      await mail.start({ worker: true, scheduler: false });
      await waitFor(() => blackhole.sockets.size >= 6, 10_000);
      const t0 = Date.now();
      await mail.service.engine.tick();
      expect(Date.now() - t0).toBeLessThan(2000);
      expect(await h.platform.leases.holderOf(`mailbox:${good.id}`)).toBe(p.instanceId);
      // Live: a message appended now arrives through its IDLE connection.
      await waitFor(() => h.db.db.selectFrom('mail_folders').select('id').where('mailbox_id', '=', good.id).executeTakeFirst(), 10_000);
      await dc.append(USER, 'INBOX', `From: f@example.org\r\nSubject: Past the slow ones\r\nMessage-ID: <past-slow-${dialect}@example.org>\r\n\r\nhi\r\n`);
      await waitFor(() => stored(good.id, 'Past the slow ones'), 10_000);
    } finally {
      await blackhole.close();
    }
  });

  it('spreads mailboxes over the live workers: a worker that started alone hands the excess to one that joins', async () => {
    expect([fairShare(6, 1), fairShare(6, 2), fairShare(7, 2), fairShare(0, 3)]).toEqual([7, 4, 5, 1]);
    const dir: FakeDirectory = createFakeDirectory(h.db.db);
    const ids = Array.from({ length: 6 }, () => dir.add({ dovecot: dc, user: USER, settings: { allFolders: false, selectedFolders: ['INBOX'] } }).id);
    const worker = () => {
      const m = createMailModule(h.otherPlatform(), { directory: dir, getSyncIntervalMinutes: async () => 10 }, { parseThreads: 0, tickMs: 300, pollMs: 5000, leaseTtlMs: 3000 });
      modules.push(m);
      return m;
    };
    const a = worker();
    await a.start({ worker: true, scheduler: false });
    await waitFor(() => a.service.engine.liveMailboxes().length === 6, 15_000);
    const b = worker();
    await b.start({ worker: true, scheduler: false });
    await waitFor(() => {
      const la = a.service.engine.liveMailboxes();
      const lb = b.service.engine.liveMailboxes();
      return la.length <= 4 && lb.length >= 2 && new Set([...la, ...lb]).size === 6;
    }, 20_000);
    const holders = await Promise.all(ids.map((id) => h.platform.leases.holderOf(`mailbox:${id}`)));
    expect(holders.every(Boolean)).toBe(true);
  });
});
