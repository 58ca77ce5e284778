// B5 / scale shape with real processes on PostgreSQL: a Switchboard worker (`switchboard start`,
// ROLES=worker, its own OS process) takes the mailbox lease and starts the first sync of a Dovecot
// mailbox seeded with 3,000 messages; it is SIGKILLed once some but not all are stored (no chance
// to release the lease, finish a batch or advance its cursor). A second worker process then takes
// the lease over and finishes the sync: every message is stored exactly once.
//
// The API runs in this test process with ROLES=api (it only creates the mailbox and queues jobs in
// the shared PostgreSQL schema). The product's lease TTL is 45 s; instead of sleeping it out, the
// dead worker's lease is expired in the database right after the kill ("45 s later"). The TTL
// itself is covered by mail-sync-idle.test.ts.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { hasPostgres } from '../helpers/services.js';
import { startDovecot, type Dovecot } from '../helpers/dovecot.js';
import { startSmtpServer, type TestSmtpServer } from '../helpers/smtp-server.js';
import { startServerProcess, type ServerProcess } from '../helpers/server-process.js';
import { waitFor } from '../fixtures/mail/harness.js';
import { nowIso } from '../../src/platform/db/index.js';

const PG = await hasPostgres();
const N = 3000;
const USER = { user: 'kim@acme.test', password: 'kim-imap-pw-1' };

function message(i: number) {
  return {
    raw:
      `From: sender${i % 13}@client.example\r\nTo: ${USER.user}\r\nSubject: Order ${i}\r\n` +
      `Message-ID: <kill-${i}@client.example>\r\nDate: Tue, 03 Nov 2026 ${String(8 + (i % 10)).padStart(2, '0')}:${String(i % 60).padStart(2, '0')}:00 +0000\r\n` +
      `Content-Type: text/plain; charset=utf-8\r\n\r\nOrder ${i}: ${'x'.repeat(i % 200)}\r\n`,
  };
}

describe.runIf(PG)('a worker process killed mid first-sync on PostgreSQL', () => {
  let dc: Dovecot;
  let smtp: TestSmtpServer;
  let t: TestApp;
  const workers: ServerProcess[] = [];

  beforeAll(async () => {
    [dc, smtp] = await Promise.all([startDovecot({ users: [USER] }), startSmtpServer({ mode: 'plain', users: [USER] })]);
    await dc.seedMaildir(USER.user, 'INBOX', Array.from({ length: N }, (_, i) => message(i)));
    t = await startTestApp({ dialect: 'postgres', env: { ROLES: 'api' } });
  });
  afterAll(async () => {
    for (const w of workers) await w.kill('SIGKILL');
    await t?.close();
    await Promise.all([dc?.close(), smtp?.close()]);
  });

  const startWorker = async () => {
    const w = await startServerProcess({ ...t.db.env, ROLES: 'worker', LOG_LEVEL: 'info' });
    workers.push(w);
    return { w, instanceId: JSON.parse(await w.waitForLog(/Switchboard started/)).instanceId as string };
  };

  it('a second worker takes the lease over and stores every message exactly once', { timeout: 90_000 }, async () => {
    const db = t.db.db;
    const p = await t.request('POST', '/api/mail-providers', {
      token: t.adminToken,
      body: { name: 'Acme', type: 'imap', imap: { host: dc.host, port: dc.port, security: 'none' }, smtp: { host: smtp.host, port: smtp.port, security: 'none' } },
    });
    expect(p.status).toBe(201);
    const owner = await t.createUser();
    const mb = await t.request('POST', '/api/mailboxes', { token: owner.token, body: { email: USER.user, password: USER.password, providerId: p.body.id } });
    expect(mb.status).toBe(201);
    const mailboxId: string = mb.body.id;
    const lease = `mailbox:${mailboxId}`;
    const stored = async () => Number((await db.selectFrom('emails').select((eb) => eb.fn.countAll().as('n')).where('mailbox_id', '=', mailboxId).executeTakeFirstOrThrow()).n);

    const a = await startWorker();
    await waitFor(async () => (await stored()) >= 200, 40_000, 20);
    expect(await t.platform.leases.holderOf(lease)).toBe(a.instanceId);
    await a.w.kill('SIGKILL');
    const atKill = await stored();
    // Mid-sync: some stored, far from all (a batch is at most 100 messages).
    expect(atKill).toBeGreaterThanOrEqual(200);
    expect(atKill).toBeLessThan(N);
    // The dead worker could not release its lease: it still names worker A until it expires.
    const row = await db.selectFrom('leases').select(['holder']).where('name', '=', lease).executeTakeFirstOrThrow();
    expect(row.holder).toBe(a.instanceId);
    // The kill usually lands between a batch's commit and the next; also rewind the cursor by a
    // batch and a half, as a crash between storing a batch and writing the cursor would leave it,
    // so the next worker certainly refetches messages that are already stored.
    const cursor = await db.selectFrom('mail_folders').select(['id', 'last_uid']).where('mailbox_id', '=', mailboxId).where('path', '=', 'INBOX').executeTakeFirstOrThrow();
    expect(Number(cursor.last_uid)).toBeGreaterThan(0);
    await db.updateTable('mail_folders').set({ last_uid: Math.max(0, Number(cursor.last_uid) - 150) }).where('id', '=', cursor.id).execute();
    await db.updateTable('leases').set({ expires_at: nowIso(new Date(Date.now() - 1)) }).where('name', '=', lease).where('holder', '=', a.instanceId).execute();

    const b = await startWorker();
    await waitFor(async () => (await stored()) >= N, 60_000, 200);
    expect(await t.platform.leases.holderOf(lease)).toBe(b.instanceId);

    const emails = await db.selectFrom('emails').select(['message_key', 'message_id']).where('mailbox_id', '=', mailboxId).execute();
    const locations = await db.selectFrom('email_locations').select(['uid', 'folder']).where('mailbox_id', '=', mailboxId).execute();
    expect(emails).toHaveLength(N);
    expect(new Set(emails.map((e) => e.message_key)).size).toBe(N);
    const ids = new Set(emails.map((e) => e.message_id));
    expect(ids.size).toBe(N);
    expect(Array.from({ length: N }, (_, i) => `kill-${i}@client.example`).filter((id) => !ids.has(id))).toEqual([]);
    expect(locations).toHaveLength(N);
    expect(new Set(locations.map((l) => `${l.folder}:${l.uid}`)).size).toBe(N);
    // The folder cursor reached the end of the mailbox.
    const inbox = await db.selectFrom('mail_folders').select(['last_uid']).where('mailbox_id', '=', mailboxId).where('path', '=', 'INBOX').executeTakeFirstOrThrow();
    expect(Number(inbox.last_uid)).toBe(N);
  });
});
