// Bad input on every mail and chat route, table-driven (api-route-table.ts), on SQLite and
// PostgreSQL: the valid sample works; no credentials → 401; junk id → 400, unknown id → 404, a
// hostile id → 4xx; another user's record → 403/404; a missing system operation → 403 naming it;
// malformed JSON → 400 INVALID_JSON; wrong types → 400 VALIDATION_FAILED naming the field; junk
// paging → 400; and hostile strings (SQL, LIKE wildcards, backslash, NUL, lone surrogates, unicode,
// 10k characters) and forged cursors in every body string, query parameter and multipart field →
// never a 500.
//
// Nothing is limited to the validation layer: the mail routes run against a real Dovecot and a
// real SMTP server (a mailbox verified and synced from them; sending really submits and appends to
// Sent; a password change is re-verified), and the chat routes against the Telegram emulator.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dialects } from '../helpers/db.js';
import { startDovecot, type Dovecot } from '../helpers/dovecot.js';
import { startSmtpServer, type TestSmtpServer } from '../helpers/smtp-server.js';
import { ANN, BEN, FORGED_CURSORS, HOSTILE, ROUTES, UNKNOWN, label, stringLeaves, useApiFixtures, withLeaf, type ApiRoute, type Bench } from './api-route-table.js';

const DIALECTS = await dialects();

let dc: Dovecot;
let smtp: TestSmtpServer;

const QUOTE = [
  'From: Bob Builder <bob@client.example>',
  'To: Ann <ann@acme.test>',
  'Cc: Dana Client <dana@client.example>',
  'Subject: Quote for March',
  'Message-ID: <quote-1@client.example>',
  `Date: ${new Date(Date.now() - 3600_000).toUTCString()}`,
  'MIME-Version: 1.0',
  'Content-Type: multipart/mixed; boundary="b1"',
  '',
  '--b1',
  'Content-Type: text/plain; charset=utf-8',
  '',
  'Hello Ann, the quote is attached.',
  '--b1',
  'Content-Type: application/pdf; name="quote.pdf"',
  'Content-Disposition: attachment; filename="quote.pdf"',
  'Content-Transfer-Encoding: base64',
  '',
  Buffer.from('%PDF-1.4 quote').toString('base64'),
  '--b1--',
  '',
].join('\r\n');
const REPLY = [
  'From: Bob Builder <bob@client.example>',
  'To: Ann <ann@acme.test>',
  'Subject: Re: Quote for March',
  'Message-ID: <quote-2@client.example>',
  'In-Reply-To: <quote-1@client.example>',
  'References: <quote-1@client.example>',
  `Date: ${new Date().toUTCString()}`,
  '',
  'One more question about the quote.',
  '',
].join('\r\n');

beforeAll(async () => {
  [dc, smtp] = await Promise.all([startDovecot({ users: [ANN, BEN] }), startSmtpServer({ mode: 'starttls', users: [ANN, BEN] })]);
  await dc.append(ANN.user, 'INBOX', QUOTE);
  await dc.append(ANN.user, 'INBOX', REPLY);
});
afterAll(async () => {
  await Promise.all([dc?.close(), smtp?.close()]);
});

/** The routes with {params}, once per param: the others keep their real ids. */
const PARAM_CASES = ROUTES.flatMap((r) => [...r.path.matchAll(/\{(\w+)\}/g)].map((m) => ({ ...r, param: m[1] })));
const WITH_BODY = ROUTES.filter((r) => r.body);
const WITH_QUERY = ROUTES.filter((r) => r.query);
const CURSOR_ROUTES = ROUTES.filter((r) => r.query && 'cursor' in r.query({} as any));

type Res = { status: number; body: any };

/**
 * Runs the requests 16 at a time (which also exercises concurrent writers), waits for every one
 * (a failure never leaves requests in flight), and returns what `problem` says of each, if anything.
 */
