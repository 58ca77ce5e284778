// The mail routes (mailboxes, sync, folders, emails, sending, contact suggestions, notifications)
// and the chat routes (queues, channels, operators, chat settings, chats) as a table with valid
// samples, for api-bad-input.test.ts; route-coverage.test.ts checks it together with the other
// tables. The fixtures are real: a mailbox verified against a real Dovecot and SMTP server and
// synced from it (so emails, attachments, threads and links exist), and a Telegram channel on the
// emulator with a customer's chat and photo. Every valid sample works as-is, so in the hostile
// sweeps the hostile value is the only thing wrong with a request. No route is limited to the
// validation layer.
import { afterAll, beforeAll, expect } from 'vitest';
import { startTelegramEmulator, type TelegramEmulator } from '../../src/emulators/telegram/index.js';
import type { Dialect } from '../../src/platform/db/index.js';
import type { SystemOperation } from '../../src/platform/http/auth.js';
import type { MailProvidersService } from '../../src/modules/mail-providers/index.js';
import { startTestApp, type TestApp, type TestUser } from '../helpers/app.js';
import type { Dovecot } from '../helpers/dovecot.js';
import type { TestSmtpServer } from '../helpers/smtp-server.js';
import { encodeCursor } from '../../src/platform/http/paging.js';

export const UNKNOWN = '00000000-0000-4000-8000-000000000000';
const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');

// As in crm-route-table.ts: string-built SQL, LIKE wildcards and the escape character, PostgreSQL's
// refusal of NUL, a lone UTF-16 surrogate (invalid UTF-8 on the wire), multi-byte text, length.
export const HOSTILE = [
  "'; DROP TABLE emails; -- ' OR '1'='1",
  '%',
  '_\\',
  'Ωмега 🚀 中文 Ünïcødé',
  'nul\u0000byte',
  'lone \ud800 surrogate',
  'x'.repeat(10_000),
];
// Cursors a client could forge: base64 JSON of the wrong shapes, and a key of the wrong type.
export const FORGED_CURSORS = [b64({ k: 'abc', id: 'x' }), b64({ k: { a: 1 }, id: UNKNOWN }), b64({ k: 1.5e308, id: UNKNOWN }), b64({ k: "'; --", id: "' OR 1=1" }), b64([1, 2]), b64(null)];

/** Mail users of the test Dovecot/SMTP: Ann's mailbox is the fixture, Ben's is added by the POST sample. */
export const ANN = { user: 'ann@acme.test', password: 'ann-imap-pw-1' };
export const BEN = { user: 'ben@acme.test', password: 'ben-imap-pw-2' };

export interface Fixtures {
  /** Owns the mailbox, serves the queue, holds CanManageChats. */
  alice: TestUser;
  /** A plain user: no system operation, no mailbox, in no queue. */
  bob: TestUser;
  providerId: string;
  mailbox: string;
  email: string;
  attachment: string;
  thread: string;
  contact: string;
  account: string;
  notification: string;
  queue: string;
  /** The channel the chat came in on; sample PATCHes go to `spareChannel` so it keeps working. */
  channel: string;
  spareChannel: string;
  spareChannelToken: string;
  /** A new bot on the emulator, for the POST /api/chat-channels sample. */
  newBotToken(): string;
  chat: string;
  chatFile: string;
  /** The contact the chat made for the customer. */
  chatContact: string;
}

export interface ApiRoute {
  method: 'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE';
  /** As in the OpenAPI document; each {param} is filled from `params`. */
  path: string;
  params?: (f: Fixtures) => Record<string, string>;
  body?: (f: Fixtures) => Record<string, unknown>;
  query?: (f: Fixtures) => Record<string, string>;
  /** A system operation the route needs: a plain user gets 403 FORBIDDEN naming it. */
  operation?: SystemOperation;
  /** Status of the valid sample as Alice (omitted where running it would consume a fixture). */
  ok?: number;
  /** Any signed-in user may read it (the chat queues, which operators see). */
  shared?: boolean;
  /** Tells apart two entries for one route (in test names). */
  note?: string;
}

