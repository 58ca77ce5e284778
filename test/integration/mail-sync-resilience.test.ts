// B3/B5 resilience against a real Dovecot, on SQLite and PostgreSQL: a worker killed mid-sync and
// Dovecot restarted mid-sync both resume with no loss and no duplicate; with the engine running
// (worker role), a Dovecot restart mid-sync or during IDLE heals by itself, no sync call needed.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dialects } from '../helpers/db.js';
import { startDovecot, type Dovecot } from '../helpers/dovecot.js';
import { createMailHarness, waitFor, type MailHarness } from '../fixtures/mail/harness.js';
import { createMailModule } from '../../src/modules/mail/index.js';

const DIALECTS = await dialects();
const N = 40;

function message(i: number, user: string) {
  return {
    raw:
      `From: sender${i % 7}@example.org\r\nTo: ${user}\r\nSubject: Message ${i} — тест\r\n` +
      `Message-ID: <resilience-${i}@example.org>\r\nDate: Tue, 03 Nov 2026 09:${String(i % 60).padStart(2, '0')}:00 +0000\r\n` +
      `Content-Type: text/plain; charset=utf-8\r\n\r\nBody ${i}\r\n`,
  };
}

describe.each(DIALECTS)('mail sync resilience on %s', (dialect) => {
  let dc: Dovecot;
  let h: MailHarness;
  const USER = `bob-${dialect}@example.test`;

  beforeAll(async () => {
    dc = await startDovecot({ users: [{ user: USER, password: 'pw-bob' }] });
    h = await createMailHarness(dialect);
    await dc.seedMaildir(USER, 'INBOX', Array.from({ length: N }, (_, i) => message(i, USER)));
  });
  afterAll(async () => {
    await h?.close();
    await dc?.close();
  });

  const counts = async (mailboxId: string) => {
    const rows = await h.db.db.selectFrom('emails').select(['message_key']).where('mailbox_id', '=', mailboxId).execute();
    const locs = await h.db.db.selectFrom('email_locations').select(['uid']).where('mailbox_id', '=', mailboxId).execute();
    return { emails: rows.length, distinct: new Set(rows.map((r) => r.message_key)).size, locations: locs.length, distinctUids: new Set(locs.map((l) => Number(l.uid))).size };
  };

  it('a worker killed mid-sync (even before its cursor write) → restart loses nothing and duplicates nothing', async () => {
    const mb = h.directory.add({ dovecot: dc, user: USER });
    let batches = 0;
    const first = createMailModule(h.platform, { directory: h.directory, getSyncIntervalMinutes: async () => 10 }, {
      parseThreads: 0,
      batchCount: 5,
      afterBatch: () => {
        batches++;
        if (batches === 3) throw new Error('worker killed');
      },
    });
    await expect(first.service.syncMailbox(mb.id)).rejects.toThrow();
    await first.stop();
    const mid = await counts(mb.id);
    expect(mid.emails).toBe(15);
    // Simulate a crash between storing a batch and advancing the cursor: rewind it.
    await h.db.db.updateTable('mail_folders').set({ last_uid: 7 }).where('mailbox_id', '=', mb.id).where('path', '=', 'INBOX').execute();

    const second = createMailModule(h.otherPlatform(), { directory: h.directory, getSyncIntervalMinutes: async () => 10 }, { parseThreads: 0, batchCount: 5 });
    const res = await second.service.syncMailbox(mb.id);
    expect(res?.fetched).toBe(N - 7);
    expect(res?.newEmails).toBe(N - 15);
    expect(await counts(mb.id)).toEqual({ emails: N, distinct: N, locations: N, distinctUids: N });
    await second.stop();
  });

  it('Dovecot restarted mid-sync → the error is recorded in plain words and the next run resumes', async () => {
    const mb = h.directory.add({ dovecot: dc, user: USER });
    let batches = 0;
    const mail = createMailModule(h.otherPlatform(), { directory: h.directory, getSyncIntervalMinutes: async () => 10 }, {
      parseThreads: 0,
      batchCount: 5,
      afterBatch: async () => {
        batches++;
        if (batches === 2) await dc.restart();
      },
    });
    await expect(mail.service.syncMailbox(mb.id)).rejects.toThrow();
    const st = await mail.service.syncStatus(mb.id);
    expect(st.state).toBe('error');
    expect(st.lastError).toMatch(/connection|server/i);
    expect(st.nextAttemptAt).toBeTruthy();
    const mid = await counts(mb.id);
    // Batches are pipelined, so the one prefetched before the restart may have been stored too.
    expect(mid.emails).toBeGreaterThanOrEqual(10);
    expect(mid.emails).toBeLessThan(N);

    const res = await mail.service.syncMailbox(mb.id);
    expect(res?.fetched).toBe(N - mid.emails);
    expect(await counts(mb.id)).toEqual({ emails: N, distinct: N, locations: N, distinctUids: N });
    const after = await mail.service.syncStatus(mb.id);
    expect(after.state).toBe('idle');
    expect(after.nextAttemptAt).toBeNull();
    await mail.stop();
  });

  it('a wrong password marks the mailbox as needing re-authorisation and does not retry', async () => {
    const mb = h.directory.add({ dovecot: dc, user: USER, password: 'wrong-password' });
    const mail = createMailModule(h.otherPlatform(), { directory: h.directory, getSyncIntervalMinutes: async () => 10 }, { parseThreads: 0 });
    await expect(mail.service.syncMailbox(mb.id)).rejects.toMatchObject({ kind: 'auth' });
    const st = await mail.service.syncStatus(mb.id);
    expect(st.state).toBe('needs-reauth');
    expect(st.lastError).toMatch(/password|login/i);
    expect(h.directory.reauth.map((r) => r.id)).toContain(mb.id);
    await mail.stop();
  });
});

