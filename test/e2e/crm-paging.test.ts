// E2E (P4/W1): long lists page on: the activities list shows its first 100 and "Load more" brings
// the rest; a record's timeline shows 50 entries and "Load more" the older ones.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { startTestApp, type TestApp, type TestUser } from '../helpers/app.js';
import { ensureConsoleBuilt, flow, hasChromium, launch, screenshot, signIn, within } from './browser.js';

describe.skipIf(!hasChromium())('console e2e: activities and timelines page on', () => {
  let app: TestApp;
  let browser: Browser;
  let page: Page;
  let user: TestUser;
  let contactId: string;

  beforeAll(async () => {
    ensureConsoleBuilt();
    [app, browser] = await Promise.all([startTestApp(), launch()]);
    user = await app.createUser({ name: 'Paula Pager', email: 'paula@acme.test' });
    const start = Date.parse('2026-03-02T09:00:00Z');
    for (let i = 0; i < 105; i++) {
      const r = await app.request('POST', '/api/activities', {
        token: user.token,
        body: { title: `Call number ${String(i + 1).padStart(3, '0')}`, type: 'task', start: new Date(start + i * 3600_000).toISOString(), end: new Date(start + i * 3600_000 + 1800_000).toISOString() },
      });
      expect(r.status, JSON.stringify(r.body)).toBe(201);
    }
    const c = await app.request('POST', '/api/contacts', { token: user.token, body: { name: 'Tim Timeline' } });
    expect(c.status, JSON.stringify(c.body)).toBe(201);
    contactId = c.body.id;
    // 1 "created" + 59 "changed" entries: more than the 50 of one page.
    for (let i = 1; i <= 59; i++) expect((await app.request('PATCH', `/api/contacts/${contactId}`, { token: user.token, body: { jobTitle: `Title ${i}` } })).status).toBe(200);
    page = await (await browser.newContext({ viewport: { width: 1440, height: 900 } })).newPage();
  }, 180_000);
  afterAll(async () => {
    await within(browser?.close(), 20_000, 'browser.close');
    await within(app?.close(), 60_000, 'server close');
  }, 120_000);

  it('loads more activities and older timeline entries on request', () =>
    flow(page, 'crm-paging', async () => {
      await signIn(page, app.url, user.email, user.password);
      await page.getByRole('link', { name: 'Activities' }).click();
      const rows = page.getByTestId('activity-row');
      await rows.first().waitFor();
      expect(await rows.count()).toBe(100);
      await page.getByTestId('activities-more').click();
      await waitUntil(async () => (await rows.count()) === 105, '105 activities');
      await page.getByTestId('activities-more').waitFor({ state: 'detached' });
      await screenshot(page, 'crm-activities-paged');

      await page.goto(`${app.url}/crm/contacts/${contactId}`);
      const entries = page.getByTestId('timeline').locator('.mantine-Timeline-item');
      await entries.first().waitFor();
      expect(await entries.count()).toBe(50);
      await page.getByTestId('timeline-more').click();
      await waitUntil(async () => (await entries.count()) === 60, '60 timeline entries');
      // The oldest entry is the creation, said in the console's words.
      await page.getByTestId('timeline').getByText('Created', { exact: true }).waitFor();
      await page.getByTestId('timeline-more').waitFor({ state: 'detached' });
      await screenshot(page, 'crm-timeline-paged');
    }), 60_000);
});

async function waitUntil(cond: () => Promise<boolean>, what: string, timeoutMs = 20_000) {
  const until = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
