// E2E (W1, M1, M3, M5, P2): an administrator signs in to the console in Chromium, adds a mail
// provider through the form (security fills the port and vice versa, OAuth fields appear and are
// required), adds a domain, and runs the connection test against a real Dovecot with a wrong
// password, which reports the failing step in plain words. A user without administration rights
// does not see the Administration section, and switches the console to Russian. System settings:
// typed editors, a write-only secret, the notification sound upload and reset.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { dovecotAvailable, startDovecot, type Dovecot } from '../helpers/dovecot.js';
import { startSmtpServer, type TestSmtpServer } from '../helpers/smtp-server.js';
import { REQUIRE_SERVICES } from '../helpers/services.js';
import { ensureConsoleBuilt, flow, hasChromium, launch, screenshot, signIn, within } from './browser.js';
import { ru } from '../../web/src/i18n/ru.js';

const RU = { mailboxNone: ru['mailbox.none'], myStatus: ru['chat.myStatus'], active: ru['common.active'] };

const run = hasChromium() && (dovecotAvailable() || REQUIRE_SERVICES);

describe.skipIf(!run)('console e2e: administrator adds a mail provider', () => {
  let app: TestApp;
  let dovecot: Dovecot;
  let smtp: TestSmtpServer;
  let browser: Browser;
  let page: Page;
  let admin: { email: string; password: string };

  beforeAll(async () => {
    ensureConsoleBuilt();
    [app, dovecot, smtp, browser] = await Promise.all([
      startTestApp(),
      startDovecot({ users: [{ user: 'ann@acme.test', password: 'right-password' }] }),
      startSmtpServer({ mode: 'plain' }),
      launch(),
    ]);
    admin = await app.createUser({ name: 'Alice Admin', operations: ['CanManageAdministration'] });
    page = await (await browser.newContext({ viewport: { width: 1440, height: 900 } })).newPage();
  }, 180_000);
  afterAll(async () => {
    await within(browser?.close(), 20_000, 'browser.close');
    await within(Promise.all([app?.close(), dovecot?.close(), smtp?.close()]), 60_000, 'servers close');
  }, 120_000);

  it('creates an IMAP/SMTP provider with a domain and shows the failing step of a connection test', () => flow(page, 'admin-adds-provider', async () => {
    await signIn(page, app.url, admin.email, admin.password);
    await page.getByText('Administration', { exact: true }).waitFor();
    await page.getByRole('link', { name: 'Mail providers' }).click();
    // The preconfigured catalog (M2) is listed.
    await page.getByTestId('provider-row').first().waitFor();
    await page.getByRole('button', { name: 'Add provider' }).click();

    await page.getByTestId('provider-name').fill('Acme Mail');
    await page.getByTestId('imapHost').fill(dovecot.host);
    // Security fills the usual port...
    await pickSelect(page, 'imapSecurity', 'STARTTLS');
    expect(await page.getByTestId('imapPort').inputValue()).toBe('143');
    await pickSelect(page, 'smtpSecurity', 'STARTTLS');
    expect(await page.getByTestId('smtpPort').inputValue()).toBe('587');
    // ...and a usual port picks its security.
    await page.getByTestId('smtpPort').fill('465');
    expect(await page.getByTestId('smtpSecurity').inputValue()).toBe('SSL/TLS');
    // Now the real servers: plain (security none) on their test ports. "None" fills 143, which
    // is also STARTTLS's port: the choice stays "None", also when the port is typed again.
    await pickSelect(page, 'imapSecurity', 'None');
    expect(await page.getByTestId('imapPort').inputValue()).toBe('143');
    expect(await page.getByTestId('imapSecurity').inputValue()).toBe('None');
    await page.getByTestId('imapPort').fill('143');
    expect(await page.getByTestId('imapSecurity').inputValue()).toBe('None');
    await page.getByTestId('imapPort').fill(String(dovecot.port));
    await page.getByTestId('smtpHost').fill(smtp.host);
    await pickSelect(page, 'smtpSecurity', 'None');
    await page.getByTestId('smtpPort').fill(String(smtp.port));

    // OAuth 2.0: its fields appear and are required.
    await page.getByText('OAuth 2.0', { exact: true }).click();
    await page.getByTestId('oauth-client-id').waitFor();
    await page.getByTestId('provider-save').click();
    await page.getByText('Required').first().waitFor();
    await page.getByText('User name and password', { exact: true }).click();
    await page.getByTestId('oauth-client-id').waitFor({ state: 'detached' });

    await page.getByTestId('provider-save').click();
    await page.waitForURL(/\/admin\/mail-providers\/[0-9a-f-]{36}$/, { timeout: 20_000 });
    const providerId = page.url().split('/').pop()!;

    // Domain directory (M3).
    await page.getByPlaceholder('example.com', { exact: true }).fill('acme.test');
    await page.getByRole('button', { name: 'Add', exact: true }).click();
    await page.getByText('acme.test', { exact: true }).waitFor();

    // Connection test (M5) with a wrong password: the login step fails, in plain words.
    await page.getByPlaceholder('Test mailbox (optional)').fill('ann@acme.test');
    await page.getByPlaceholder('Password', { exact: true }).fill('wrong-password');
    await page.getByTestId('provider-test').click();
    const result = page.getByTestId('connection-test');
    await result.waitFor({ timeout: 30_000 });
    expect(await result.getAttribute('data-ok')).toBe('false');
    await result.getByText(/Failed at: Sign in/).waitFor();
    await screenshot(page, 'admin-adds-provider');

    const saved = await app.request('GET', `/api/mail-providers/${providerId}`, { token: app.adminToken });
    expect(saved.status).toBe(200);
    expect(saved.body).toMatchObject({ name: 'Acme Mail', type: 'imap', authMethod: 'basic', imap: { host: dovecot.host, port: dovecot.port, security: 'none' }, smtp: { port: smtp.port, security: 'none' } });
    expect(saved.body.domains).toContain('acme.test');
  }), 120_000);

  it('refuses an Exchange provider that neither loads nor sends mail (M1)', () =>
    flow(page, 'admin-exchange-refused', async () => {
      await page.getByRole('link', { name: 'Mail providers' }).click();
      await page.getByRole('button', { name: 'Add provider' }).click();
      await page.getByTestId('provider-name').fill('Contoso Exchange');
      await page.getByText('Exchange / Microsoft 365', { exact: true }).click();
      await page.getByLabel('Service address').fill('mail.contoso.test');
      await page.getByLabel('Load emails').uncheck();
      await page.getByLabel('Send emails').uncheck();
      await page.getByTestId('provider-save').click();
      await page.getByText('Turn on loading or sending emails (at least one).').waitFor();
      await screenshot(page, 'admin-exchange-refused');
      expect(page.url()).toMatch(/\/admin\/mail-providers\/new$/);
      const list = await app.request('GET', '/api/mail-providers?limit=500', { token: app.adminToken });
      expect(list.body.items.some((p: { name: string }) => p.name === 'Contoso Exchange')).toBe(false);
      // One of them on is enough.
      await page.getByLabel('Send emails').check();
      await page.getByTestId('provider-save').click();
      await page.waitForURL(/\/admin\/mail-providers\/[0-9a-f-]{36}$/, { timeout: 20_000 });
      const saved = await app.request('GET', `/api/mail-providers/${page.url().split('/').pop()}`, { token: app.adminToken });
      expect(saved.body).toMatchObject({ type: 'exchange', exchange: { serviceAddress: 'mail.contoso.test', loadEmails: false, sendEmails: true } });
    }), 60_000);

  it('edits typed system settings: integer, write-only secret, notification sound upload and reset (P3, H9)', () =>
    flow(page, 'admin-settings', async () => {
      await page.getByRole('link', { name: 'System settings' }).click();
      const interval = page.getByTestId('setting-MailboxSyncInterval');
      await interval.locator('input').fill('7');
      await interval.getByRole('button', { name: 'Save' }).click();
      await waitFor(async () => (await app.request('GET', '/api/system-settings/MailboxSyncInterval', { token: app.adminToken })).body.value === 7, 'interval saved');

      const secret = page.getByTestId('setting-GoogleClientSecret');
      await secret.getByText('Not set').waitFor();
      await secret.locator('input').fill('very-secret-value');
      await secret.getByRole('button', { name: 'Save' }).click();
      await secret.getByText('Set', { exact: true }).waitFor();
      // Write-only: the input is emptied and the page never contains the value.
      expect(await secret.locator('input').inputValue()).toBe('');
      expect(await page.content()).not.toContain('very-secret-value');

      const sound = page.getByTestId('setting-OmniChatNotificationSound');
      await sound.getByText('Built-in sound', { exact: true }).waitFor();
      const wav = Buffer.concat([Buffer.from('RIFF'), Buffer.alloc(4), Buffer.from('WAVEfmt '), Buffer.alloc(32)]);
      await sound.locator('input[type=file]').setInputFiles({ name: 'ding.wav', mimeType: 'audio/wav', buffer: wav });
      await sound.getByText('ding.wav').waitFor();
      await screenshot(page, 'admin-settings');
      await sound.getByRole('button', { name: 'Back to default' }).click();
      await sound.getByText('Built-in sound', { exact: true }).waitFor();
    }), 90_000);

  it('hides Administration from a user without CanManageAdministration', async () => {
    const user = await app.createUser({ name: 'Bob Plain' });
    const ctx = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    const p = await ctx.newPage();
    await signIn(p, app.url, user.email, user.password);
    await p.getByRole('link', { name: 'My mailboxes' }).waitFor();
    expect(await p.getByText('Administration', { exact: true }).count()).toBe(0);
    expect(await p.getByRole('link', { name: 'Mail providers' }).count()).toBe(0);
    // Saving a new name in the profile updates the header at once, and Save is disabled again.
    await p.getByRole('link', { name: 'Profile' }).click();
    await p.getByTestId('profile-name').fill('Bob Renamed');
    await p.getByTestId('profile-save').click();
    await p.getByTestId('user-menu').getByText('Bob Renamed').waitFor();
    await waitFor(async () => await p.getByTestId('profile-save').isDisabled(), 'Save disabled after saving');
    await screenshot(p, 'user-profile-renamed');
    await p.getByRole('link', { name: 'My mailboxes' }).click();
    await p.getByTestId('profile-name').waitFor({ state: 'detached' });
    // The interface language is per user: switching to Russian re-labels the console and is saved.
    await p.getByRole('textbox', { name: 'Language' }).click();
    await p.getByRole('option', { name: 'Русский' }).click();
    await p.getByRole('link', { name: 'Мои почтовые ящики' }).waitFor();
    const me = await app.request('GET', '/api/auth/me', { token: user.token });
    expect(me.body.language).toBe('ru');
    // The communication panel speaks Russian too: tabs, the empty mailbox state, the chat tab.
    await p.getByRole('link', { name: 'Почта' }).click();
    await p.getByRole('tab', { name: 'Почта' }).waitFor();
    await p.getByText(RU.mailboxNone, { exact: true }).waitFor();
    await p.getByRole('tab', { name: 'Чаты' }).click();
    await p.getByText(RU.myStatus, { exact: true }).waitFor();
    await p.getByText(RU.active, { exact: true }).waitFor();
    expect(await p.getByText('My status', { exact: true }).count()).toBe(0);
    await screenshot(p, 'panel-russian');
    await ctx.close();
  }, 60_000);
});

async function waitFor(cond: () => Promise<boolean>, what: string, timeoutMs = 20_000) {
  const until = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Mantine Select: open it by its test id and click the option. */
async function pickSelect(page: Page, testId: string, option: string) {
  await page.getByTestId(testId).click();
  await page.getByRole('option', { name: option, exact: true }).click();
}