describe.each(DIALECTS)('engine-driven resume after a Dovecot restart on %s', (dialect) => {
  let dc: Dovecot;
  let h: MailHarness;
  const USER = `dora-${dialect}@example.test`;
  const M = 60;

  beforeAll(async () => {
    dc = await startDovecot({ users: [{ user: USER, password: 'pw-dora' }] });
    h = await createMailHarness(dialect);
    await dc.seedMaildir(USER, 'INBOX', Array.from({ length: M }, (_, i) => message(i, USER)));
  });
  afterAll(async () => {
    await h?.close();
    await dc?.close();
  });

  const stored = async (mailboxId: string) => {
    const rows = await h.db.db.selectFrom('emails').select(['message_key']).where('mailbox_id', '=', mailboxId).execute();
    return { emails: rows.length, distinct: new Set(rows.map((r) => r.message_key)).size };
  };
  const received = (subject: string) => h.events.find((e) => e.event.type === 'email.received' && (e.event.data as { subject: string }).subject === subject);
  const append = (n: string) => dc.append(USER, 'INBOX', `From: after@example.org\r\nTo: ${USER}\r\nSubject: ${n}\r\nMessage-ID: <${n.replace(/\s+/g, '-')}@example.org>\r\n\r\nhi\r\n`);

  it('Dovecot goes down mid first-sync and while IDLEing: the engine reconnects, finishes and delivers new mail, with no sync call', { timeout: 120_000 }, async () => {
    const mb = h.directory.add({ dovecot: dc, user: USER });
    const platform = h.otherPlatform();
    let batches = 0;
    let downAt = 0;
    const mail = createMailModule(platform, { directory: h.directory, getSyncIntervalMinutes: async () => 10 }, {
      parseThreads: 0,
      batchCount: 5,
      tickMs: 300,
      pollMs: 500,
      leaseTtlMs: 3000,
      backoffBaseMs: 200,
      afterBatch: async () => {
        batches++;
        if (batches !== 2) return;
        // Down mid first-sync, back 1.5 s later (the engine is not told).
        await dc.stop();
        downAt = Date.now();
        setTimeout(() => void dc.start(), 1500);
      },
    });
    try {
      await mail.start({ worker: true, scheduler: false });
      await platform.jobs.start({ worker: true, scheduler: false });

      // 1. Mid first-sync: the sync fails, the error is recorded, then everything arrives exactly once.
      await waitFor(() => downAt > 0, 30_000);
      const mid = await stored(mb.id);
      expect(mid.emails).toBeGreaterThan(0);
      expect(mid.emails).toBeLessThan(M);
      await waitFor(async () => (await mail.service.syncStatus(mb.id)).lastError, 20_000);
      await waitFor(async () => (await stored(mb.id)).emails >= M, 60_000, 100);
      expect(await stored(mb.id)).toEqual({ emails: M, distinct: M });
      await waitFor(async () => (await mail.service.syncStatus(mb.id)).state === 'idle', 30_000);
      const t1 = Date.now();
      await append('After first restart');
      await waitFor(() => received('After first restart'), 30_000);
      expect(Date.now() - t1).toBeLessThan(30_000);

      // 2. While IDLEing: Dovecot restarts (every connection dropped); mail appended after it comes
      // back arrives as email.received, and so does the next one, through the re-entered IDLE.
      await dc.restart();
      await append('After IDLE restart');
      await waitFor(() => received('After IDLE restart'), 30_000);
      const t2 = Date.now();
      await append('Second after IDLE restart');
      await waitFor(() => received('Second after IDLE restart'), 10_000);
      expect(Date.now() - t2).toBeLessThan(10_000);
      expect(await stored(mb.id)).toEqual({ emails: M + 3, distinct: M + 3 });
      expect(mail.service.engine.liveMailboxes()).toContain(mb.id);
    } finally {
      await mail.stop();
    }
  });
});
