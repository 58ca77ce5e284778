// B3/B5 against a real Dovecot, on SQLite and PostgreSQL: first sync of hostile fixtures, idempotent
// re-sync, one email for a message in two folders, flag changes and deletions, UIDVALIDITY change.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dialects } from '../helpers/db.js';
import { startDovecot, type Dovecot } from '../helpers/dovecot.js';
import { createMailHarness, fixtures, type MailHarness } from '../fixtures/mail/harness.js';
import { createMailModule, type MailModule } from '../../src/modules/mail/index.js';
import type { MailboxRecord } from '../../src/modules/mailboxes/types.js';

const DIALECTS = await dialects();

describe.each(DIALECTS)('mail sync on %s', (dialect) => {
  let dc: Dovecot;
  let h: MailHarness;
  let mail: MailModule;
  let mb: MailboxRecord;
  const USER = `alice-${dialect}@example.test`;

  beforeAll(async () => {
    dc = await startDovecot({ users: [{ user: USER, password: 'pw-alice' }] });
    h = await createMailHarness(dialect);
    mail = createMailModule(h.platform, { directory: h.directory, getSyncIntervalMinutes: async () => 10 }, { parseThreads: 0 });
    mb = h.directory.add({ dovecot: dc, user: USER });
    await dc.createFolder(USER, 'Work');
    await dc.createFolder(USER, 'Work/Sub');
    for (const f of fixtures()) await dc.append(USER, 'INBOX', f.raw, f.name.startsWith('10-') ? ['\\Seen'] : []);
  });
  afterAll(async () => {
    await mail?.stop();
    await h?.close();
    await dc?.close();
  });

  const emails = () => h.db.db.selectFrom('emails').selectAll().where('mailbox_id', '=', mb.id).execute();
  const locations = () => h.db.db.selectFrom('email_locations').selectAll().where('mailbox_id', '=', mb.id).execute();

  it('first sync stores every hostile fixture once, decoded, with attachments, threads and raw copies', async () => {
    const res = await mail.service.syncMailbox(mb.id);
    const fx = fixtures();
    expect(res?.newEmails).toBe(fx.length);
    const rows = await emails();
    expect(rows).toHaveLength(fx.length);
    const bySubject = (s: string) => rows.find((r) => r.subject === s);
    expect(bySubject('Привет, мир!')).toBeTruthy();
    expect(bySubject('Привет из КОИ-8')).toBeTruthy();
    expect(bySubject('Привет, мир!')!.from_name).toBe('Иван Петров');
    expect(bySubject('8-bit body without declaration')!.text_body).toContain('Привет');
    expect(bySubject('Broken boundary')!.text_body).toContain('first part text');
    expect(bySubject('Wrong charset')!.text_body).toContain('Plain body');
    const huge = bySubject('Huge headers')!;
    expect(huge.text_body ?? huge.parse_error).toBeTruthy();
    // Unparseable (nesting beyond the limit): stored raw, listed, marked — and never retried.
    const deep = bySubject('Deep nesting')!;
    expect(deep.parse_error).toMatch(/nesting/i);
    expect(deep.raw_file_key).toBeTruthy();
    expect((await h.platform.files.get(deep.raw_file_key!)).toString('latin1')).toContain('deep leaf');
    expect(rows.filter((r) => r.parse_error).length).toBe(1);
    const noId = bySubject('No date, no id')!;
    expect(noId.message_id).toBeNull();
    expect(noId.message_key.startsWith('h:')).toBe(true);
    // Raw bytes: kept locally for what failed to parse, fetched from the server for the rest.
    for (const r of rows) expect(!!r.raw_file_key).toBe(!!r.parse_error);
    const garbage = rows.find((r) => r.size < 80)!;
    expect(garbage).toBeTruthy();
    const raw = await mail.service.queries.raw(mb.userId, garbage.id);
    expect(raw.data!.toString('latin1')).toContain('this is not');
    const deepRaw = await mail.service.queries.raw(mb.userId, rows.find((r) => r.parse_error)!.id);
    expect(deepRaw.stream).toBeTruthy();

    const withAtt = bySubject('Report with attachment')!;
    expect(withAtt.has_attachments).toBe(1);
    const atts = await h.db.db.selectFrom('email_attachments').selectAll().where('email_id', '=', withAtt.id).orderBy('position').execute();
    expect(atts.map((a) => a.filename).sort()).toEqual(['logo.png', 'отчёт.pdf'].sort());
    const logo = atts.find((a) => a.filename === 'logo.png')!;
    expect(logo.inline).toBe(1);
    expect(logo.content_id).toBe('logo@client.example');
    expect((await h.platform.files.get(atts.find((a) => a.content_type === 'application/pdf')!.file_key)).toString('latin1')).toContain('%PDF-1.4');
    const parts = await h.db.db.selectFrom('email_participants').select(['address', 'role']).where('email_id', '=', withAtt.id).execute();
    expect(parts).toEqual(expect.arrayContaining([{ address: 'bob@client.example', role: 'from' }, { address: 'dave@example.test', role: 'cc' }]));

    // Reply joins the thread of its parent; sanitised display blocks remote images and scripts.
    expect(bySubject('Re: Report with attachment')!.thread_id).toBe(withAtt.thread_id);
    const view = await mail.service.queries.get(mb.userId, withAtt.id);
    expect(view.html).not.toContain('<script');
    expect(view.html).not.toMatch(/\ssrc="https:\/\/tracker/);
    expect(view.html).toContain('data-blocked-src="https://tracker.example/pixel.gif"');
    expect(view.html).toContain(`/api/emails/${withAtt.id}/attachments/${logo.id}`);
    expect(view.blockedImages).toBe(1);

    const flagged = bySubject('Re: Report with attachment')!;
    expect(JSON.parse(flagged.flags_json)).toContain('\\Seen');
    const st = await mail.service.syncStatus(mb.id);
    expect(st.state).toBe('idle');
    expect(st.lastSuccessAt).toBeTruthy();
    expect(st.folders.find((f) => f.path === 'INBOX')).toMatchObject({ selected: true, done: fx.length, total: fx.length });
  });

  it('a second sync changes nothing and a message in two folders stays one email', async () => {
    const before = (await emails()).length;
    const again = await mail.service.syncMailbox(mb.id);
    expect(again?.newEmails).toBe(0);
    expect((await emails()).length).toBe(before);

    // The same message copied into two folders → one email, three locations.
    const raw = 'From: carol@example.test\r\nTo: ' + USER + '\r\nSubject: Two folders\r\nMessage-ID: <two-folders@example.test>\r\nDate: Tue, 03 Nov 2026 09:00:00 +0000\r\n\r\nhello\r\n';
    await dc.append(USER, 'INBOX', raw);
    await dc.append(USER, 'Work', raw);
    await dc.append(USER, 'Work/Sub', raw);
    const res = await mail.service.syncMailbox(mb.id);
    expect(res?.newEmails).toBe(1);
    const rows = (await emails()).filter((r) => r.subject === 'Two folders');
    expect(rows).toHaveLength(1);
    const locs = (await locations()).filter((l) => l.email_id === rows[0].id);
    expect(locs.map((l) => l.folder).sort()).toEqual(['INBOX', 'Work', 'Work/Sub']);
    const list = await mail.service.queries.list(mb.userId, { mailboxId: mb.id, folder: 'Work/Sub', limit: 50 });
    expect(list.items.map((i) => i.subject)).toEqual(['Two folders']);
  });

  it('reflects flag changes and deletions made on the server', async () => {
    const rows = await emails();
    const target = rows.find((r) => r.subject === 'Wrong charset')!;
    const loc = (await locations()).find((l) => l.email_id === target.id)!;
    await dc.doveadm(['flags', 'add', '-u', USER, '\\Flagged \\Seen', 'mailbox', 'INBOX', 'uid', String(loc.uid)]);
    const gone = rows.find((r) => r.subject === 'Broken boundary')!;
    const goneLoc = (await locations()).find((l) => l.email_id === gone.id)!;
    await dc.doveadm(['expunge', '-u', USER, 'mailbox', 'INBOX', 'uid', String(goneLoc.uid)]);
    // Moved out of INBOX into Work: still one email, still not deleted.
    const moved = rows.find((r) => r.subject === 'Deep nesting')!;
    const movedLoc = (await locations()).find((l) => l.email_id === moved.id)!;
    await dc.doveadm(['move', '-u', USER, 'Work', 'mailbox', 'INBOX', 'uid', String(movedLoc.uid)]);

    const res = await mail.service.syncMailbox(mb.id);
    expect(res?.flagChanges).toBeGreaterThanOrEqual(1);
    expect(res?.removed).toBeGreaterThanOrEqual(2);
    const after = await emails();
    expect(JSON.parse(after.find((r) => r.id === target.id)!.flags_json).sort()).toEqual(['\\Flagged', '\\Seen']);
    expect(after.find((r) => r.id === gone.id)!.is_deleted).toBe(1);
    const movedRow = after.find((r) => r.id === moved.id)!;
    expect(movedRow.is_deleted).toBe(0);
    expect((await locations()).filter((l) => l.email_id === moved.id).map((l) => l.folder)).toEqual(['Work']);
    expect(after.filter((r) => r.subject === 'Deep nesting')).toHaveLength(1);
    const visible = await mail.service.queries.list(mb.userId, { mailboxId: mb.id, limit: 100 });
    expect(visible.items.some((i) => i.id === gone.id)).toBe(false);
  });

  it('UIDVALIDITY change → full resync without duplicates', async () => {
    const before = await emails();
    const locsBefore = (await locations()).filter((l) => l.folder === 'INBOX');
    const newValidity = await dc.bumpUidValidity(USER, 'INBOX');
    const res = await mail.service.syncMailbox(mb.id);
    expect(res?.newEmails).toBe(0);
    expect(res?.fetched).toBe(locsBefore.length);
    const after = await emails();
    expect(after.length).toBe(before.length);
    const inbox = (await locations()).filter((l) => l.folder === 'INBOX');
    expect(inbox.length).toBe(locsBefore.length);
    expect(new Set(inbox.map((l) => Number(l.uidvalidity)))).toEqual(new Set([newValidity]));
    expect(after.filter((r) => r.is_deleted === 0).length).toBe(before.filter((r) => r.is_deleted === 0).length);
  });

  it('merges two threads when a later message links them', async () => {
    const m = (id: string, extra = '') => `From: x@example.org\r\nTo: ${USER}\r\nSubject: thread ${id}\r\nMessage-ID: <${id}@t.example>\r\n${extra}\r\nbody\r\n`;
    await dc.append(USER, 'INBOX', m('ta'));
    await dc.append(USER, 'INBOX', m('tb'));
    await mail.service.syncMailbox(mb.id);
    const byId = async () => new Map((await emails()).filter((r) => r.subject.startsWith('thread ')).map((r) => [r.message_id, r.thread_id]));
    let t = await byId();
    expect(t.get('ta@t.example')).not.toBe(t.get('tb@t.example'));
    await dc.append(USER, 'INBOX', m('tc', 'References: <ta@t.example> <tb@t.example>\r\n'));
    await mail.service.syncMailbox(mb.id);
    t = await byId();
    expect(new Set([t.get('ta@t.example'), t.get('tb@t.example'), t.get('tc@t.example')]).size).toBe(1);
  });

  it('honours folder selection: a selected parent does not bring its children', async () => {
    h.directory.update(mb.id, { settings: { allFolders: false, selectedFolders: ['Work'] } });
    await mail.service.syncMailbox(mb.id);
    const folders = await mail.service.folders(mb.id);
    expect(folders.find((f) => f.path === 'Work')?.selected).toBe(true);
    expect(folders.find((f) => f.path === 'Work/Sub')?.selected).toBe(false);
    expect(folders.find((f) => f.path === 'INBOX')?.selected).toBe(false);
    expect(folders.find((f) => f.path === 'Sent')?.specialUse).toBe('\\Sent');
    h.directory.update(mb.id, { settings: { allFolders: true, selectedFolders: [] } });
  });
});
