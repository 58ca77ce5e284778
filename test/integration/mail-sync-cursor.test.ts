// The per-folder cursor against a real Dovecot, on SQLite and PostgreSQL, with a load period that
// leaves mail out: the first message into an empty (or all-old) folder is announced, a widened
// period backfills older mail, and a UIDVALIDITY change keeps stored mail of any age.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dialects } from '../helpers/db.js';
import { startDovecot, type Dovecot } from '../helpers/dovecot.js';
import { createMailHarness, type MailHarness } from '../fixtures/mail/harness.js';
import { createMailModule, type MailModule } from '../../src/modules/mail/index.js';
import type { MailboxSettings } from '../../src/modules/mailboxes/types.js';

const DIALECTS = await dialects();
const DAY = 24 * 3600 * 1000;

describe.each(DIALECTS)('mail sync cursor on %s', (dialect) => {
  let dc: Dovecot;
  let h: MailHarness;
  let mail: MailModule;
  const USER = `cursor-${dialect}@example.test`;

  beforeAll(async () => {
    dc = await startDovecot({ users: [{ user: USER, password: 'pw-cursor' }] });
    h = await createMailHarness(dialect);
    mail = createMailModule(h.platform, { directory: h.directory, getSyncIntervalMinutes: async () => 10 }, { parseThreads: 0 });
  });
  afterAll(async () => {
    await mail?.stop();
    await h?.close();
    await dc?.close();
  });

  /** APPENDs a message whose INTERNALDATE and Date header lie `daysAgo` days back. */
  async function put(folder: string, tag: string, daysAgo: number, opts: { messageId?: boolean } = {}) {
    const at = new Date(Date.now() - daysAgo * DAY);
    const raw =
      `From: sender@example.org\r\nTo: ${USER}\r\nSubject: ${tag}\r\nDate: ${at.toUTCString()}\r\n` +
      (opts.messageId === false ? '' : `Message-ID: <${tag}-${dialect}@example.org>\r\n`) +
      `\r\n${tag} body\r\n`;
    return dc.append(USER, folder, raw, [], at);
  }

  function mailbox(folders: string[], settings: Partial<MailboxSettings>) {
    return h.directory.add({ dovecot: dc, user: USER, settings: { allFolders: false, selectedFolders: folders, ...settings } });
  }
  const subjects = async (mailboxId: string, deleted = 0) =>
    (await h.db.db.selectFrom('emails').select('subject').where('mailbox_id', '=', mailboxId).where('is_deleted', '=', deleted).execute()).map((r) => r.subject).sort();
  const announced = (mailboxId: string) =>
    h.events.filter((e) => e.event.type === 'email.received' && (e.event.data as { mailboxId: string }).mailboxId === mailboxId).map((e) => (e.event.data as { subject: string }).subject).sort();

  it('announces the first new message into an empty folder and into a folder with nothing inside the period', async () => {
    await dc.createFolder(USER, 'Empty');
    await dc.createFolder(USER, 'AllOld');
    await put('AllOld', 'old-a', 60);
    await put('AllOld', 'old-b', 90);
    const mb = mailbox(['Empty', 'AllOld'], { loadPeriod: 'month' });
    const first = await mail.service.syncMailbox(mb.id);
    expect(first?.newEmails).toBe(0);

    await put('Empty', 'first-into-empty', 0);
    await put('AllOld', 'first-recent', 0);
    const second = await mail.service.syncMailbox(mb.id);
    expect(second?.newEmails).toBe(2);
    expect(await subjects(mb.id)).toEqual(['first-into-empty', 'first-recent']);
    expect(announced(mb.id)).toEqual(['first-into-empty', 'first-recent']);
    const rows = await h.db.db.selectFrom('mail_folders').select(['path', 'loaded_since', 'last_uid']).where('mailbox_id', '=', mb.id).where('selected', '=', 1).execute();
    for (const r of rows) expect(r.loaded_since).toMatch(/^\d{4}-/);
  });

  it('a widened load period backfills older mail without announcing it; a narrowed one keeps what is stored', async () => {
    await dc.createFolder(USER, 'Period');
    for (const [tag, days] of [['p-10d', 10], ['p-60d', 60], ['p-120d', 120], ['p-400d', 400]] as const) await put('Period', tag, days);
    const mb = mailbox(['Period'], { loadPeriod: 'month' });
    await mail.service.syncMailbox(mb.id);
    expect(await subjects(mb.id)).toEqual(['p-10d']);

    h.directory.update(mb.id, { settings: { loadPeriod: '3months' } });
    const wider = await mail.service.syncMailbox(mb.id);
    expect(wider?.newEmails).toBe(1);
    expect(await subjects(mb.id)).toEqual(['p-10d', 'p-60d']);

    h.directory.update(mb.id, { settings: { loadPeriod: 'all' } });
    await mail.service.syncMailbox(mb.id);
    expect(await subjects(mb.id)).toEqual(['p-10d', 'p-120d', 'p-400d', 'p-60d']);
    const folder = await h.db.db.selectFrom('mail_folders').select('loaded_since').where('mailbox_id', '=', mb.id).where('path', '=', 'Period').executeTakeFirstOrThrow();
    expect(folder.loaded_since).toBe('all');

    // Narrowed: nothing is dropped, nothing reloaded; new mail is still announced.
    h.directory.update(mb.id, { settings: { loadPeriod: 'week' } });
    await put('Period', 'p-new', 0);
    const narrowed = await mail.service.syncMailbox(mb.id);
    expect(narrowed?.newEmails).toBe(1);
    expect(await subjects(mb.id)).toEqual(['p-10d', 'p-120d', 'p-400d', 'p-60d', 'p-new']);
    expect(announced(mb.id)).toEqual(['p-new']);
  });

  it('a UIDVALIDITY change keeps stored mail older than the load period and drops only what is gone', async () => {
    await dc.createFolder(USER, 'Rebuilt');
    await put('Rebuilt', 'v-recent', 2);
    await put('Rebuilt', 'v-old-1', 100);
    await put('Rebuilt', 'v-old-2', 200);
    await put('Rebuilt', 'v-old-no-id', 150, { messageId: false });
    const goneUid = await put('Rebuilt', 'v-old-gone', 120);
    // Stored while the period was "all"; then the user narrows it to a month.
    const mb = mailbox(['Rebuilt'], { loadPeriod: 'all' });
    await mail.service.syncMailbox(mb.id);
    const stored = await h.db.db.selectFrom('emails').select(['id', 'subject']).where('mailbox_id', '=', mb.id).execute();
    expect(stored).toHaveLength(5);
    h.directory.update(mb.id, { settings: { loadPeriod: 'month' } });

    await dc.doveadm(['expunge', '-u', USER, 'mailbox', 'Rebuilt', 'uid', String(goneUid)]);
    const validity = await dc.bumpUidValidity(USER, 'Rebuilt');
    const res = await mail.service.syncMailbox(mb.id);
    expect(res?.newEmails).toBe(0);
    expect(await subjects(mb.id)).toEqual(['v-old-1', 'v-old-2', 'v-old-no-id', 'v-recent']);
    expect(await subjects(mb.id, 1)).toEqual(['v-old-gone']);
    const after = await h.db.db.selectFrom('emails').select(['id', 'subject']).where('mailbox_id', '=', mb.id).execute();
    expect(after.map((r) => r.id).sort()).toEqual(stored.map((r) => r.id).sort());
    const locs = await h.db.db.selectFrom('email_locations').select(['uidvalidity', 'email_id']).where('mailbox_id', '=', mb.id).execute();
    expect(locs).toHaveLength(4);
    expect(new Set(locs.map((l) => Number(l.uidvalidity)))).toEqual(new Set([validity]));
    expect(announced(mb.id)).toEqual([]);

    // The next pass is an ordinary incremental one again.
    await put('Rebuilt', 'v-after', 0);
    const next = await mail.service.syncMailbox(mb.id);
    expect(next?.newEmails).toBe(1);
    expect(next?.fetched).toBe(1);
    expect(announced(mb.id)).toEqual(['v-after']);
  });

  it('a resync after a UIDVALIDITY change that is interrupted picks up again and still keeps everything', async () => {
    await dc.createFolder(USER, 'Rebuilt2');
    await put('Rebuilt2', 'w-recent', 1);
    for (let i = 0; i < 4; i++) await put('Rebuilt2', `w-old-${i}`, 60 + i);
    const mb = mailbox(['Rebuilt2'], { loadPeriod: 'all' });
    await mail.service.syncMailbox(mb.id);
    h.directory.update(mb.id, { settings: { loadPeriod: 'month' } });
    await dc.bumpUidValidity(USER, 'Rebuilt2');
    let batches = 0;
    const crashing = createMailModule(h.otherPlatform(), { directory: h.directory, getSyncIntervalMinutes: async () => 10 }, {
      parseThreads: 0,
      batchCount: 1,
      afterBatch: () => {
        if (++batches === 3) throw new Error('worker killed');
      },
    });
    try {
      await expect(crashing.service.syncMailbox(mb.id)).rejects.toThrow();
    } finally {
      await crashing.stop();
    }
    const res = await mail.service.syncMailbox(mb.id);
    expect(res?.newEmails).toBe(0);
    expect(await subjects(mb.id)).toEqual(['w-old-0', 'w-old-1', 'w-old-2', 'w-old-3', 'w-recent']);
    expect(await subjects(mb.id, 1)).toEqual([]);
    const locs = await h.db.db.selectFrom('email_locations').select('uidvalidity').where('mailbox_id', '=', mb.id).execute();
    expect(locs).toHaveLength(5);
    expect(new Set(locs.map((l) => Number(l.uidvalidity))).size).toBe(1);
  });
});
