// The emulator's customer page in real Chromium: a person writes to a bot (text and a file) and
// sees the bot's reply appear.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { startTelegramEmulator, type TelegramEmulator, type TgUpdate } from '../../src/emulators/telegram/index.js';
import { hasChromium, launch } from '../e2e/browser.js';

const CHROMIUM_OK = hasChromium();

describe.runIf(CHROMIUM_OK)('Telegram emulator customer page', () => {
  let tg: TelegramEmulator;
  let browser: Browser;

  beforeAll(async () => {
    [tg, browser] = await Promise.all([startTelegramEmulator(), launch()]);
  });
  afterAll(async () => {
    await browser?.close();
    await tg?.close();
  });

  async function getUpdates(token: string): Promise<TgUpdate[]> {
    const res = await fetch(`${tg.url}/bot${token}/getUpdates`);
    return ((await res.json()) as { result: TgUpdate[] }).result;
  }

  it('sends text and files as a customer and shows the bot replies', async () => {
    const { token } = tg.createBot({ username: 'page_support_bot', firstName: 'Support' });
    const page = await browser.newPage();
    try {
      await page.goto(`${tg.url}/`);
      await expect.poll(() => page.locator('#bot option').allTextContents(), { timeout: 10_000 }).toEqual(['@page_support_bot']);
      await expect.poll(() => page.locator('#botinfo code').textContent(), { timeout: 10_000 }).toBe(token);

      await page.fill('#uid', '7770001');
      await page.fill('#first', 'Mira');
      await page.fill('#uname', 'mira');
      await page.fill('#text', 'Is my parcel on its way?');
      await page.click('#send button');
      await expect.poll(async () => (await getUpdates(token)).length, { timeout: 10_000 }).toBe(1);
      const [u] = await getUpdates(token);
      expect(u.message).toMatchObject({ text: 'Is my parcel on its way?', from: { id: 7770001, first_name: 'Mira', username: 'mira' } });

      await page.setInputFiles('#file', { name: 'receipt.pdf', mimeType: 'application/pdf', buffer: Buffer.from('%PDF receipt') });
      await page.click('#send button');
      await expect.poll(async () => (await getUpdates(token)).length, { timeout: 10_000 }).toBe(2);
      const doc = (await getUpdates(token))[1].message!.document!;
      expect(doc).toMatchObject({ file_name: 'receipt.pdf', mime_type: 'application/pdf' });

      await fetch(`${tg.url}/bot${token}/sendMessage`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ chat_id: 7770001, text: 'Yes, it ships today <b>really</b>' }),
      });
      const reply = page.locator('.msg.out');
      await expect.poll(() => reply.count(), { timeout: 10_000 }).toBe(1);
      // Shown as text, never interpreted as HTML.
      expect(await reply.first().innerText()).toContain('Yes, it ships today <b>really</b>');
      expect(await page.locator('.msg.in').count()).toBe(2);
      expect(await page.locator('.msg.in a').textContent()).toContain('receipt.pdf');
    } finally {
      await page.close();
    }
  });
});
