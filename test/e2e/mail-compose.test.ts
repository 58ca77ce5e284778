// E2E (B4, W1): reply-all and forward in the Email tab. Reply-all answers the sender and copies
// everyone else on the message except the user's own address; forward carries the original's
// attachments and quotes it. Both go out through a real SMTP server from a mailbox synced from a
// real Dovecot.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { startTestApp, type TestApp, type TestUser } from '../helpers/app.js';
import { dovecotAvailable, startDovecot, type Dovecot } from '../helpers/dovecot.js';
import { startSmtpServer, type TestSmtpServer } from '../helpers/smtp-server.js';
import { REQUIRE_SERVICES } from '../helpers/services.js';
import { ensureConsoleBuilt, flow, hasChromium, launch, screenshot, signIn, within } from './browser.js';

const ANN = { user: 'ann@acme.test', password: 'ann-imap-pw-2' };
const run = hasChromium() && (dovecotAvailable() || REQUIRE_SERVICES);

const KICKOFF = [
  'From: Bob Customer <bob@client.test>',
  'To: Ann Archer <ann@acme.test>',
  'Cc: Carl Client <carl@client.test>, Dora Client <dora@client.test>',
  'Subject: Project kickoff',
  `Date: ${new Date(Date.now() - 3600_000).toUTCString()}`,
  'Message-ID: <kickoff-1@client.test>',
  'MIME-Version: 1.0',
  'Content-Type: text/plain; charset=utf-8',
  '',
  'Shall we start on Monday at 10:00?',
  '',
].join('\r\n');

const CONTRACT = [
  'From: Eva Chen <eva@bigretail.test>',
  'To: Ann Archer <ann@acme.test>',
  'Subject: Signed contract',
  `Date: ${new Date(Date.now() - 2 * 3600_000).toUTCString()}`,
  'Message-ID: <contract-1@bigretail.test>',
  'MIME-Version: 1.0',
  'Content-Type: multipart/mixed; boundary="b-77"',
  '',
  '--b-77',
  'Content-Type: text/plain; charset=utf-8',
  '',
  'Please find the signed contract attached.',
  '--b-77',
  'Content-Type: application/pdf; name="contract.pdf"',
  'Content-Disposition: attachment; filename="contract.pdf"',
  'Content-Transfer-Encoding: base64',
  '',
  Buffer.from('%PDF-1.4 signed contract').toString('base64'),
  '--b-77--',
  '',
].join('\r\n');

describe.skipIf(!run)('console e2e: reply-all and forward', () => {
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
      body: { name: 'Acme Mail', type: 'imap', imap: { host: dovecot.host, port: dovecot.port, security: 'starttls' }, smtp: { host: smtp.host, port: smtp.port, security: 'starttls' }, allowSelfSigned: true, domains: ['acme.test'] },
    });
    expect(p.status, JSON.stringify(p.body)).toBe(201);
    await dovecot.append(ANN.user, 'INBOX', CONTRACT, [], new Date(Date.now() - 2 * 3600_000));
    await dovecot.append(ANN.user, 'INBOX', KICKOFF, [], new Date(Date.now() - 3600_000));
    user = await app.createUser({ name: 'Ann Archer', email: 'ann.archer@example.test' });
    const m = await app.request('POST', '/api/mailboxes', { token: user.token, body: { email: ANN.user, password: ANN.password } });
    expect(m.status, JSON.stringify(m.body)).toBe(201);
    await waitUntil(async () => (await app.request('GET', '/api/emails?limit=10', { token: user.token })).body.items?.length === 2, 'both messages synced', 60_000);
    page = await (await browser.newContext({ viewport: { width: 1440, height: 900 } })).newPage();
  }, 180_000);
  afterAll(async () => {
    await within(browser?.close(), 20_000, 'browser.close');
    await within(Promise.all([app?.close(), dovecot?.close(), smtp?.close()]), 60_000, 'servers close');
  }, 120_000);

  it('reply-all copies everyone but me; forward carries the attachment', () =>
    flow(page, 'mail-reply-all-forward', async (step) => {
      step('reply all');
      await signIn(page, app.url, user.email, user.password);
      await page.getByTestId('email-row').filter({ hasText: 'Project kickoff' }).click();
      await page.getByTestId('email-subject').getByText('Project kickoff').waitFor();
      await page.getByRole('button', { name: 'Reply all' }).click();
      const dialog = page.getByRole('dialog');
      await dialog.getByTestId('compose-cc').waitFor();
      expect(await page.getByTestId('compose-subject').inputValue()).toBe('Re: Project kickoff');
      await dialog.getByText('bob@client.test', { exact: true }).waitFor();
      await dialog.getByText('carl@client.test', { exact: true }).waitFor();
      await dialog.getByText('dora@client.test', { exact: true }).waitFor();
      expect(await dialog.getByText('ann@acme.test', { exact: true }).count()).toBe(0);
      await page.getByTestId('signature-editor').click();
      await page.keyboard.press('Control+Home');
      await page.keyboard.type('Monday at 10:00 works for all of us.');
      await screenshot(page, 'mail-reply-all');
      await page.getByTestId('compose-send').click();
      const [replyAll] = await smtp.waitForMessages(1, 30_000);
      const raw = replyAll.raw.toString();
      expect(replyAll.envelope.rcptTo.map((r) => r.toLowerCase()).sort()).toEqual(['bob@client.test', 'carl@client.test', 'dora@client.test']);
      expect(raw).toMatch(/^To: .*bob@client\.test/m);
      expect(raw).toMatch(/^Cc: .*carl@client\.test.*dora@client\.test/m);
      expect(raw).toMatch(/Subject: Re: Project kickoff/);
      expect(raw).toMatch(/In-Reply-To: <kickoff-1@client\.test>/);
      expect(raw).toContain('Monday at 10:00 works for all of us.');
      await dialog.waitFor({ state: 'detached' });

      step('forward');
      await page.getByTestId('email-row').filter({ hasText: 'Signed contract' }).click();
      await page.getByTestId('email-subject').getByText('Signed contract').waitFor();
      await page.getByRole('button', { name: 'Forward' }).click();
      expect(await page.getByTestId('compose-subject').inputValue()).toBe('Fwd: Signed contract');
      await dialog.getByText('The 1 attachment(s) of the original message are forwarded too.').waitFor();
      await page.getByTestId('compose-to').fill('legal@partner.test');
      await page.keyboard.press('Enter');
      await dialog.getByText('legal@partner.test', { exact: true }).waitFor();
      await screenshot(page, 'mail-forward');
      await page.getByTestId('compose-send').click();
      const all = await smtp.waitForMessages(2, 30_000);
      const fwd = all[1]!;
      const fraw = fwd.raw.toString();
      expect(fwd.envelope.rcptTo.map((r) => r.toLowerCase())).toEqual(['legal@partner.test']);
      expect(fraw).toMatch(/Subject: Fwd: Signed contract/);
      expect(fraw).toMatch(/filename="?contract\.pdf"?/);
      expect(fraw).toContain(Buffer.from('%PDF-1.4 signed contract').toString('base64'));
      // The original is quoted (its text in the forwarded body).
      expect(fraw).toMatch(/Please find the signed contract attached\./);
      expect(fraw).not.toMatch(/In-Reply-To:/);
      await dialog.waitFor({ state: 'detached' });
    }), 90_000);
});

async function waitUntil(cond: () => Promise<boolean>, what: string, timeoutMs = 20_000) {
  const until = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}