let seq = 0;
const page = (k: string | number) => ({ limit: '10', cursor: encodeCursor({ k, id: UNKNOWN }) });
const mailboxId = (f: Fixtures) => ({ id: f.mailbox });
const emailId = (f: Fixtures) => ({ id: f.email });
const chatId = (f: Fixtures) => ({ id: f.chat });

export const ROUTES: ApiRoute[] = [
  // --- mailboxes (the mailboxes module) ---
  { method: 'POST', path: '/api/mailboxes/detect', body: () => ({ email: ANN.user }), ok: 200 },
  { method: 'GET', path: '/api/mailboxes', ok: 200 },
  {
    method: 'POST',
    path: '/api/mailboxes',
    // Verified against the real Dovecot and SMTP server (the provider's user names are typed by
    // hand): a hostile password or login is a 422 naming the failing step, a hostile email a 400.
    body: (f) => ({ email: BEN.user, password: BEN.password, providerId: f.providerId, login: BEN.user }),
    ok: 201,
  },
  { method: 'GET', path: '/api/mailboxes/{id}', params: mailboxId, ok: 200 },
  {
    method: 'PATCH',
    path: '/api/mailboxes/{id}',
    params: mailboxId,
    body: () => ({ loadPeriod: 'all', selectedFolders: ['INBOX', 'Sent'], defaultSender: ANN.user, alias: 'Ann of Acme', signatureHtml: '<p>Ann <b>Acme</b></p>' }),
    ok: 200,
  },
  {
    method: 'PATCH',
    path: '/api/mailboxes/{id}',
    params: mailboxId,
    // New credentials are re-verified against Dovecot and SMTP before they are saved: hostile ones are a 422.
    body: () => ({ login: ANN.user, password: ANN.password }),
    ok: 200,
    note: 'credentials',
  },
  { method: 'DELETE', path: '/api/mailboxes/{id}', params: mailboxId, query: () => ({ deleteMail: 'false' }) },

  // --- mail (the mail module) ---
  { method: 'GET', path: '/api/mailboxes/{id}/sync-status', params: mailboxId, ok: 200 },
  { method: 'POST', path: '/api/mailboxes/{id}/sync', params: mailboxId, ok: 202 },
  { method: 'GET', path: '/api/mailboxes/{id}/folders', params: mailboxId, query: () => ({ refresh: '0' }), ok: 200 },
  {
    method: 'GET',
    path: '/api/emails',
    query: (f) => ({
      mailboxId: f.mailbox,
      contactId: f.contact,
      accountId: f.account,
      folder: 'INBOX',
      q: 'quote',
      threadId: f.thread,
      includeDeleted: 'false',
      ...page('2030-01-01T00:00:00.000Z'),
    }),
    ok: 200,
  },
  { method: 'GET', path: '/api/emails/{id}', params: emailId, query: () => ({ images: '0' }), ok: 200 },
  { method: 'PATCH', path: '/api/emails/{id}', params: emailId, body: () => ({ seen: true }), ok: 200 },
  { method: 'GET', path: '/api/emails/{id}/raw', params: emailId, ok: 200 },
  { method: 'GET', path: '/api/emails/{id}/attachments/{attachmentId}', params: (f) => ({ id: f.email, attachmentId: f.attachment }), ok: 200 },
  {
    method: 'POST',
    path: '/api/emails/send',
    // Really sent through the test SMTP server and appended to Sent in Dovecot when valid.
    body: (f) => ({
      mailboxId: f.mailbox,
      to: ['bob@client.example'],
      cc: ['carol@client.example'],
      bcc: ['audit@acme.test'],
      subject: 'Re: Quote for March',
      text: 'Thanks, Bob.',
      html: '<p>Thanks, <b>Bob</b>.</p>',
      inReplyToEmailId: f.email,
      attachments: [{ filename: 'terms.txt', contentType: 'text/plain; charset=utf-8', contentBase64: Buffer.from('Terms and conditions').toString('base64') }],
    }),
    ok: 201,
  },
  { method: 'GET', path: '/api/contact-suggestions', query: () => page(3), ok: 200 },
  { method: 'GET', path: '/api/contact-suggestions/lookup', query: () => ({ emails: 'bob@client.example,dana@client.example' }), ok: 200 },
  { method: 'POST', path: '/api/contact-suggestions/create', body: () => ({ email: `dana.${++seq}@client.example`, name: 'Dana Client' }), ok: 201 },
  { method: 'POST', path: '/api/contact-suggestions/dismiss', body: () => ({ email: 'noreply@client.example' }), ok: 200 },

  // --- notifications ---
  { method: 'GET', path: '/api/notifications', query: () => ({ unread: 'false', ...page('2030-01-01T00:00:00.000Z') }), ok: 200 },
  { method: 'POST', path: '/api/notifications/{id}/read', params: (f) => ({ id: f.notification }), ok: 200 },
  { method: 'POST', path: '/api/notifications/read-all', ok: 200 },

  // --- chat queues: operators read them, chat managers change them (the PATCH sweep runs before
  // the POST one, so the fixture's hostile names do not collide with new queues' names) ---
  { method: 'GET', path: '/api/chat-queues', query: () => page('A'), ok: 200, shared: true },
  { method: 'GET', path: '/api/chat-queues/{id}', params: (f) => ({ id: f.queue }), ok: 200, shared: true },
  {
    method: 'PATCH',
    path: '/api/chat-queues/{id}',
    params: (f) => ({ id: f.queue }),
    body: (f) => ({ name: 'Support', routingRule: 'least-busy', completionTimeoutMinutes: 60, userIds: [f.alice.id], roleIds: [] }),
    operation: 'CanManageChats',
    ok: 200,
  },
  {
    method: 'POST',
    path: '/api/chat-queues',
    body: (f) => ({ name: 'Second line', routingRule: 'to-all', completionTimeoutMinutes: 30, userIds: [f.alice.id], roleIds: [] }),
    operation: 'CanManageChats',
    ok: 201,
  },
  { method: 'DELETE', path: '/api/chat-queues/{id}', params: (f) => ({ id: f.queue }), operation: 'CanManageChats' },

  // --- chat channels (the Telegram emulator answers getMe/setWebhook) ---
  { method: 'GET', path: '/api/chat-channels', query: () => page('A'), operation: 'CanManageChats', ok: 200 },
  {
    method: 'POST',
    path: '/api/chat-channels',
    body: (f) => ({ kind: 'telegram', name: 'Sales bot', queueId: f.queue, token: f.newBotToken(), delivery: 'webhook' }),
    operation: 'CanManageChats',
    ok: 201,
  },
  { method: 'GET', path: '/api/chat-channels/{id}', params: (f) => ({ id: f.spareChannel }), operation: 'CanManageChats', ok: 200 },
  {
    method: 'PATCH',
    path: '/api/chat-channels/{id}',
    params: (f) => ({ id: f.spareChannel }),
    body: (f) => ({ name: 'Spare bot', queueId: f.queue, token: f.spareChannelToken, delivery: 'webhook' }),
    operation: 'CanManageChats',
    ok: 200,
  },
  { method: 'DELETE', path: '/api/chat-channels/{id}', params: (f) => ({ id: f.spareChannel }), operation: 'CanManageChats' },

  // --- operators and chat settings ---
  { method: 'GET', path: '/api/operators', query: () => ({ q: 'Alice', limit: '50' }), operation: 'CanManageChats', ok: 200 },
  { method: 'GET', path: '/api/operators/me', ok: 200 },
  { method: 'PUT', path: '/api/operators/me/status', body: () => ({ status: 'active' }), ok: 200 },
  { method: 'GET', path: '/api/chat-settings', ok: 200 },

  // --- chats (Alice works the fixture chat) ---
  { method: 'GET', path: '/api/chats', query: (f) => ({ ...page('2030-01-01T00:00:00.000Z'), state: 'in-progress', mine: 'true', queueId: f.queue, contactId: f.chatContact }), ok: 200 },
  { method: 'GET', path: '/api/chats/{id}', params: chatId, ok: 200 },
  // Accepting an accepted chat is a conflict, and completing it would end the fixture: no samples.
  { method: 'POST', path: '/api/chats/{id}/accept', params: chatId },
  { method: 'POST', path: '/api/chats/{id}/complete', params: chatId },
  { method: 'POST', path: '/api/chats/{id}/messages', params: chatId, body: () => ({ text: 'Your parcel ships today.' }), ok: 201 },
  { method: 'GET', path: '/api/chats/{id}/files/{fileId}', params: (f) => ({ id: f.chat, fileId: f.chatFile }), ok: 200 },
];