async function sweep(cases: { what: string; run: () => Promise<Res> }[], problem: (what: string, res: Res) => string | null): Promise<string[]> {
  const out: string[] = [];
  for (let i = 0; i < cases.length; i += 16) {
    const settled = await Promise.allSettled(cases.slice(i, i + 16).map(async (c) => problem(c.what, await c.run())));
    settled.forEach((s, j) => {
      const what = cases[i + j].what;
      if (s.status === 'rejected') out.push(`${what}: ${String(s.reason)}`);
      else if (s.value) out.push(s.value);
    });
  }
  return out;
}

/**
 * Accepted (the value is fine), or refused as bad input (400), as naming something unknown (404),
 * as a conflict (409) or as failing verification (422) — never a 500, never a 401/403 (the caller
 * may do this) — with a JSON answer; and a NUL is always a 400 (PostgreSQL text cannot hold it).
 */
function hostileProblem(what: string, res: Res): string | null {
  const said = `${what} → ${res.status} ${JSON.stringify(res.body).slice(0, 300)}`;
  if (!(res.status >= 200 && res.status < 300) && ![400, 404, 409, 422].includes(res.status)) return said;
  if (!(res.body === null || typeof res.body === 'object')) return `${said} (not JSON)`;
  if (what.includes('\\u0000') && res.status !== 400) return `${said} (NUL must be a 400)`;
  return null;
}

