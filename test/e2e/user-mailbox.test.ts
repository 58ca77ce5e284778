// E2E (W1, B1, B3, B4, B5): a user adds their mailbox in the console (email → provider detected from
// the domain → password verified against a real Dovecot + SMTP server → notification), sees the
// synced mail in the communication panel, opens a message (HTML sanitised, remote image blocked
// until asked), and replies; the reply reaches the SMTP server with the right headers.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { startTestApp, type TestApp, type TestUser } from '../helpers/app.js';
import { dovecotAvailable, startDovecot, type Dovecot } from '../helpers/dovecot.js';
import { startSmtpServer, type TestSmtpServer } from '../helpers/smtp-server.js';
import { REQUIRE_SERVICES } from '../helpers/services.js';
import { ensureConsoleBuilt, flow, hasChromium, launch, screenshot, signIn } from './browser.js';

const ANN = { user: 'ann@acme.test', password: 'ann-imap-pw-1' };
const run = hasChromium() && (dovecotAvailable() || REQUIRE_SERVICES);

function message(opts: { from: string; subject: string; html: string; date: Date; id: string }): string {
  return [
    `From: ${opts.from}`,
    `To: Ann Archer <${ANN.user}>`,
    `Subject: ${opts.subject}`,
    `Date: ${opts.date.toUTCString()}`,
    `Message-ID: <${opts.id}@client.test>`,
    'MIME-Version: 1.0',
    'Content-Type: text/html; charset=utf-8',
    '',
    opts.html,
    '',
  ].join('\r\n');
}

describe.skipIf(!run)('console e2e: a user adds a mailbox, reads and replies', () => {
  let app: TestApp;
  let dovecot: Dovecot;
  let smtp: TestSmtpServer;
  let browser: Browser;
  let page: Page;
  let user: TestUser;

  beforeAll(async () => {
    ensureConsoleBuilt();
    [app, dovecot, smtp, browser] = await Promise.all([startTestApp(), startDovecot({ users: [ANN] }), startSmtpServer({ mode: 'starttls', users: [ANN] }), launch()]);
    const p = await app.request('POST', '/api/mail-providers', {
      token: app.adminToken,
      body: {
        name: 'Acme Mail',
        type: 'imap',
        imap: { host: dovecot.host, port: dovecot.port, security: 'starttls' },
        smtp: { host: smtp.host, port: smtp.port, security: 'starttls' },
        allowSelfSigned: true,
        domains: ['acme.test'],
      },
    });
    expect(p.status, JSON.stringify(p.body)).toBe(201);
    const now = Date.now();
    await dovecot.append(
      ANN.user,
      'INBOX',
      message({
        from: 'Bob Customer <bob@client.test>',
        subject: 'Quarterly order',
        id: 'order-1',
        date: new Date(now - 3600_000),
        html: '<p>Hello Ann,</p><p>Please confirm our <b>quarterly order</b> of 40 units.</p><img src="https://tracker.example.com/pixel.png" alt="logo" width="120" height="40"><script>window.pwned = 1</script><p>Thanks, Bob</p>',
      }),
    );
    await dovecot.append(
      ANN.user,
      'INBOX',
      message({ from: 'Carla Supplier <carla@vendor.test>', subject: 'Invoice 2026-11', id: 'inv-1', date: new Date(now - 7200_000), html: '<p>The invoice for November is attached to your account.</p>' }),
    );
    user = await app.createUser({ name: 'Ann Archer', email: 'ann.archer@example.test' });
    page = await (await browser.newContext({ viewport: { width: 1440, height: 900 } })).newPage();
  });
  afterAll(async () => {
    await browser?.close();
    await Promise.all([app?.close(), dovecot?.close(), smtp?.close()]);
  });

  it(
    'adds the mailbox, sees synced mail, opens a message and replies',
    () =>
      flow(page, 'user-mailbox', async () => {
        await signIn(page, app.url, user.email, user.password);
        await page.getByRole('link', { name: 'My mailboxes' }).click();
        await page.getByTestId('add-mailbox').click();
        await page.getByTestId('mailbox-email').fill(ANN.user);
        await page.getByRole('button', { name: 'Next' }).click();
        // Detected from the domain directory (M3).
        await page.getByTestId('detected-provider').getByText('Mail service: Acme Mail.').waitFor();
        // A wrong password is refused with the failing step; nothing is created.
        await page.getByTestId('mailbox-password').fill('not-the-password');
        await page.getByTestId('mailbox-connect').click();
        await page.getByTestId('connection-test').getByText(/Failed at: Sign in/).waitFor({ timeout: 30_000 });
        await page.getByTestId('mailbox-password').fill(ANN.password);
        await page.getByTestId('mailbox-connect').click();
        await page.getByTestId('mailbox-added').waitFor({ timeout: 30_000 });
        // The notification links to mail and to the mailbox settings (B1).
        await page.getByTestId('notifications-bell').click();
        const note = page.getByTestId('notification').first();
        await note.waitFor({ timeout: 15_000 });
        await page.keyboard.press('Escape');

        await page.getByRole('button', { name: 'Open mail' }).click();
        await page.waitForURL(/\/panel\/email/);
        // Synced mail shows up (live or after the first sync).
        const row = page.getByTestId('email-row').filter({ hasText: 'Quarterly order' });
        await row.waitFor({ timeout: 45_000 });
        await page.getByTestId('email-row').filter({ hasText: 'Invoice 2026-11' }).waitFor({ timeout: 15_000 });
        await row.click();
        await page.getByTestId('email-subject').getByText('Quarterly order').waitFor();
        const body = page.getByTestId('mail-body');
        await body.getByText('quarterly order').waitFor();
        // Sanitised: no script ran; the remote image is blocked until asked.
        expect(await page.evaluate(() => (globalThis as unknown as { pwned?: number }).pwned)).toBeUndefined();
        expect(await body.locator('img').count()).toBe(0);
        await page.getByTestId('images-blocked').waitFor();
        await screenshot(page, 'user-reads-mail');
        await page.getByRole('button', { name: 'Show images' }).click();
        expect(await body.locator('img[src="https://tracker.example.com/pixel.png"]').count()).toBe(1);

        // Reply (B4): To is the sender, subject gets "Re:", sent through the real SMTP server.
        await page.getByTestId('reply').click();
        await page.getByText('bob@client.test').first().waitFor();
        expect(await page.getByTestId('compose-subject').inputValue()).toBe('Re: Quarterly order');
        await page.getByTestId('signature-editor').click();
        await page.keyboard.press('Control+Home');
        await page.keyboard.type('Confirmed, Bob. Shipping on Monday.');
        await screenshot(page, 'user-replies');
        await page.getByTestId('compose-send').click();
        const [sent] = await smtp.waitForMessages(1, 30_000);
        expect(sent.envelope.rcptTo.map((r) => r.toLowerCase())).toContain('bob@client.test');
        expect(sent.raw.toString()).toMatch(/Subject: Re: Quarterly order/);
        expect(sent.raw.toString()).toMatch(/In-Reply-To: <order-1@client\.test>/);
        expect(sent.raw.toString()).toContain('Shipping on Monday');
      }),
    150_000,
  );
});