/** Every string leaf of a JSON value, as a path. */
export function stringLeaves(value: unknown, path: (string | number)[] = []): (string | number)[][] {
  if (typeof value === 'string') return [path];
  if (Array.isArray(value)) return value.flatMap((v, i) => stringLeaves(v, [...path, i]));
  if (value && typeof value === 'object') return Object.entries(value).flatMap(([k, v]) => stringLeaves(v, [...path, k]));
  return [];
}

export function withLeaf<T>(value: T, path: (string | number)[], leaf: unknown): T {
  const copy = structuredClone(value) as any;
  let node = copy;
  for (const p of path.slice(0, -1)) node = node[p];
  node[path[path.length - 1]] = leaf;
  return copy;
}

/** URL-encodes; a lone surrogate cannot be encoded, so send the invalid UTF-8 bytes it would be. */
export function encodePath(s: string): string {
  try {
    return encodeURIComponent(s);
  } catch {
    return encodeURIComponent(s.replace(/[\ud800-\udfff]/g, '')) + '%ED%A0%80';
  }
}

export const label = (r: ApiRoute) => `${r.method} ${r.path}${r.note ? ` (${r.note})` : ''}`;

export interface Bench {
  t: TestApp;
  f: Fixtures;
  tg: TelegramEmulator;
  /** The route's URL: its own ids, with `params` replacing some of them; its sample query or `query`. */
  url(r: ApiRoute, opts?: { params?: Record<string, string>; query?: Record<string, string> }): string;
}

