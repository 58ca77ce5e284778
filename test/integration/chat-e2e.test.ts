// End to end with the Telegram emulator (H3, H5, H6, H10): a customer writes → the operator gets
// chat.offered over the WebSocket → accepts → replies (text and a file) → the customer sees the
// replies → the completion timeout completes the chat → the next customer message opens a new chat.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dialects } from '../helpers/db.js';
import { hasPostgres, hasRedis } from '../helpers/services.js';
import { openSocket, startChatEnv, waitUntil, type ChatEnv } from './chat-helpers.js';

const DIALECTS = await dialects();
// Queue mode: PostgreSQL + Redis (BullMQ jobs, Redis event bus carrying the realtime events).
const MODES: [string, 'sqlite' | 'postgres', boolean][] = DIALECTS.map((d) => [d, d, false]);
if ((await hasPostgres()) && (await hasRedis())) MODES.push(['postgres + redis (queue mode)', 'postgres', true]);

describe.each(MODES)('chat end to end on %s', (_label, dialect, redis) => {
  let env: ChatEnv;
  beforeAll(async () => {
    env = await startChatEnv(dialect, { redis });
  });
  afterAll(async () => {
    await env?.close();
  });

  it('customer → offer over WebSocket → accept → replies reach Telegram → timeout completes → new chat', { timeout: 60_000 }, async () => {
    const { tg, t, chat } = env;
    // Real minutes while the operator works; the completion timeout is shortened at the end.
    chat.timing.minuteMs = 60_000;
    const bot = tg.createBot({ username: 'acme_support_bot', firstName: 'Acme' });
    const manager = await t.createUser({ operations: ['CanManageChats'] });
    const op = await t.createUser({ name: 'Olga Operator' });

    const q = await t.request('POST', '/api/chat-queues', { token: manager.token, body: { name: 'Support', routingRule: 'least-busy', completionTimeoutMinutes: 1, userIds: [op.id] } });
    expect(q.status).toBe(201);
    const ch = await t.request('POST', '/api/chat-channels', { token: manager.token, body: { kind: 'telegram', queueId: q.body.id, token: bot.token, delivery: 'webhook' } });
    expect(ch.status).toBe(201);
    expect(ch.body.mode).toBe('webhook');
    expect(ch.body.name).toBe('@acme_support_bot');
    expect(ch.body.warning).toMatch(/only for Switchboard/);
    expect(JSON.stringify(ch.body)).not.toContain(bot.token);
    expect(tg.webhookInfo(bot.token).url).toBe(`${t.url}/webhooks/telegram/${ch.body.id}`);

    const ws = await openSocket(t.url, op.token);
    try {
      const st = await t.request('PUT', '/api/operators/me/status', { token: op.token, body: { status: 'active' } });
      expect(st.status).toBe(200);
      expect(st.body.status).toBe('active');

      await tg.customerSends(bot.token, { from: { id: 70001, first_name: 'Ann', last_name: 'Lee', username: 'annlee' }, text: 'Hello, my order is late' });
      const offered = await ws.waitFor((e) => e.type === 'chat.offered');
      const chatId = offered.data.chatId as string;
      expect(offered.data.customerName).toBe('Ann Lee');

      const list = await t.request('GET', '/api/chats?state=offered&mine=true', { token: op.token });
      expect(list.body.items.map((c: any) => c.id)).toEqual([chatId]);
      expect(list.body.items[0].offeredToMe).toBe(true);
      // The customer's contact is not the operator's until they take the chat.
      expect((await t.request('GET', `/api/contacts/${offered.data.contactId}`, { token: op.token })).status).toBe(404);

      const acc = await t.request('POST', `/api/chats/${chatId}/accept`, { token: op.token });
      expect(acc.status).toBe(200);
      expect(acc.body.state).toBe('in-progress');
      await ws.waitFor((e) => e.type === 'chat.assigned' && e.data.chatId === chatId);

      const detail = await t.request('GET', `/api/chats/${chatId}`, { token: op.token });
      expect(detail.status).toBe(200);
      expect(detail.body.messages.map((m: any) => m.text)).toEqual(['Hello, my order is late']);
      expect(detail.body.contact?.name).toBe('Ann Lee');
      // The contact carries the customer's Telegram identity, @username included.
      expect(detail.body.contact.channels).toEqual([{ channel: 'telegram', externalId: '70001', username: 'annlee' }]);
      expect(detail.body.customerUsername).toBe('annlee');
      const contact = await t.request('GET', `/api/contacts/${detail.body.contactId}`, { token: t.adminToken });
      expect(contact.status).toBe(200);
      // The operator working the chat can open and update the customer's contact.
      const mine = await t.request('GET', `/api/contacts/${detail.body.contactId}`, { token: op.token });
      expect(mine.status).toBe(200);
      expect(mine.body.name).toBe('Ann Lee');
      const edit = await t.request('PATCH', `/api/contacts/${detail.body.contactId}`, { token: op.token, body: { jobTitle: 'Buyer' } });
      expect(edit.status).toBe(200);

      const reply = await t.request('POST', `/api/chats/${chatId}/messages`, { token: op.token, body: { text: 'Hi Ann, let me check.' } });
      expect(reply.status).toBe(201);
      const sent = await tg.waitForSent(bot.token, (m) => m.text === 'Hi Ann, let me check.', 5000);
      expect(sent.chat.id).toBe(70001);

      // A photo from the customer arrives as a chat file the operator can download.
      const photo = Buffer.from('\x89PNG fake photo bytes for the test');
      await tg.customerSends(bot.token, { from: { id: 70001, first_name: 'Ann', last_name: 'Lee', username: 'annlee' }, photo: { bytes: photo, caption: 'the parcel' } });
      const inMsg = await ws.waitFor((e) => e.type === 'chat.message' && e.data.direction === 'in' && e.data.files?.length === 1);
      expect(inMsg.data.text).toBe('the parcel');
      const fileRes = await fetch(`${t.url}/api/chats/${chatId}/files/${inMsg.data.files[0].id}`, { headers: { authorization: `Bearer ${op.token}` } });
      expect(fileRes.status).toBe(200);
      expect(Buffer.from(await fileRes.arrayBuffer()).equals(photo)).toBe(true);

      // A document from the operator (multipart) reaches the customer.
      const form = new FormData();
      form.append('text', 'Your invoice');
      form.append('file', new Blob([Buffer.from('%PDF-1.4 invoice')], { type: 'application/pdf' }), 'invoice.pdf');
      const up = await fetch(`${t.url}/api/chats/${chatId}/messages`, { method: 'POST', headers: { authorization: `Bearer ${op.token}` }, body: form });
      expect(up.status).toBe(201);
      const doc = await tg.waitForSent(bot.token, (m) => !!m.document, 5000);
      expect(doc.caption).toBe('Your invoice');
      expect(tg.fileBytes(doc.document!.file_id)?.toString()).toBe('%PDF-1.4 invoice');

      // The customer changes their Telegram username mid-chat: the chat and the contact follow.
      await tg.customerSends(bot.token, { from: { id: 70001, first_name: 'Ann', last_name: 'Lee', username: 'ann_lee' }, text: 'new handle, same me' });
      await ws.waitFor((e) => e.type === 'chat.message' && e.data.text === 'new handle, same me');
      const renamed = await t.request('GET', `/api/chats/${chatId}`, { token: op.token });
      expect(renamed.body.customerUsername).toBe('ann_lee');
      expect(renamed.body.contact.channels).toEqual([{ channel: 'telegram', externalId: '70001', username: 'ann_lee' }]);

      // From now on a "minute" lasts 300 ms: no outgoing message for the queue's timeout after this
      // last reply → the chat completes by itself.
      chat.timing.minuteMs = 300;
      expect((await t.request('POST', `/api/chats/${chatId}/messages`, { token: op.token, body: { text: 'Anything else?' } })).status).toBe(201);
      const done = await ws.waitFor((e) => e.type === 'chat.completed' && e.data.chatId === chatId, 20_000);
      expect(done.data.completedBy).toBe('timeout');
      const after = await t.request('GET', `/api/chats/${chatId}`, { token: op.token });
      expect(after.body.state).toBe('completed');
      expect(after.body.completedBy).toBe('timeout');

      // The customer writes again — renamed in Telegram meanwhile: a new chat, routed afresh, same
      // contact, which takes the new name (nobody had changed it in the CRM).
      await tg.customerSends(bot.token, { from: { id: 70001, first_name: 'Ann', last_name: 'Smith', username: 'ann_lee' }, text: 'One more question' });
      const again = await ws.waitFor((e) => e.type === 'chat.offered' && e.data.chatId !== chatId);
      expect(again.data.contactId).toBe(detail.body.contactId);
      expect(again.data.customerName).toBe('Ann Smith');
      const second = await t.request('GET', `/api/chats/${again.data.chatId}`, { token: op.token });
      expect(second.body.contact).toMatchObject({ name: 'Ann Smith', channels: [{ channel: 'telegram', externalId: '70001', username: 'ann_lee' }] });
      // A name typed in the CRM wins over the next rename in Telegram; the username still follows.
      expect((await t.request('PATCH', `/api/contacts/${detail.body.contactId}`, { token: t.adminToken, body: { name: 'Ann Smith (VIP)' } })).status).toBe(200);
      await tg.customerSends(bot.token, { from: { id: 70001, first_name: 'Annie', username: 'annie' }, text: 'still there?' });
      await ws.waitFor((e) => e.type === 'chat.message' && e.data.text === 'still there?');
      const third = await t.request('GET', `/api/chats/${again.data.chatId}`, { token: op.token });
      expect(third.body.customerName).toBe('Annie');
      expect(third.body.contact).toMatchObject({ name: 'Ann Smith (VIP)', channels: [{ username: 'annie' }] });
      const chats = await t.request('GET', '/api/chats?mine=true', { token: op.token });
      expect(chats.body.items.length).toBe(2);

      const me = await t.request('GET', '/api/operators/me', { token: op.token });
      expect(me.body).toMatchObject({ status: 'active', chatsInProgress: 0, pendingOffers: 1, limit: 2 });
      const settings = await t.request('GET', '/api/chat-settings', { token: op.token });
      expect(settings.body.notificationSoundUrl).toBe('/api/system-settings/OmniChatNotificationSound/file');
      const sound = await fetch(t.url + settings.body.notificationSoundUrl, { headers: { authorization: `Bearer ${op.token}` } });
      expect(sound.status).toBe(200);
      // The contact's CRM timeline lists both chats.
      const tl = await t.request('GET', `/api/contacts/${detail.body.contactId}/timeline`, { token: t.adminToken });
      expect(tl.status).toBe(200);
      expect(tl.body.items.filter((i: any) => i.source === 'chat').length).toBe(2);
    } finally {
      ws.close();
    }
  });

  it('least-busy: an ignored offer moves on after the accept timeout and the operator becomes inactive', { timeout: 60_000 }, async () => {
    const { tg, t, chat } = env;
    const bot = tg.createBot({ username: 'acme_sales_bot' });
    const manager = await t.createUser({ operations: ['CanManageChats'] });
    const a = await t.createUser({ name: 'A' });
    const b = await t.createUser({ name: 'B' });
    // OmniChatOperatorAcceptChatTimeout = 1 "minute" = 300 ms here.
    chat.timing.minuteMs = 300;
    await t.modules.settings.set('OmniChatOperatorAcceptChatTimeout', 1, { actorId: null });
    const q = await t.request('POST', '/api/chat-queues', { token: manager.token, body: { name: 'Sales', routingRule: 'least-busy', userIds: [a.id, b.id] } });
    await t.request('POST', '/api/chat-channels', { token: manager.token, body: { kind: 'telegram', queueId: q.body.id, token: bot.token, delivery: 'webhook' } });
    const wsA = await openSocket(t.url, a.token);
    const wsB = await openSocket(t.url, b.token);
    try {
      await t.request('PUT', '/api/operators/me/status', { token: a.token, body: { status: 'active' } });
      await t.request('PUT', '/api/operators/me/status', { token: b.token, body: { status: 'active' } });
      await tg.customerSends(bot.token, { from: { id: 80001, first_name: 'Bob' }, text: 'hi' });
      const first = await Promise.race([wsA.waitFor((e) => e.type === 'chat.offered').then(() => 'A'), wsB.waitFor((e) => e.type === 'chat.offered').then(() => 'B')]);
      // The first offer's timeout (300 ms) is already scheduled; the next operator gets real minutes.
      chat.timing.minuteMs = 60_000;
      const [ignorer, taker] = first === 'A' ? [wsA, wsB] : [wsB, wsA];
      const ignorerToken = first === 'A' ? a.token : b.token;
      // Nobody accepts: after the timeout the chat moves to the other operator, the first becomes inactive.
      const withdrawn = await ignorer.waitFor((e) => e.type === 'chat.withdrawn' && e.data.reason === 'accept-timeout', 20_000);
      const moved = await taker.waitFor((e) => e.type === 'chat.offered', 20_000);
      // Least-busy shows a chat to one operator at a time: the other heard nothing of it before the timeout.
      expect(moved.data.chatId).toBe(withdrawn.data.chatId);
      expect(moved.at >= withdrawn.at).toBe(true);
      expect(taker.events.filter((e) => e.type.startsWith('chat.')).map((e) => e.type)).toEqual(['chat.offered']);
      const me = await t.request('GET', '/api/operators/me', { token: ignorerToken });
      expect(me.body.status).toBe('inactive');
      expect(me.body.statusReason).toBe('accept-timeout');
      const acc = await t.request('POST', `/api/chats/${moved.data.chatId}/accept`, { token: first === 'A' ? b.token : a.token });
      expect(acc.status).toBe(200);
    } finally {
      wsA.close();
      wsB.close();
      await t.modules.settings.set('OmniChatOperatorAcceptChatTimeout', null, { actorId: null });
      chat.timing.minuteMs = 60_000;
    }
  });

  it('to-all: every member is offered the chat, the others hear "withdrawn" when one accepts, non-members hear nothing', { timeout: 60_000 }, async () => {
    const { tg, t } = env;
    const bot = tg.createBot({ username: 'acme_all_bot' });
    const manager = await t.createUser({ operations: ['CanManageChats'] });
    const a = await t.createUser({ name: 'All A' });
    const b = await t.createUser({ name: 'All B' });
    const outsider = await t.createUser({ name: 'Not in the queue' });
    const q = await t.request('POST', '/api/chat-queues', { token: manager.token, body: { name: 'Everyone', routingRule: 'to-all', userIds: [a.id, b.id] } });
    await t.request('POST', '/api/chat-channels', { token: manager.token, body: { kind: 'telegram', queueId: q.body.id, token: bot.token, delivery: 'webhook' } });
    const [wsA, wsB, wsOut] = await Promise.all([openSocket(t.url, a.token), openSocket(t.url, b.token), openSocket(t.url, outsider.token)]);
    try {
      for (const u of [a, b, outsider]) expect((await t.request('PUT', '/api/operators/me/status', { token: u.token, body: { status: 'active' } })).status).toBe(200);
      await tg.customerSends(bot.token, { from: { id: 81001, first_name: 'Cleo' }, text: 'anyone?' });
      const [offA, offB] = await Promise.all([wsA.waitFor((e) => e.type === 'chat.offered'), wsB.waitFor((e) => e.type === 'chat.offered')]);
      expect(offA.data.chatId).toBe(offB.data.chatId);
      const chatId = offA.data.chatId as string;
      expect((await t.request('POST', `/api/chats/${chatId}/accept`, { token: b.token })).status).toBe(200);
      await wsB.waitFor((e) => e.type === 'chat.assigned' && e.data.chatId === chatId);
      const gone = await wsA.waitFor((e) => e.type === 'chat.withdrawn' && e.data.chatId === chatId);
      expect(gone.data.reason).toBe('taken');
      // The customer writes again: only the operator working the chat hears it.
      await tg.customerSends(bot.token, { from: { id: 81001, first_name: 'Cleo' }, text: 'thanks, B' });
      await wsB.waitFor((e) => e.type === 'chat.message' && e.data.text === 'thanks, B');
      expect((await t.request('POST', `/api/chats/${chatId}/complete`, { token: b.token })).status).toBe(200);
      await wsB.waitFor((e) => e.type === 'chat.completed' && e.data.chatId === chatId);
      // Everything above went through the same event bus; give a stray event time to arrive.
      await new Promise((r) => setTimeout(r, 300));
      const chatEvents = (ws: typeof wsA) => ws.events.filter((e) => e.type.startsWith('chat.')).map((e) => e.type);
      expect(chatEvents(wsA)).toEqual(['chat.offered', 'chat.withdrawn']);
      expect(chatEvents(wsB)).toEqual(['chat.offered', 'chat.assigned', 'chat.message', 'chat.completed']);
      expect(chatEvents(wsOut)).toEqual([]);
    } finally {
      wsA.close();
      wsB.close();
      wsOut.close();
    }
  });

  it('removing an operator from a queue withdraws their pending offers of its chats', { timeout: 60_000 }, async () => {
    const { tg, t } = env;
    const bot = tg.createBot({ username: 'acme_members_bot' });
    const manager = await t.createUser({ operations: ['CanManageChats'] });
    const a = await t.createUser({ name: 'Stays' });
    const b = await t.createUser({ name: 'Leaves' });
    const q = await t.request('POST', '/api/chat-queues', { token: manager.token, body: { name: 'Members', routingRule: 'to-all', userIds: [a.id, b.id] } });
    await t.request('POST', '/api/chat-channels', { token: manager.token, body: { kind: 'telegram', queueId: q.body.id, token: bot.token, delivery: 'webhook' } });
    const [wsA, wsB] = await Promise.all([openSocket(t.url, a.token), openSocket(t.url, b.token)]);
    try {
      for (const u of [a, b]) await t.request('PUT', '/api/operators/me/status', { token: u.token, body: { status: 'active' } });
      await tg.customerSends(bot.token, { from: { id: 82001, first_name: 'Mia' }, text: 'hi both' });
      const offered = await wsB.waitFor((e) => e.type === 'chat.offered');
      await wsA.waitFor((e) => e.type === 'chat.offered');
      expect((await t.request('PATCH', `/api/chat-queues/${q.body.id}`, { token: manager.token, body: { userIds: [a.id] } })).status).toBe(200);
      const gone = await wsB.waitFor((e) => e.type === 'chat.withdrawn' && e.data.chatId === offered.data.chatId);
      expect(gone.data.reason).toBe('removed-from-queue');
      expect((await t.request('GET', '/api/operators/me', { token: b.token })).body.pendingOffers).toBe(0);
      expect((await t.request('POST', `/api/chats/${offered.data.chatId}/accept`, { token: b.token })).status).toBe(409);
      // The one who stays still has it.
      expect((await t.request('POST', `/api/chats/${offered.data.chatId}/accept`, { token: a.token })).status).toBe(200);
    } finally {
      wsA.close();
      wsB.close();
    }
  });

  it('a queue served through a role follows the role: a member taken out loses the offer, a new member gets the waiting chat', { timeout: 60_000 }, async () => {
    const { tg, t } = env;
    const bot = tg.createBot({ username: 'acme_roles_bot' });
    const manager = await t.createUser({ operations: ['CanManageChats'] });
    const a = await t.createUser({ name: 'Role Stays' });
    const b = await t.createUser({ name: 'Role Leaves' });
    const c = await t.createUser({ name: 'Role Joins' });
    const role = await t.request('POST', '/api/roles', { token: t.adminToken, body: { name: `Support line ${Date.now()}`, userIds: [a.id, b.id] } });
    expect(role.status).toBe(201);
    const q = await t.request('POST', '/api/chat-queues', { token: manager.token, body: { name: 'By role', routingRule: 'to-all', roleIds: [role.body.id] } });
    expect(q.status).toBe(201);
    await t.request('POST', '/api/chat-channels', { token: manager.token, body: { kind: 'telegram', queueId: q.body.id, token: bot.token, delivery: 'webhook' } });
    const [wsA, wsB, wsC] = await Promise.all([openSocket(t.url, a.token), openSocket(t.url, b.token), openSocket(t.url, c.token)]);
    try {
      for (const u of [a, b, c]) await t.request('PUT', '/api/operators/me/status', { token: u.token, body: { status: 'active' } });
      await tg.customerSends(bot.token, { from: { id: 83001, first_name: 'Rita' }, text: 'hello role' });
      const offered = await wsB.waitFor((e) => e.type === 'chat.offered');
      await wsA.waitFor((e) => e.type === 'chat.offered' && e.data.chatId === offered.data.chatId);
      // B leaves the role (an administrator edits the user's roles): B's offer is withdrawn.
      expect((await t.request('PATCH', `/api/users/${b.id}`, { token: t.adminToken, body: { roleIds: [] } })).status).toBe(200);
      const gone = await wsB.waitFor((e) => e.type === 'chat.withdrawn' && e.data.chatId === offered.data.chatId);
      expect(gone.data.reason).toBe('removed-from-queue');
      expect((await t.request('POST', `/api/chats/${offered.data.chatId}/accept`, { token: b.token })).status).toBe(409);
      // C joins through the role's own member list: the chat still waiting is offered to C too.
      expect((await t.request('PATCH', `/api/roles/${role.body.id}`, { token: t.adminToken, body: { userIds: [a.id, c.id] } })).status).toBe(200);
      await wsC.waitFor((e) => e.type === 'chat.offered' && e.data.chatId === offered.data.chatId);
      expect((await t.request('POST', `/api/chats/${offered.data.chatId}/accept`, { token: c.token })).status).toBe(200);
      await wsA.waitFor((e) => e.type === 'chat.withdrawn' && e.data.chatId === offered.data.chatId && e.data.reason === 'taken');
    } finally {
      wsA.close();
      wsB.close();
      wsC.close();
    }
  });

  it('an image over 10 MB goes to Telegram as a document (sendPhoto takes at most 10 MB)', { timeout: 60_000 }, async () => {
    const { tg, t } = env;
    const bot = tg.createBot({ username: 'acme_big_bot' });
    const manager = await t.createUser({ operations: ['CanManageChats'] });
    const op = await t.createUser({ name: 'Big Files' });
    const q = await t.request('POST', '/api/chat-queues', { token: manager.token, body: { name: 'Big', routingRule: 'to-all', userIds: [op.id] } });
    await t.request('POST', '/api/chat-channels', { token: manager.token, body: { kind: 'telegram', queueId: q.body.id, token: bot.token, delivery: 'webhook' } });
    const ws = await openSocket(t.url, op.token);
    try {
      await t.request('PUT', '/api/operators/me/status', { token: op.token, body: { status: 'active' } });
      await tg.customerSends(bot.token, { from: { id: 83001, first_name: 'Ivo' }, text: 'send me the scan' });
      const offered = await ws.waitFor((e) => e.type === 'chat.offered');
      expect((await t.request('POST', `/api/chats/${offered.data.chatId}/accept`, { token: op.token })).status).toBe(200);
      const send = async (name: string, bytes: Buffer) => {
        const form = new FormData();
        form.append('file', new Blob([new Uint8Array(bytes)], { type: 'image/png' }), name);
        return fetch(`${t.url}/api/chats/${offered.data.chatId}/messages`, { method: 'POST', headers: { authorization: `Bearer ${op.token}` }, body: form });
      };
      const big = Buffer.alloc(10 * 1024 * 1024 + 1, 7);
      big.write('\x89PNG', 0, 'latin1');
      const r = await send('scan.png', big);
      expect(r.status).toBe(201);
      expect(((await r.json()) as any).files[0]).toMatchObject({ name: 'scan.png', kind: 'document', size: big.length });
      const doc = await tg.waitForSent(bot.token, (m) => m.document?.file_name === 'scan.png', 10_000);
      expect(tg.fileBytes(doc.document!.file_id)?.length).toBe(big.length);
      // A small image is still a photo.
      const small = await send('small.png', Buffer.from('\x89PNG small', 'latin1'));
      expect(small.status).toBe(201);
      expect(((await small.json()) as any).files[0].kind).toBe('photo');
    } finally {
      ws.close();
    }
  });
});