describe.each(DIALECTS)('mail and chat bad input on %s', (dialect) => {
  const b: Bench = useApiFixtures(dialect, () => ({ dc, smtp }));
  const call = (r: ApiRoute, opts: { token?: string | null; params?: Record<string, string>; query?: Record<string, string>; body?: unknown } = {}) =>
    b.t.request(r.method, b.url(r, opts), { token: opts.token === undefined ? b.f.alice.token : opts.token, body: 'body' in opts ? opts.body : r.body?.(b.f) });

  it.each(ROUTES.filter((r) => r.ok))('$method $path: the valid sample works', async (r) => {
    const res = await call(r);
    expect(res.status, `${label(r)} → ${JSON.stringify(res.body).slice(0, 300)}`).toBe(r.ok);
  });

  it.each(ROUTES)('$method $path: no credentials → 401', async (r) => {
    const res = await call(r, { token: null });
    expect(res.status).toBe(401);
    expect(res.body.error.code).toBe('UNAUTHORIZED');
  });

  it.each(PARAM_CASES)('$method $path: junk {$param} → 400, unknown → 404, hostile → 400', async (r) => {
    const junk = await call(r, { params: { [r.param]: 'not-a-uuid' } });
    expect(junk.status, JSON.stringify(junk.body)).toBe(400);
    expect(junk.body.error.code).toBe('VALIDATION_FAILED');
    expect(junk.body.error.details.fields.map((x: any) => x.field)).toContain(`params.${r.param}`);
    const unknown = await call(r, { params: { [r.param]: UNKNOWN } });
    expect(unknown.status, JSON.stringify(unknown.body)).toBe(404);
    expect(unknown.body.error.code).toBe('NOT_FOUND');
    const hostile = HOSTILE.map((h) => ({ what: `${r.param}=${JSON.stringify(h.slice(0, 30))}`, run: () => call(r, { params: { [r.param]: h } }) }));
    // In the API's error format even when the router refuses the URL (bad percent-encoding).
    const refused = (res: Res) => res.status === 400 && res.body?.error?.code === 'VALIDATION_FAILED';
    expect(await sweep(hostile, (what, res) => (refused(res) ? null : `${what} → ${res.status} ${JSON.stringify(res.body).slice(0, 200)}`)), label(r)).toEqual([]);
  });

  it.each(ROUTES.filter((r) => r.params && !r.shared && !r.operation))("$method $path: another user's record → 403 or 404", async (r) => {
    const res = await call(r, { token: b.f.bob.token });
    expect([403, 404], `${label(r)} → ${JSON.stringify(res.body).slice(0, 200)}`).toContain(res.status);
  });

  it.each(ROUTES.filter((r) => r.operation))('$method $path: a user without the operation → 403 FORBIDDEN naming it', async (r) => {
    const res = await call(r, { token: b.f.bob.token });
    expect(res.status).toBe(403);
    expect(res.body.error).toMatchObject({ code: 'FORBIDDEN', details: { operation: r.operation } });
    expect(res.body.error.message).toContain(r.operation);
  });

  it.each(WITH_BODY)('$method $path: malformed JSON → 400 INVALID_JSON', async (r) => {
    const res = await b.t.request(r.method, b.url(r), { token: b.f.alice.token, raw: '{"name": "x",' });
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('INVALID_JSON');
  });

  it.each(WITH_BODY)('$method $path: a wrong type in each field → 400 VALIDATION_FAILED naming it', async (r) => {
    const sample = r.body!(b.f);
    for (const key of Object.keys(sample)) {
      // An object is wrong for every field here (strings, enums, ids, numbers, booleans, arrays).
      const res = await call(r, { body: { ...sample, [key]: { wrong: [1] } } });
      expect(res.status, `${label(r)} ${key} → ${JSON.stringify(res.body).slice(0, 200)}`).toBe(400);
      expect(res.body.error.code).toBe('VALIDATION_FAILED');
      const fields: string[] = res.body.error.details.fields.map((x: any) => x.field);
      expect(fields.some((x) => x.split('.').includes(key)), `${label(r)} ${key}: ${fields.join(',')}`).toBe(true);
    }
    const notAnObject = await call(r, { body: ['a'] });
    expect(notAnObject.status).toBe(400);
  });

  it.each(WITH_BODY)('$method $path: hostile strings in every body field never give a 500', async (r) => {
    // A fresh sample per request: samples that create something (a suggestion's contact, a
    // channel's bot) differ each time, so a hostile value gets as far as the insert, not a 409.
    const cases = stringLeaves(r.body!(b.f)).flatMap((leaf) =>
      HOSTILE.map((h) => ({ what: `body.${leaf.join('.')}=${JSON.stringify(h.slice(0, 30))}`, run: () => call(r, { body: withLeaf(r.body!(b.f), leaf, h) }) })),
    );
    expect(await sweep(cases, hostileProblem), label(r)).toEqual([]);
  });

  it.each(WITH_QUERY)('$method $path: hostile strings and forged cursors in every query parameter never give a 500', async (r) => {
    const query = r.query!(b.f);
    const cases = Object.keys(query).flatMap((key) =>
      [...HOSTILE, ...(key === 'cursor' ? FORGED_CURSORS : [])].map((h) => ({
        what: `?${key}=${JSON.stringify(h.slice(0, 30))}`,
        run: () => call(r, { query: { ...query, [key]: h } }),
      })),
    );
    expect(await sweep(cases, hostileProblem), label(r)).toEqual([]);
  });

  it.each(CURSOR_ROUTES)('$method $path: junk paging → 400', async (r) => {
    const query = r.query!(b.f);
    const junk: Record<string, string>[] = [{ limit: 'abc' }, { limit: '0' }, { limit: '100000' }, { cursor: '%%%' }, { cursor: 'x'.repeat(501) }];
    for (const bad of junk) {
      const res = await call(r, { query: { ...query, ...bad } });
      expect(res.status, `${label(r)} ${JSON.stringify(bad)}`).toBe(400);
      expect(res.body.error.code).toBe('VALIDATION_FAILED');
    }
  });

  it('multipart: hostile text, file names and message JSON never give a 500', async () => {
    const post = async (path: string, form: FormData): Promise<Res> => {
      const res = await fetch(`${b.t.url}${path}`, { method: 'POST', headers: { authorization: `Bearer ${b.f.alice.token}` }, body: form });
      const text = await res.text();
      return { status: res.status, body: text ? JSON.parse(text) : null };
    };
    const chatForm = (text: string | null, fileName?: string) => {
      const form = new FormData();
      if (text !== null) form.append('text', text);
      if (fileName !== undefined) form.append('file', new Blob([Buffer.from('%PDF-1.4 x')], { type: 'application/pdf' }), fileName);
      return form;
    };
    const mailForm = (message: string, fileName?: string) => {
      const form = new FormData();
      form.append('message', message);
      if (fileName !== undefined) form.append('file', new Blob([Buffer.from('file body')], { type: 'text/plain' }), fileName);
      return form;
    };
    const message = (over: Record<string, unknown>) => JSON.stringify({ mailboxId: b.f.mailbox, to: ['bob@client.example'], subject: 'Files', text: 'See the file.', ...over });
    const cases: { what: string; run: () => Promise<Res> }[] = [];
    for (const h of HOSTILE) {
      const s = JSON.stringify(h.slice(0, 20));
      cases.push({ what: `chat text=${s}`, run: () => post(`/api/chats/${b.f.chat}/messages`, chatForm(h)) });
      cases.push({ what: `chat file name=${s}`, run: () => post(`/api/chats/${b.f.chat}/messages`, chatForm('a file', h)) });
      cases.push({ what: `send message.subject=${s}`, run: () => post('/api/emails/send', mailForm(message({ subject: h }))) });
      cases.push({ what: `send message.text=${s}`, run: () => post('/api/emails/send', mailForm(message({ text: h }))) });
      cases.push({ what: `send file name=${s}`, run: () => post('/api/emails/send', mailForm(message({}), h)) });
      cases.push({ what: `send message=${s}`, run: () => post('/api/emails/send', mailForm(h)) });
    }
    expect(await sweep(cases, hostileProblem)).toEqual([]);
    // A NUL in a part is refused like one in a JSON body, naming the field.
    const field = (res: Res) => res.body.error.details.fields.map((x: any) => x.field);
    expect(field(await post(`/api/chats/${b.f.chat}/messages`, chatForm('a\u0000b')))).toEqual(['text']);
    expect(field(await post(`/api/chats/${b.f.chat}/messages`, chatForm('ok', 'a\u0000b.pdf')))).toEqual(['files.0.filename']);
    expect(field(await post('/api/emails/send', mailForm(message({ text: 'a\u0000b' }))))).toEqual(['message.text']);
    expect(field(await post('/api/emails/send', mailForm(message({}), 'a\u0000b.txt')))).toEqual(['files.0.filename']);
    // No text and no file, and eleven files, are refused naming the field.
    const empty = await post(`/api/chats/${b.f.chat}/messages`, chatForm(null));
    expect(empty.status).toBe(400);
    const eleven = chatForm('many');
    for (let i = 0; i < 11; i++) eleven.append('file', new Blob(['x'], { type: 'text/plain' }), `f${i}.txt`);
    expect((await post(`/api/chats/${b.f.chat}/messages`, eleven)).status).toBe(400);
  });

  it('hostile searches are literal, and the tables are still there', async () => {
    const alice = { token: b.f.alice.token };
    const all = (await b.t.request('GET', `/api/emails?mailboxId=${b.f.mailbox}&limit=500`, alice)).body.items as any[];
    expect(all.length).toBeGreaterThan(0);
    for (const q of ['%', '_', "' OR 1=1 --", '\\']) {
      const res = await b.t.request('GET', `/api/emails?q=${encodeURIComponent(q)}`, alice);
      expect(res.status).toBe(200);
      expect(res.body.items.length, q).toBeLessThan(all.length);
      const ops = await b.t.request('GET', `/api/operators?q=${encodeURIComponent(q)}`, alice);
      expect(ops.status).toBe(200);
      expect(ops.body.items, q).toEqual([]);
    }
    expect((await b.t.request('GET', '/api/chats?limit=1', alice)).status).toBe(200);
    expect((await b.t.request('GET', '/api/mailboxes', alice)).body.items.length).toBeGreaterThan(0);
  });
});
