// E2E (W1, H1, H2, H6, H9, H10): an administrator creates a queue with its operator and connects a
// Telegram bot in Chat settings (token verified against the Telegram emulator); an operator sets themselves Active, a customer writes to
// the bot, the chat is offered with the notification sound, the operator accepts, reads the
// history, replies (the customer receives it in Telegram) and completes the chat; the contact made
// from the Telegram user shows the chat on its timeline; deleting the used channel is refused in plain
// words and the console offers to deactivate it instead.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { startTestApp, type TestApp, type TestUser } from '../helpers/app.js';
import { startTelegramEmulator, type TelegramEmulator } from '../../src/emulators/telegram/index.js';
import { docsScreenshot, ensureConsoleBuilt, flow, hasChromium, launch, screenshot, signIn, within } from './browser.js';

const CUSTOMER = { id: 7_100_200, first_name: 'Maria', last_name: 'Petrova', username: 'maria_p' };

describe.skipIf(!hasChromium())('console e2e: an operator works a Telegram chat', () => {
  let app: TestApp;
  let tg: TelegramEmulator;
  let browser: Browser;
  let admin: TestUser;
  let operator: TestUser;
  let bot: { token: string; id: number };
  let queueId: string;

  beforeAll(async () => {
    ensureConsoleBuilt();
    tg = await startTelegramEmulator();
    [app, browser] = await Promise.all([startTestApp({ env: { TELEGRAM_API_ROOT: tg.url } }), launch()]);
    bot = tg.createBot({ username: 'acme_support_bot', firstName: 'Acme Support' });
    // Picking operators by name needs the user list, which is CanManageAdministration's.
    admin = await app.createUser({ name: 'Alice Admin', email: 'alice@acme.test', operations: ['CanManageChats', 'CanManageAdministration'] });
    operator = await app.createUser({ name: 'Oleg Operator', email: 'oleg@acme.test' });
  }, 180_000);
  afterAll(async () => {
    await within(browser?.close(), 20_000, 'browser.close');
    await within(Promise.all([app?.close(), tg?.close()]), 60_000, 'servers close');
  }, 120_000);

  it(
    'administrator creates a queue with an operator and connects a Telegram bot; a refused token is shown in plain words',
    async () => {
      const page = await (await browser.newContext({ viewport: { width: 1440, height: 900 } })).newPage();
      await flow(page, 'admin-adds-queue', async () => {
        await signIn(page, app.url, admin.email, admin.password);
        await page.getByRole('link', { name: 'Queues' }).click();
        await page.getByRole('button', { name: 'Add queue' }).click();
        await page.getByTestId('queue-name').fill('Support');
        await page.getByTestId('queue-users').click();
        await page.getByRole('option', { name: 'Oleg Operator <oleg@acme.test>' }).click();
        // Close the picker's list (it covers the buttons) by clicking elsewhere in the form.
        await page.getByTestId('queue-name').click();
        await page.getByRole('option').first().waitFor({ state: 'hidden' });
        await page.getByTestId('queue-save').click();
        const card = page.getByTestId('queue-card').filter({ hasText: 'Support' });
        await card.getByText('Oleg Operator').waitFor();
        await screenshot(page, 'admin-adds-queue');
      });
      const queues = await app.request('GET', '/api/chat-queues', { token: app.adminToken });
      expect(queues.body.items).toHaveLength(1);
      expect(queues.body.items[0]).toMatchObject({ name: 'Support', routingRule: 'to-all', userIds: [operator.id] });
      queueId = queues.body.items[0].id;

      await flow(page, 'admin-adds-channel', async () => {
        await page.getByRole('link', { name: 'Channels' }).click();
        await page.getByTestId('add-channel').click();
        await page.getByTestId('bot-token').fill('123456:not-a-real-token');
        await page.getByTestId('channel-queue').click();
        await page.getByRole('option', { name: 'Support' }).click();
        await page.getByText('How messages arrive').waitFor();
        await page.getByTestId('channel-save').click();
        await page.getByTestId('channel-error').waitFor({ timeout: 20_000 });
        await page.getByTestId('bot-token').fill(bot.token);
        await page.getByTestId('channel-save').click();
        const row = page.getByTestId('channel-row').filter({ hasText: '@acme_support_bot' });
        await row.waitFor({ timeout: 20_000 });
        await screenshot(page, 'admin-adds-channel');
      });
      const list = await app.request('GET', '/api/chat-channels', { token: app.adminToken });
      expect(list.body.items).toHaveLength(1);
      expect(list.body.items[0]).toMatchObject({ queueId, isActive: true, botUsername: 'acme_support_bot', hasToken: true });
      await page.context().close();

      // A chat manager without CanManageAdministration still sees operators by name and adds one.
      const chief = await app.createUser({ name: 'Carl Chats', operations: ['CanManageChats'] });
      const second = await app.createUser({ name: 'Pia Second', email: 'pia@acme.test' });
      const p2 = await (await browser.newContext({ viewport: { width: 1440, height: 900 } })).newPage();
      const forbidden: string[] = [];
      p2.on('response', (r) => {
        if (r.url().includes('/api/') && r.status() === 403) forbidden.push(r.url());
      });
      await flow(p2, 'chat-manager-queue', async () => {
        await signIn(p2, app.url, chief.email, chief.password);
        await p2.getByRole('link', { name: 'Queues' }).click();
        await p2.getByTestId('queue-card').filter({ hasText: 'Support' }).click();
        await p2.getByText('Oleg Operator <oleg@acme.test>').first().waitFor();
        await p2.getByTestId('queue-users').click();
        await p2.getByRole('option', { name: 'Pia Second <pia@acme.test>' }).click();
        await p2.getByTestId('queue-name').click();
        await p2.getByRole('option').first().waitFor({ state: 'hidden' });
        await p2.getByTestId('queue-save').click();
        await p2.getByTestId('queue-card').filter({ hasText: 'Pia Second' }).waitFor();
        await screenshot(p2, 'chat-manager-queue');
      });
      expect(forbidden).toEqual([]);
      const edited = await app.request('GET', `/api/chat-queues/${queueId}`, { token: app.adminToken });
      expect([...edited.body.userIds].sort()).toEqual([operator.id, second.id].sort());
      await p2.context().close();
    },
    90_000,
  );

  it(
    'operator sets Active, gets the chat with a sound, accepts, replies and completes',
    async () => {
      const page: Page = await (await browser.newContext({ viewport: { width: 1440, height: 900 } })).newPage();
      // Nothing the console asks for in normal use is missing (e.g. chat actions before their API exists).
      const missing: string[] = [];
      page.on('response', (r) => {
        if (r.url().includes('/api/') && r.status() === 404) missing.push(r.url());
      });
      await flow(page, 'operator-chat', async () => {
        await signIn(page, app.url, operator.email, operator.password);
        await page.getByRole('link', { name: 'Chats' }).click();
        await page.getByTestId('operator-status').getByText('Active', { exact: true }).click();
        await waitUntil(async () => (await app.request('GET', '/api/operators/me', { token: operator.token })).body.status === 'active', 'operator active');

        await tg.customerSends(bot.token, { from: CUSTOMER, text: 'Hello! Where is my order #5521?' });
        const offer = page.getByTestId('offered-chat').filter({ hasText: 'Maria' });
        await offer.waitFor({ timeout: 30_000 });
        // The notification sound played for the offer (H9).
        await waitUntil(async () => Number((await page.getByTestId('chat-sound').getAttribute('data-played')) ?? 0) >= 1, 'sound played');
        await screenshot(page, 'operator-offered');
        await offer.getByTestId('accept-chat').click();

        await page.getByTestId('chat-title').getByText('Maria').waitFor({ timeout: 15_000 });
        await page.getByTestId('chat-message').filter({ hasText: 'Where is my order #5521?' }).waitFor();
        await page.getByTestId('chat-reply').fill('Hi Maria! Your order ships today; tracking follows by email.');
        await page.getByTestId('chat-send').click();
        const sent = await tg.waitForSent(bot.token, (m) => (m.text ?? '').includes('ships today'), 20_000);
        expect(sent.chat.id).toBe(CUSTOMER.id);
        await page.getByTestId('chat-message').filter({ hasText: 'ships today' }).waitFor();
        // No chat actions API on this server yet (H7): no menu.
        expect(await page.getByRole('button', { name: 'Actions' }).count()).toBe(0);
        // Reply with a file (H10): it reaches the customer as a Telegram document.
        await page.locator('form input[type=file]').setInputFiles({ name: 'tracking.pdf', mimeType: 'application/pdf', buffer: Buffer.from('%PDF-1.4 tracking 5521') });
        await page.getByTestId('chat-reply').fill('Here is the tracking sheet.');
        await page.getByTestId('chat-send').click();
        const doc = await tg.waitForSent(bot.token, (m) => m.document?.file_name === 'tracking.pdf', 20_000);
        expect(doc.chat.id).toBe(CUSTOMER.id);
        await page.getByTestId('chat-message').filter({ hasText: 'tracking.pdf' }).waitFor();
        // A follow-up from the customer arrives live.
        await tg.customerSends(bot.token, { from: CUSTOMER, text: 'Great, thank you!' });
        await page.getByTestId('chat-message').filter({ hasText: 'Great, thank you!' }).waitFor({ timeout: 20_000 });
        // A second customer writes while the first chat is open: offered alongside (limit 2).
        await tg.customerSends(bot.token, { from: { id: 7_100_300, first_name: 'Ivan', last_name: 'Sokolov', username: 'ivan_s' }, text: 'Good afternoon! Do you deliver to Kazan?' });
        await page.getByTestId('offered-chat').filter({ hasText: 'Ivan' }).waitFor({ timeout: 30_000 });
        await screenshot(page, 'operator-chat');
        await docsScreenshot(page, 'communication-panel-chat');

        await page.getByTestId('complete-chat').click();
        await page.getByText('This chat is completed.', { exact: false }).waitFor({ timeout: 15_000 });
        // The contact was created from the Telegram user (H10); taking the chat gave the operator
        // access to it (P5), and its record page shows the chat in the timeline (P4).
        const chatId = new URL(page.url()).searchParams.get('id')!;
        const detail = await app.request('GET', `/api/chats/${chatId}`, { token: operator.token });
        expect(detail.body.contact?.name).toBe('Maria Petrova');
        await page.getByTestId('chat-contact').click();
        await page.waitForURL(/\/crm\/contacts\/[0-9a-f-]{36}$/);
        await page.getByRole('heading', { name: 'Maria Petrova' }).waitFor();
        await page.getByTestId('timeline').getByText(/Chat in Telegram/).first().waitFor({ timeout: 20_000 });
        await screenshot(page, 'contact-timeline');

        // Maria writes again: a new chat; its view offers the earlier one, collapsed (H10).
        await tg.customerSends(bot.token, { from: CUSTOMER, text: 'One more question about #5521.' });
        await page.getByRole('link', { name: 'Chats' }).click();
        const again = page.getByTestId('offered-chat').filter({ hasText: 'Maria' });
        await again.waitFor({ timeout: 30_000 });
        await again.getByTestId('accept-chat').click();
        await page.getByTestId('chat-message').filter({ hasText: 'One more question' }).waitFor({ timeout: 15_000 });
        const earlier = page.getByTestId('earlier-chats');
        await earlier.getByText('Earlier chats with this contact (1)').waitFor({ timeout: 15_000 });
        expect(await page.getByTestId('earlier-message').count()).toBe(0);
        await earlier.getByTestId('earlier-chats-toggle').click();
        await earlier.getByTestId('earlier-chat').getByText(/Chat in Telegram .* — completed/).click();
        await earlier.getByTestId('earlier-message').filter({ hasText: 'Where is my order #5521?' }).waitFor();
        await earlier.getByTestId('earlier-message').filter({ hasText: 'ships today' }).waitFor();
        // The current conversation is not repeated among the earlier ones.
        expect(await earlier.getByTestId('earlier-message').filter({ hasText: 'One more question' }).count()).toBe(0);
        await screenshot(page, 'operator-earlier-chats');
      });
      expect(missing).toEqual([]);
      const chats = await app.request('GET', '/api/chats?state=completed', { token: operator.token });
      expect(chats.body.items.some((c: { customerName: string; operatorId: string }) => c.customerName.includes('Maria') && c.operatorId === operator.id)).toBe(true);
      await page.context().close();
    },
    120_000,
  );

  it(
    'tells an operator set Inactive by an expired offer why, in words (not the server code)',
    async () => {
      // The expiry itself is covered by the routing tests; here only what the console shows for it.
      await app.platform.db.updateTable('chat_operators').set({ status: 'inactive', status_reason: 'accept-timeout' }).where('user_id', '=', operator.id).execute();
      const page = await (await browser.newContext({ viewport: { width: 1440, height: 900 } })).newPage();
      await flow(page, 'operator-accept-timeout', async () => {
        await signIn(page, app.url, operator.email, operator.password);
        await page.getByRole('link', { name: 'Chats' }).click();
        const reason = page.getByTestId('status-reason');
        await reason.getByText('You did not accept an offered chat in time, so you were set Inactive.', { exact: false }).waitFor();
        expect(await reason.textContent()).not.toContain('accept-timeout');
        await screenshot(page, 'operator-accept-timeout');
        // Setting Active clears it; going Inactive by choice ('operator') explains nothing.
        await page.getByTestId('operator-status').getByText('Active', { exact: true }).click();
        await reason.waitFor({ state: 'detached' });
        await page.getByTestId('operator-status').getByText('Inactive', { exact: true }).click();
        await waitUntil(async () => (await app.request('GET', '/api/operators/me', { token: operator.token })).body.statusReason === 'operator', 'inactive by choice');
        await page.waitForTimeout(300);
        expect(await reason.count()).toBe(0);
      });
      await page.context().close();
    },
    60_000,
  );

  it(
    'refuses to delete a channel that has chats, in plain words, and offers to deactivate it (H6)',
    async () => {
      const page = await (await browser.newContext({ viewport: { width: 1440, height: 900 } })).newPage();
      await flow(page, 'admin-channel-delete-refused', async () => {
        await signIn(page, app.url, admin.email, admin.password);
        await page.getByRole('link', { name: 'Channels' }).click();
        const row = page.getByTestId('channel-row').filter({ hasText: '@acme_support_bot' });
        await row.getByRole('button', { name: 'Delete' }).click();
        await page.getByRole('dialog').getByRole('button', { name: 'Delete' }).click();
        const refused = page.getByTestId('delete-refused');
        await refused.waitFor();
        expect((await refused.textContent()) ?? '').toMatch(/chat/i);
        await screenshot(page, 'admin-channel-delete-refused');
        await refused.getByRole('button', { name: 'Deactivate it instead' }).click();
        await waitUntil(async () => (await app.request('GET', '/api/chat-channels', { token: app.adminToken })).body.items[0]?.isActive === false, 'channel deactivated');
      });
      expect((await app.request('GET', '/api/chat-channels', { token: app.adminToken })).body.items).toHaveLength(1);
      await page.context().close();
    },
    90_000,
  );
});

async function waitUntil(cond: () => Promise<boolean>, what: string, timeoutMs = 20_000) {
  const until = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
