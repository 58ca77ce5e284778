// The sync engine's plumbing against a real Dovecot, on SQLite and PostgreSQL: every server access
// goes through the connector registry chosen by the mailbox kind.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { dialects } from '../helpers/db.js';
import { startDovecot, type Dovecot } from '../helpers/dovecot.js';
import { createMailHarness, waitFor, type MailHarness } from '../fixtures/mail/harness.js';
import { createMailModule, type MailModule } from '../../src/modules/mail/index.js';
import { mailConnectors, type MailConnectors } from '../../src/connectors/mail/index.js';
import type { Platform } from '../../src/platform/index.js';

const DIALECTS = await dialects();

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

  it('sync, live watching and raw reads go through the connector registry of the mailbox kind', async () => {
    const calls = { connect: 0, watch: 0 };
    const counting: MailConnectors = {
      imap: {
        ...mailConnectors.imap,
        connect: (a) => (calls.connect++, mailConnectors.imap.connect(a)),
        watch: (a, o) => (calls.watch++, mailConnectors.imap.watch(a, o)),
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
    mk(pB);
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
  });
});
