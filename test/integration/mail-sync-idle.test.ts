// B3 live delivery against a real Dovecot, on SQLite and PostgreSQL: the worker holding the
// mailbox lease IDLEs INBOX and polls the other folders; an APPEND shows up as `email.received`
// within seconds. When the lease holder is gone, another worker takes the mailbox over once the
// lease expires (the lease row lives in the database, so both engines are exercised).
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { dialects } from '../helpers/db.js';
import { startDovecot, type Dovecot } from '../helpers/dovecot.js';
import { createMailHarness, waitFor, type MailHarness } from '../fixtures/mail/harness.js';
import { createMailModule, type MailModule } from '../../src/modules/mail/index.js';

const DIALECTS = await dialects();

describe.each(DIALECTS)('live sync on %s', (dialect) => {
  const USER = `carol-${dialect}@example.test`;
  let dc: Dovecot;
  let h: MailHarness;
  const modules: MailModule[] = [];

  beforeAll(async () => {
    dc = await startDovecot({ users: [{ user: USER, password: 'pw-carol' }] });
    await dc.createFolder(USER, 'Projects');
    await dc.append(USER, 'INBOX', `From: old@example.org\r\nSubject: Old one\r\nMessage-ID: <old-1@example.org>\r\n\r\nold\r\n`);
    h = await createMailHarness(dialect);
  });
  // Each test's workers stop with it: a worker left running from an earlier test would race the
  // next test's worker for the same lease.
  afterEach(async () => {
    for (const m of modules.splice(0)) await m.stop();
  });
  afterAll(async () => {
    await h?.close();
    await dc?.close();
  });

  function mk(platform = h.otherPlatform(), opts: Parameters<typeof createMailModule>[2] = {}) {
    const m = createMailModule(platform, { directory: h.directory, getSyncIntervalMinutes: async () => 10 }, { parseThreads: 0, tickMs: 300, pollMs: 500, leaseTtlMs: 3000, ...opts });
    modules.push(m);
    return m;
  }

  const received = (subject: string) => h.events.find((e) => e.event.type === 'email.received' && (e.event.data as { subject: string }).subject === subject);

  it('delivers an appended INBOX message as email.received within seconds, and polled folders too', async () => {
    const mb = h.directory.add({ dovecot: dc, user: USER });
    const mail = mk();
    await mail.start({ worker: true, scheduler: false });
    await waitFor(async () => mail.service.engine.liveMailboxes().includes(mb.id) && (await mail.service.syncStatus(mb.id)).lastSuccessAt);

    const t0 = Date.now();
    await dc.append(USER, 'INBOX', `From: live@example.org\r\nTo: ${USER}\r\nSubject: Live one\r\nMessage-ID: <live-1@example.org>\r\n\r\nhello\r\n`);
    const ev = (await waitFor(() => received('Live one'), 15_000))!;
    expect(ev.userIds).toEqual([mb.userId]);
    expect(ev.at - t0).toBeLessThan(10_000);
    expect((ev.event.data as { mailboxId: string }).mailboxId).toBe(mb.id);
    // The initial load is not announced message by message.
    expect(received('Old one')).toBeUndefined();

    await dc.append(USER, 'Projects', `From: poll@example.org\r\nTo: ${USER}\r\nSubject: Polled one\r\nMessage-ID: <polled-1@example.org>\r\n\r\nhello\r\n`);
    await waitFor(async () => {
      const r = await h.db.db.selectFrom('emails').select('id').where('mailbox_id', '=', mb.id).where('subject', '=', 'Polled one').executeTakeFirst();
      return !!r;
    }, 20_000);
    expect(h.events.some((e) => e.event.type === 'sync.status')).toBe(true);
    expect(await h.platform.leases.holderOf(`mailbox:${mb.id}`)).toBeTruthy();
  });

  it('a folder created on the server is watched live once a sync has seen it', { timeout: 60_000 }, async () => {
    const mb = h.directory.add({ dovecot: dc, user: USER });
    const mail = mk();
    await mail.start({ worker: true, scheduler: false });
    await waitFor(async () => mail.service.engine.liveMailboxes().includes(mb.id) && (await mail.service.syncStatus(mb.id)).lastSuccessAt);
    const folder = `Later-${dialect}`;
    await dc.createFolder(USER, folder);
    // The periodic resync (10 minutes here) is what lists folders; run one now.
    await mail.service.syncMailbox(mb.id);
    // Mail arriving in the new folder afterwards comes in live (STATUS polling), no further sync.
    await new Promise((r) => setTimeout(r, 1500)); // a tick restarts the watcher over the new folder set
    await dc.append(USER, folder, `From: later@example.org\r\nTo: ${USER}\r\nSubject: In the new folder\r\nMessage-ID: <later-${dialect}@example.org>\r\n\r\nhello\r\n`);
    const ev = await waitFor(() => received('In the new folder'), 15_000);
    expect((ev!.event.data as { mailboxId: string }).mailboxId).toBe(mb.id);
  });

  it('another worker takes a mailbox over when its lease holder died', async () => {
    const mb = h.directory.add({ dovecot: dc, user: USER });
    // A "dead" worker holds the lease and never renews it.
    expect(await h.platform.leases.acquire(`mailbox:${mb.id}`, 'dead-worker', 2000)).toBe(true);
    const mail = mk();
    await mail.start({ worker: true, scheduler: false });
    const t0 = Date.now();
    await waitFor(() => mail.service.engine.liveMailboxes().includes(mb.id), 20_000);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(1000);
    expect(await h.platform.leases.holderOf(`mailbox:${mb.id}`)).not.toBe('dead-worker');
  });
});