async function waitFor<T>(fn: () => Promise<T | null | undefined | false>, what: string, timeoutMs = 30_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/**
 * Registers beforeAll/afterAll that start a server on `dialect`, wired to the given Dovecot (with
 * Ann's mail already in it), SMTP server and a Telegram emulator of its own, and build the fixtures.
 */
export function useApiFixtures(dialect: Dialect, servers: () => { dc: Dovecot; smtp: TestSmtpServer }): Bench {
  const bench = {} as Bench;
  bench.url = (r, opts = {}) => {
    const params = { ...r.params?.(bench.f), ...opts.params };
    let p = r.path.replace(/\{(\w+)\}/g, (_, name: string) => encodePath(params[name] ?? ''));
    const query = opts.query ?? r.query?.(bench.f);
    if (query && Object.keys(query).length) p += `?${new URLSearchParams(query).toString()}`;
    return p;
  };
  beforeAll(async () => {
    const { dc, smtp } = servers();
    const tg = await startTelegramEmulator({ webhookRetryDelaysMs: [100, 200, 400] });
    bench.tg = tg;
    // A small body limit keeps the oversized cases cheap; 10k-character fields still fit.
    const t = await startTestApp({ dialect, env: { TELEGRAM_API_ROOT: tg.url, SWITCHBOARD_BODY_LIMIT: String(256 * 1024) } });
    bench.t = t;
    await t.modules.settings.set('SiteUrl', t.url, { actorId: null });
    // No DNS on the test machine: detection must not wait for a resolver that never answers.
    (t.modules.mailProviders as MailProvidersService).useMxResolver(async () => []);

    const alice = await t.createUser({ name: 'Alice Agent', operations: ['CanManageChats'] });
    const bob = await t.createUser({ name: 'Bob Plain' });
    const ok = async (method: string, path: string, body: unknown, status: number) => {
      const res = await t.request(method, path, { token: alice.token, body });
      expect(res.status, `${method} ${path}: ${JSON.stringify(res.body).slice(0, 300)}`).toBe(status);
      return res.body;
    };

    // CRM records the mail links to.
    const account = (await ok('POST', '/api/accounts', { name: 'Client Inc', domain: 'client.example' }, 201)).id as string;
    const contact = (await ok('POST', '/api/contacts', { name: 'Bob Builder', emails: [{ email: 'bob@client.example' }], accountId: account }, 201)).id as string;

    // A provider on the real servers and Ann's mailbox, verified against them and synced.
    const provider = await t.request('POST', '/api/mail-providers', {
      token: t.adminToken,
      body: {
        name: 'Acme Mail',
        type: 'imap',
        imap: { host: dc.host, port: dc.port, security: 'starttls' },
        smtp: { host: smtp.host, port: smtp.port, security: 'starttls' },
        loginFormat: 'manual',
        allowSelfSigned: true,
      },
    });
    expect(provider.status, JSON.stringify(provider.body)).toBe(201);
    const mailbox = (await ok('POST', '/api/mailboxes', { email: ANN.user, password: ANN.password, providerId: provider.body.id, login: ANN.user }, 201)).id as string;
    await ok('POST', `/api/mailboxes/${mailbox}/sync`, undefined, 202);
    const listed = await waitFor(async () => {
      const r = await t.request('GET', `/api/emails?mailboxId=${mailbox}&q=quote`, { token: alice.token });
      return r.body.items?.find((e: any) => e.hasAttachments) ? r.body.items : null;
    }, 'the mailbox to sync');
    const email = listed.find((e: any) => e.hasAttachments);
    const detail = await ok('GET', `/api/emails/${email.id}`, undefined, 200);
    const notifications = await ok('GET', '/api/notifications', undefined, 200);
    expect(notifications.items.length).toBeGreaterThan(0);

    // A queue Alice serves, a channel on the emulator, a customer's chat she accepted, with a photo.
    const queue = (await ok('POST', '/api/chat-queues', { name: 'Support', routingRule: 'least-busy', userIds: [alice.id] }, 201)).id as string;
    const bot = tg.createBot({ username: 'acme_support_bot', firstName: 'Acme' });
    const channel = (await ok('POST', '/api/chat-channels', { kind: 'telegram', queueId: queue, token: bot.token, delivery: 'webhook' }, 201)).id as string;
    const spareBot = tg.createBot({ username: 'acme_spare_bot' });
    const spareChannel = (await ok('POST', '/api/chat-channels', { kind: 'telegram', queueId: queue, token: spareBot.token, delivery: 'webhook' }, 201)).id as string;
    await ok('PUT', '/api/operators/me/status', { status: 'active' }, 200);
    const customer = { id: 70001, first_name: 'Kim', last_name: 'Customer', username: 'kimc' };
    await tg.customerSends(bot.token, { from: customer, text: 'Hello, where is my parcel?' });
    const chat = await waitFor(async () => (await t.request('GET', '/api/chats?state=offered&mine=true', { token: alice.token })).body.items?.[0]?.id as string | undefined, 'the chat offer');
    await ok('POST', `/api/chats/${chat}/accept`, undefined, 200);
    await tg.customerSends(bot.token, { from: customer, photo: { bytes: Buffer.from('\x89PNG fake photo'), caption: 'the label' } });
    const chatFile = await waitFor(async () => {
      const d = await t.request('GET', `/api/chats/${chat}`, { token: alice.token });
      return d.body.messages?.flatMap((m: any) => m.files)[0]?.id as string | undefined;
    }, 'the customer photo');
    const chatContact = (await ok('GET', `/api/chats/${chat}`, undefined, 200)).contactId as string;

    bench.f = {
      alice,
      bob,
      providerId: provider.body.id,
      mailbox,
      email: email.id,
      attachment: detail.attachments[0].id,
      thread: email.threadId,
      contact,
      account,
      notification: notifications.items[0].id,
      queue,
      channel,
      spareChannel,
      spareChannelToken: spareBot.token,
      newBotToken: () => tg.createBot({ username: `acme_sales_${++seq}_bot` }).token,
      chat,
      chatFile,
      chatContact,
    };
  });
  afterAll(async () => {
    // A response that ends after close() began (a streamed file whose client already had every
    // byte of its Content-Length) leaves a keep-alive connection that Fastify's close does not
    // close; undici keeps it for the server's 72 s minus 2 s. Close such connections as they go idle.
    const sweep = setInterval(() => bench.t?.app.server.closeIdleConnections(), 100);
    try {
      await bench.t?.close();
    } finally {
      clearInterval(sweep);
    }
    await bench.tg?.close();
  });
  return bench;
}
