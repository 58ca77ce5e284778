// Contact suggestions from mail (B5 "unknown senders can enrich contacts"), on SQLite and
// PostgreSQL through the real server. Mail is stored through the mail store (no IMAP server):
// suggestions exclude known contacts, own addresses, bcc and mail the caller cannot read; counts,
// names and paging; create links the old emails (timeline shows them) idempotently; dismiss.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dialects } from '../helpers/db.js';
import { startTestApp, type TestApp, type TestUser } from '../helpers/app.js';
import { parseMessage } from '../../src/modules/mail/parse.js';

const DIALECTS = await dialects();

function eml(h: { from: string; to: string; cc?: string; bcc?: string; date: string; subject: string }): Buffer {
  const lines = [
    `From: ${h.from}`,
    `To: ${h.to}`,
    ...(h.cc ? [`Cc: ${h.cc}`] : []),
    ...(h.bcc ? [`Bcc: ${h.bcc}`] : []),
    `Subject: ${h.subject}`,
    `Date: ${h.date}`,
    `Message-ID: <${randomUUID()}@test.example>`,
    'Content-Type: text/plain; charset=utf-8',
    '',
    `Body of ${h.subject}`,
    '',
  ];
  return Buffer.from(lines.join('\r\n'));
}

describe.each(DIALECTS)('contact suggestions on %s', (dialect) => {
  let t: TestApp;
  let ann: TestUser;
  let bob: TestUser;
  let annBox: string;
  let bobBox: string;

  async function addMailbox(userId: string, email: string): Promise<string> {
    const db = t.platform.db;
    const provider = await db.selectFrom('mail_providers').select('id').orderBy('id').executeTakeFirstOrThrow();
    const id = randomUUID();
    const now = new Date().toISOString();
    await db
      .insertInto('mailboxes')
      .values({
        id, user_id: userId, email, login: email, provider_id: provider.id, kind: 'imap', status: 'disabled', status_reason: null,
        load_period: 'all', auto_load: 0, all_folders: 1, selected_folders: '[]', send_enabled: 0, default_sender: null, alias: null,
        use_signature: 0, signature_html: null, created_at: now, updated_at: now,
      } as any)
      .execute();
    return id;
  }

  async function store(mailboxId: string, raw: Buffer, direction: 'in' | 'out' = 'in') {
    const stored = await t.modules.mail.store.ingest(mailboxId, [{ parsed: await parseMessage(raw), raw, direction, internalDate: null }]);
    expect(stored).toHaveLength(1);
    return stored[0].id;
  }

  async function suggestions(token: string, query = '') {
    const r = await t.request('GET', `/api/contact-suggestions${query}`, { token });
    expect(r.status).toBe(200);
    return r.body as { items: { email: string; name: string | null; messageCount: number; lastSeenAt: string }[]; nextCursor: string | null };
  }

  const annMail: string[] = [];
  beforeAll(async () => {
    t = await startTestApp({ dialect });
    ann = await t.createUser();
    bob = await t.createUser();
    annBox = await addMailbox(ann.id, 'ann@acme.test');
    bobBox = await addMailbox(bob.id, 'bob@acme.test');
    const known = await t.request('POST', '/api/contacts', { token: ann.token, body: { name: 'Known Person', emails: [{ email: 'Known@Client.example' }] } });
    expect(known.status).toBe(201);

    annMail.push(await store(annBox, eml({ from: 'Carol Client <carol@client.example>', to: 'Ann <ann@acme.test>', date: 'Thu, 01 Jan 2026 10:00:00 +0000', subject: 'c1' })));
    annMail.push(await store(annBox, eml({ from: '"Carol C." <Carol@Client.example>', to: 'ann@acme.test', cc: 'dave@x.example', date: 'Sun, 01 Feb 2026 10:00:00 +0000', subject: 'c2' })));
    await store(annBox, eml({ from: 'Ann <ann@acme.test>', to: 'Known <known@client.example>, Dave D <dave@x.example>', date: 'Thu, 15 Jan 2026 10:00:00 +0000', subject: 'd1' }), 'out');
    await store(annBox, eml({ from: 'Eve <eve@x.example>', to: 'ann@acme.test', bcc: 'zed@x.example', date: 'Mon, 05 Jan 2026 10:00:00 +0000', subject: 'e1' }));
    // Bob's mailbox: Ann may not read it.
    await store(bobBox, eml({ from: 'Mallory <mallory@secret.example>', to: 'bob@acme.test', date: 'Mon, 05 Jan 2026 10:00:00 +0000', subject: 'm1' }));
    await store(bobBox, eml({ from: 'Carol Client <carol@client.example>', to: 'bob@acme.test', date: 'Tue, 06 Jan 2026 10:00:00 +0000', subject: 'c-bob' }));
    await store(bobBox, eml({ from: 'Dave <dave@x.example>', to: 'bob@acme.test', date: 'Tue, 06 Jan 2026 11:00:00 +0000', subject: 'd-bob' }));
  }, 60_000);
  afterAll(async () => {
    await t?.close();
  });

  it('lists unknown correspondents of readable mail only, most frequent first, with names and dates', async () => {
    const page = await suggestions(ann.token);
    expect(page.nextCursor).toBeNull();
    expect(page.items).toEqual([
      { email: 'carol@client.example', name: 'Carol C.', messageCount: 2, lastSeenAt: '2026-02-01T10:00:00.000Z' },
      { email: 'dave@x.example', name: 'Dave D', messageCount: 2, lastSeenAt: '2026-02-01T10:00:00.000Z' },
      { email: 'eve@x.example', name: 'Eve', messageCount: 1, lastSeenAt: '2026-01-05T10:00:00.000Z' },
    ]);
    const bobs = await suggestions(bob.token);
    expect(bobs.items.map((i) => [i.email, i.messageCount])).toEqual([
      ['carol@client.example', 1],
      ['dave@x.example', 1],
      ['mallory@secret.example', 1],
    ]);
  });

  it('pages with a keyset cursor without repeats', async () => {
    const seen: string[] = [];
    let cursor: string | null = '';
    let pages = 0;
    while (cursor !== null) {
      const p = await suggestions(ann.token, `?limit=1${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
      expect(p.items.length).toBeLessThanOrEqual(1);
      seen.push(...p.items.map((i) => i.email));
      cursor = p.nextCursor;
      if (++pages > 5) throw new Error('paging does not end');
    }
    expect(seen).toEqual(['carol@client.example', 'dave@x.example', 'eve@x.example']);
    expect((await t.request('GET', '/api/contact-suggestions?cursor=not-a-cursor', { token: ann.token })).status).toBe(400);
    for (const k of [1.5, 1e308, -1, 'x']) {
      const forged = Buffer.from(JSON.stringify({ k, id: 'a@b.example' })).toString('base64url');
      expect((await t.request('GET', `/api/contact-suggestions?cursor=${forged}`, { token: ann.token })).status).toBe(400);
    }
    expect((await t.request('GET', '/api/contact-suggestions?limit=0', { token: ann.token })).status).toBe(400);
  });

  it('rejects anonymous callers and malformed input', async () => {
    const spec = await t.request('GET', '/api/openapi.json', { token: t.adminToken });
    expect(spec.status).toBe(200);
    expect(Object.keys(spec.body.paths)).toEqual(expect.arrayContaining(['/api/contact-suggestions', '/api/contact-suggestions/create', '/api/contact-suggestions/dismiss', '/api/contact-suggestions/lookup']));
    expect((await t.request('GET', '/api/contact-suggestions', {})).status).toBe(401);
    expect((await t.request('POST', '/api/contact-suggestions/create', { body: { email: 'x@y.example' } })).status).toBe(401);
    expect((await t.request('POST', '/api/contact-suggestions/dismiss', { body: { email: 'x@y.example' } })).status).toBe(401);
    const bad = await t.request('POST', '/api/contact-suggestions/create', { token: ann.token, body: { email: "not-an-email' OR 1=1 --" } });
    expect(bad.status).toBe(400);
    expect(bad.body.error.code).toBe('VALIDATION_FAILED');
    expect((await t.request('POST', '/api/contact-suggestions/create', { token: ann.token, body: {} })).status).toBe(400);
    expect((await t.request('POST', '/api/contact-suggestions/dismiss', { token: ann.token, body: { email: '' } })).status).toBe(400);
  });

  it('creates a contact with the name from mail and links the old emails of readable mailboxes, once', async () => {
    const r = await t.request('POST', '/api/contact-suggestions/create', { token: ann.token, body: { email: ' CAROL@client.example ' } });
    expect(r.status).toBe(201);
    expect(r.body.linked).toBe(2);
    const contactId = r.body.contactId as string;
    const c = await t.request('GET', `/api/contacts/${contactId}`, { token: ann.token });
    expect(c.status).toBe(200);
    expect(c.body.name).toBe('Carol C.');
    expect(c.body.ownerId).toBe(ann.id);
    expect(JSON.stringify(c.body.emails)).toContain('carol@client.example');

    const tl = await t.request('GET', `/api/contacts/${contactId}/timeline`, { token: ann.token });
    expect(tl.status).toBe(200);
    const emailIds = tl.body.items.filter((i: any) => i.source === 'mail').map((i: any) => i.data.emailId);
    expect(emailIds.sort()).toEqual([...annMail].sort());

    // Bob's copy from Carol is not Ann's to link.
    const links = () => t.platform.db.selectFrom('email_links').select(['email_id']).where('record_type', '=', 'contact').where('record_id', '=', contactId).execute();
    expect((await links()).map((l) => l.email_id).sort()).toEqual([...annMail].sort());

    // Re-running: the contact exists (409 naming it) and linking again adds nothing.
    const again = await t.request('POST', '/api/contact-suggestions/create', { token: ann.token, body: { email: 'carol@client.example' } });
    expect(again.status).toBe(409);
    expect(again.body.error.details.contactId).toBe(contactId);
    expect(await t.modules.mail.suggestions.linkAddress('carol@client.example', [annBox], { contactId, accountId: null })).toBe(0);
    expect(await links()).toHaveLength(2);

    // A known contact is never suggested, to anyone.
    expect((await suggestions(ann.token)).items.map((i) => i.email)).toEqual(['dave@x.example', 'eve@x.example']);
    expect((await suggestions(bob.token)).items.map((i) => i.email)).toEqual(['dave@x.example', 'mallory@secret.example']);

    // New mail from Carol is linked on arrival by mail sync's own linking (no duplicates either).
    const later = await store(annBox, eml({ from: 'carol@client.example', to: 'ann@acme.test', date: 'Sun, 01 Mar 2026 10:00:00 +0000', subject: 'c3' }));
    expect((await links()).map((l) => l.email_id)).toContain(later);
    expect(await links()).toHaveLength(3);
  });

  it('uses the given name and 409s for an existing visible contact', async () => {
    const r = await t.request('POST', '/api/contact-suggestions/create', { token: ann.token, body: { email: 'eve@x.example', name: 'Eve Evans' } });
    expect(r.status).toBe(201);
    expect(r.body.linked).toBe(1);
    expect((await t.request('GET', `/api/contacts/${r.body.contactId}`, { token: ann.token })).body.name).toBe('Eve Evans');
    const known = await t.request('POST', '/api/contact-suggestions/create', { token: ann.token, body: { email: 'known@client.example' } });
    expect(known.status).toBe(409);
    expect(typeof known.body.error.details.contactId).toBe('string');
  });

  it('never answers hostile strings with a 500', async () => {
    const HOSTILE = ["'; DROP TABLE emails; --", '%', '_', '\\', '" OR 1=1 --', 'Ωмега 🚀 \u0000', 'x'.repeat(10_000), "o'hara%_@x.example"];
    for (const h of HOSTILE) {
      const calls = [
        t.request('POST', '/api/contact-suggestions/create', { token: bob.token, body: { email: h } }),
        t.request('POST', '/api/contact-suggestions/create', { token: bob.token, body: { email: 'hostile@nowhere.example', name: h } }),
        t.request('POST', '/api/contact-suggestions/dismiss', { token: bob.token, body: { email: h } }),
        t.request('GET', `/api/contact-suggestions/lookup?emails=${encodeURIComponent(h)}`, { token: bob.token }),
        t.request('GET', `/api/contact-suggestions?cursor=${encodeURIComponent(h)}`, { token: bob.token }),
      ];
      for (const r of await Promise.all(calls)) expect(r.status, `${h.slice(0, 40)}: ${JSON.stringify(r.body).slice(0, 200)}`).toBeLessThan(500);
      // The first legal name creates that contact; later rounds answer 409 (a 10k name is a 400).
    }
    const tables = await t.platform.db.selectFrom('emails').select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow();
    expect(Number(tables.n)).toBeGreaterThan(0);
  });

  it('looks up which addresses of a message have a visible contact or are own', async () => {
    const r = await t.request('GET', `/api/contact-suggestions/lookup?emails=${encodeURIComponent('Known@client.example,ann@acme.test,nobody@x.example')}`, { token: ann.token });
    expect(r.status).toBe(200);
    const by = Object.fromEntries(r.body.items.map((i: any) => [i.email, i]));
    expect(by['known@client.example'].contactId).toEqual(expect.any(String));
    expect(by['ann@acme.test']).toEqual({ email: 'ann@acme.test', contactId: null, own: true });
    expect(by['nobody@x.example']).toEqual({ email: 'nobody@x.example', contactId: null, own: false });
    const many = Array.from({ length: 51 }, (_, i) => `a${i}@x.example`).join(',');
    expect((await t.request('GET', `/api/contact-suggestions/lookup?emails=${many}`, { token: ann.token })).status).toBe(400);
    expect((await t.request('GET', '/api/contact-suggestions/lookup', { token: ann.token })).status).toBe(400);
    expect((await t.request('GET', '/api/contact-suggestions/lookup?emails=a@b.example', {})).status).toBe(401);
  });

  it('dismisses an address for the caller only, idempotently', async () => {
    for (let i = 0; i < 2; i++) {
      const d = await t.request('POST', '/api/contact-suggestions/dismiss', { token: ann.token, body: { email: 'Dave@X.example' } });
      expect(d.status).toBe(200);
    }
    expect((await suggestions(ann.token)).items.map((i) => i.email)).toEqual([]);
    expect((await suggestions(bob.token)).items.map((i) => i.email)).toEqual(['dave@x.example', 'mallory@secret.example']);
  });
});
