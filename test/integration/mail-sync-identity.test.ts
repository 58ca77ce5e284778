// What a stored message is, against a real Dovecot on SQLite and PostgreSQL: hostile text (NUL in
// names, filenames, content types) is cleaned before it reaches the database, and messages without
// a Message-ID are told apart by their bytes while copies of one message stay one email.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dialects } from '../helpers/db.js';
import { startDovecot, type Dovecot } from '../helpers/dovecot.js';
import { createMailHarness, FIXTURE_DIR, type MailHarness } from '../fixtures/mail/harness.js';
import { createMailModule, type MailModule } from '../../src/modules/mail/index.js';
import { identityKey, messageKey, parseMessage } from '../../src/modules/mail/parse.js';

const DIALECTS = await dialects();
const hostile = (name: string) => readFileSync(join(FIXTURE_DIR, 'hostile', name));

describe.each(DIALECTS)('stored mail identity on %s', (dialect) => {
  let dc: Dovecot;
  let h: MailHarness;
  let mail: MailModule;
  const USER = `ident-${dialect}@example.test`;

  beforeAll(async () => {
    dc = await startDovecot({ users: [{ user: USER, password: 'pw-ident' }] });
    h = await createMailHarness(dialect);
    mail = createMailModule(h.platform, { directory: h.directory, getSyncIntervalMinutes: async () => 10 }, { parseThreads: 0 });
  });
  afterAll(async () => {
    await mail?.stop();
    await h?.close();
    await dc?.close();
  });

  const emails = (mailboxId: string) => h.db.db.selectFrom('emails').selectAll().where('mailbox_id', '=', mailboxId).execute();
  const locations = (mailboxId: string) => h.db.db.selectFrom('email_locations').selectAll().where('mailbox_id', '=', mailboxId).execute();

  it('NUL in display names, attachment filenames, content types and headers is cleaned, and the batch is stored', async () => {
    await dc.createFolder(USER, 'Nul');
    // Maildir files carry the bytes as they are (an IMAP APPEND literal may not contain NUL).
    await dc.seedMaildir(USER, 'Nul', [
      { raw: hostile('nul-bytes.eml') },
      { raw: hostile('nul-bytes-unparseable.eml') },
      { raw: 'From: plain@example.org\r\nSubject: Plain neighbour\r\nMessage-ID: <nul-neighbour@example.org>\r\n\r\nsame batch\r\n' },
    ]);
    const mb = h.directory.add({ dovecot: dc, user: USER, settings: { allFolders: false, selectedFolders: ['Nul'] } });
    const res = await mail.service.syncMailbox(mb.id);
    expect(res?.newEmails).toBe(3);
    const rows = await emails(mb.id);
    const all = JSON.stringify(rows);
    expect(all).not.toContain('\u0000');
    const nul = rows.find((r) => r.message_id === 'nul-bytes@example.org')!;
    expect(nul.from_name).toBe('Evil Sender');
    expect(nul.subject).toBe('NUL in every field');
    expect(JSON.parse(nul.to_json)).toEqual(expect.arrayContaining([{ name: 'Victim', address: 'victim@example.test' }]));
    const atts = await h.db.db.selectFrom('email_attachments').selectAll().where('email_id', '=', nul.id).execute();
    expect(atts).toHaveLength(1);
    expect(atts[0].filename).toBe('report.txt');
    // Dovecot hands a raw NUL out as 0x80 (decoded as U+FFFD); other servers pass it through,
    // which the parser-level check below covers.
    expect(atts[0].content_type).toMatch(/^application\/x-.?evil$/);
    expect(atts[0].content_id).not.toContain('\u0000');
    const deep = rows.find((r) => r.message_id === 'nul-deep@example.org')!;
    expect(deep.parse_error).toBeTruthy();
    expect(deep.subject).toBe('Unparseable with NUL');
    expect(JSON.stringify(await h.db.db.selectFrom('email_participants').selectAll().execute())).not.toContain('\u0000');
    expect(rows.some((r) => r.subject === 'Plain neighbour')).toBe(true);
  });

  it('the parser cleans raw NUL bytes wherever a server passes them through', async () => {
    const p = await parseMessage(hostile('nul-bytes.eml'));
    expect(JSON.stringify({ ...p, attachments: p.attachments.map((a) => ({ ...a, content: null })) })).not.toContain('\\u0000');
    expect(p.attachments[0].contentType).toBe('application/x-evil');
    expect(p.to.map((a) => a.name)).toEqual(['Victim', 'Raw Name']);
    expect(p.text).toContain('NUL here: end');
    const deep = await parseMessage(hostile('nul-bytes-unparseable.eml'));
    expect(deep.parseError).toBeTruthy();
    expect(JSON.stringify(deep)).not.toContain('\\u0000');
    expect(deep.headers.find((x) => x.key === 'x-note')?.value).toBe('=?UTF-8?Q?encoded=00word?= and a rawbyte');
  });

  it('messages without a Message-ID are told apart by their bytes; a byte-identical copy stays one email', async () => {
    await dc.createFolder(USER, 'NoId');
    await dc.createFolder(USER, 'NoIdCopies');
    // Same From, Date, Subject and size: only the body differs.
    const raw = (body: string) => `From: cron@example.org\r\nTo: ${USER}\r\nSubject: Nightly report\r\nDate: Tue, 03 Nov 2026 03:00:00 +0000\r\n\r\n${body}\r\n`;
    await dc.append(USER, 'NoId', raw('result: aaaa'));
    await dc.append(USER, 'NoId', raw('result: bbbb'));
    await dc.append(USER, 'NoIdCopies', raw('result: aaaa'));
    const mb = h.directory.add({ dovecot: dc, user: USER, settings: { allFolders: false, selectedFolders: ['NoId', 'NoIdCopies'] } });
    const res = await mail.service.syncMailbox(mb.id);
    expect(res?.newEmails).toBe(2);
    const rows = await emails(mb.id);
    expect(rows.map((r) => r.text_body?.trim()).sort()).toEqual(['result: aaaa', 'result: bbbb']);
    const a = rows.find((r) => r.text_body?.includes('aaaa'))!;
    expect((await locations(mb.id)).filter((l) => l.email_id === a.id).map((l) => l.folder).sort()).toEqual(['NoId', 'NoIdCopies']);
    const p = await parseMessage(Buffer.from(raw('result: aaaa')));
    expect(a.message_key).toBe(identityKey(p, Buffer.from(raw('result: aaaa'))));
    expect(identityKey(p, Buffer.from(raw('result: bbbb')))).not.toBe(a.message_key);
    expect(identityKey({ messageId: 'x@y' }, Buffer.from('anything'))).toBe('mid:x@y');
  });

  it('a message stored under the legacy from/date/subject/size key is re-matched, never duplicated, on re-fetch', async () => {
    const mb = h.directory.add({ dovecot: dc, user: USER, settings: { allFolders: false, selectedFolders: ['NoId', 'NoIdCopies'] } });
    await mail.service.syncMailbox(mb.id);
    const before = await emails(mb.id);
    expect(before).toHaveLength(2);
    // Turn both rows into what an earlier version stored (only one of two same-tuple messages
    // survived that: the other one's location is moved onto it, as the old key merged them).
    const [keep, lost] = before;
    const p = await parseMessage(Buffer.from(`From: cron@example.org\r\nTo: ${USER}\r\nSubject: Nightly report\r\nDate: Tue, 03 Nov 2026 03:00:00 +0000\r\n\r\nresult: aaaa\r\n`));
    const legacy = messageKey(p, keep.size, p.headers.find((x) => x.key === 'date')?.value);
    await h.db.db.updateTable('email_locations').set({ email_id: keep.id }).where('email_id', '=', lost.id).execute();
    await h.db.db.deleteFrom('emails').where('id', '=', lost.id).execute();
    await h.db.db.updateTable('emails').set({ message_key: legacy }).where('id', '=', keep.id).execute();
    // Re-fetch everything: cursors rewound and a UIDVALIDITY change in one folder.
    await h.db.db.updateTable('mail_folders').set({ last_uid: 0 }).where('mailbox_id', '=', mb.id).execute();
    await dc.bumpUidValidity(USER, 'NoIdCopies');
    const res = await mail.service.syncMailbox(mb.id);
    expect(res?.newEmails).toBe(0);
    const after = await emails(mb.id);
    expect(after.map((r) => r.id)).toEqual([keep.id]);
    expect(after[0].message_key).toBe(legacy);
    expect(after[0].is_deleted).toBe(0);
    expect((await locations(mb.id)).every((l) => l.email_id === keep.id)).toBe(true);
  });
});
