// E2E (B5 "unknown senders can enrich contacts"): in the console, "Suggested contacts" on the
// Contacts page lists people from stored mail who are no contacts; one is dismissed, one created;
// in the reading view "Add to contacts" next to an unknown sender creates that contact too.
// Mail is stored through the mail store (no IMAP server needed).
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { startTestApp, type TestApp, type TestUser } from '../helpers/app.js';
import { parseMessage } from '../../src/modules/mail/parse.js';
import { ensureConsoleBuilt, flow, hasChromium, launch, signIn, within } from './browser.js';

const run = hasChromium();

function eml(from: string, to: string, subject: string, date: string): Buffer {
  return Buffer.from(
    [`From: ${from}`, `To: ${to}`, `Subject: ${subject}`, `Date: ${date}`, `Message-ID: <${randomUUID()}@e2e.test>`, 'Content-Type: text/plain; charset=utf-8', '', `About ${subject}.`, ''].join('\r\n'),
  );
}

describe.skipIf(!run)('console e2e: contacts from unknown correspondents', () => {
  let app: TestApp;
  let browser: Browser;
  let page: Page;
  let user: TestUser;

  beforeAll(async () => {
    ensureConsoleBuilt();
    [app, browser] = await Promise.all([startTestApp(), launch()]);
    user = await app.createUser({ name: 'Ann Archer', email: 'ann.archer@example.test' });
    const db = app.platform.db;
    const provider = await db.selectFrom('mail_providers').select('id').orderBy('id').executeTakeFirstOrThrow();
    const mailboxId = randomUUID();
    const now = new Date().toISOString();
    await db
      .insertInto('mailboxes')
      .values({
        id: mailboxId, user_id: user.id, email: 'ann@acme.test', login: 'ann@acme.test', provider_id: provider.id, kind: 'imap', status: 'disabled', status_reason: null,
        load_period: 'all', auto_load: 0, all_folders: 1, selected_folders: '[]', send_enabled: 0, default_sender: null, alias: null,
        use_signature: 0, signature_html: null, created_at: now, updated_at: now,
      } as any)
      .execute();
    const mails = [
      eml('Carol Client <carol@client.test>', 'ann@acme.test', 'Order one', 'Thu, 01 Jan 2026 10:00:00 +0000'),
      eml('Carol Client <carol@client.test>', 'ann@acme.test', 'Order two', 'Fri, 02 Jan 2026 10:00:00 +0000'),
      eml('Spam Sender <spam@junk.test>', 'ann@acme.test', 'You won', 'Sat, 03 Jan 2026 10:00:00 +0000'),
      eml('Dave Partner <dave@partner.test>', 'ann@acme.test', 'Meeting notes', 'Sun, 04 Jan 2026 10:00:00 +0000'),
    ];
    for (const raw of mails) await app.modules.mail.store.ingest(mailboxId, [{ parsed: await parseMessage(raw), raw, direction: 'in', internalDate: null }]);
    page = await (await browser.newContext({ viewport: { width: 1440, height: 900 } })).newPage();
  }, 180_000);
  afterAll(async () => {
    await within(browser?.close(), 20_000, 'browser.close');
    await within(app?.close(), 60_000, 'server close');
  }, 120_000);

  it('dismisses and creates from "Suggested contacts" and adds a sender from the reading view', () =>
    flow(page, 'contact-suggestions', async (step) => {
      step('sign in');
      await signIn(page, app.url, user.email, user.password);
      step('suggested contacts');
      await page.goto(app.url + '/crm/contacts');
      const section = page.getByTestId('suggested-contacts');
      await section.getByText('carol@client.test').waitFor();
      await section.getByText('spam@junk.test').waitFor();
      await section.getByRole('row', { name: /spam@junk\.test/ }).getByRole('button', { name: 'Dismiss' }).click();
      await section.getByText('spam@junk.test').waitFor({ state: 'detached' });
      await section.getByRole('row', { name: /carol@client\.test/ }).getByRole('button', { name: 'Create contact' }).click();
      await section.getByText('carol@client.test').waitFor({ state: 'detached' });
      // The new contact is in the list, named from the mail.
      await page.getByRole('cell', { name: 'Carol Client' }).waitFor();

      step('reading view');
      await page.goto(app.url + '/panel/email');
      await page.getByTestId('email-row').filter({ hasText: 'Meeting notes' }).click();
      const unknown = page.getByTestId('unknown-participants');
      await unknown.getByText('dave@partner.test', { exact: false }).waitFor();
      await unknown.getByTestId('add-to-contacts').click();
      await unknown.waitFor({ state: 'detached' });
      // A message from Carol (now a contact) offers nothing to add.
      await page.getByTestId('email-row').filter({ hasText: 'Order two' }).click();
      await page.getByTestId('message').getByText('About Order two.').waitFor();
      expect(await page.getByTestId('unknown-participants').count()).toBe(0);

      const contacts = await app.request('GET', '/api/contacts?limit=50', { token: user.token });
      expect(contacts.body.items.map((c: any) => c.name).sort()).toEqual(['Carol Client', 'Dave Partner']);
      const suggestions = await app.request('GET', '/api/contact-suggestions', { token: user.token });
      expect(suggestions.body.items).toEqual([]);
    }), 120_000);
});
