// E2E: static groups in the console. A user pages through the groups list, creates a contact
// group, adds two contacts from the group page's search, takes one out again, adds a third from the
// contact's own page ("Add to group"), finds the group by search, renames it, and the API (with the
// user's token) agrees on the members; an activity group takes an activity; the contact group is
// deleted (its contacts stay).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { startTestApp, type TestApp, type TestUser } from '../helpers/app.js';
import { ensureConsoleBuilt, flow, hasChromium, launch, screenshot, signIn, within } from './browser.js';

describe.skipIf(!hasChromium())('console e2e: groups', () => {
  let app: TestApp;
  let browser: Browser;
  let page: Page;
  let user: TestUser;
  const contactIds: Record<string, string> = {};
  let activityGroupId: string;
  let activityId: string;

  beforeAll(async () => {
    ensureConsoleBuilt();
    [app, browser] = await Promise.all([startTestApp(), launch()]);
    user = await app.createUser({ name: 'Gina Groups', email: 'gina@acme.test' });
    for (const name of ['Alice Archer', 'Bob Baker', 'Cora Cooper']) {
      const c = await app.request('POST', '/api/contacts', { token: user.token, body: { name } });
      expect(c.status, JSON.stringify(c.body)).toBe(201);
      contactIds[name] = c.body.id;
    }
    // Other groups, so the search has something to leave out; 52 of them: the list shows 50 and
    // "Load more" the rest.
    for (let i = 1; i <= 50; i++) expect((await app.request('POST', '/api/groups', { token: user.token, body: { name: `Older list ${i}`, kind: 'contacts' } })).status).toBe(201);
    for (const body of [{ name: 'Partners', kind: 'contacts' }, { name: 'Kick-off meetings', kind: 'activities' }]) {
      const g = await app.request('POST', '/api/groups', { token: user.token, body });
      expect(g.status, JSON.stringify(g.body)).toBe(201);
      if (body.kind === 'activities') activityGroupId = g.body.id;
    }
    const a = await app.request('POST', '/api/activities', { token: user.token, body: { title: 'Kick-off with Acme', start: '2026-12-10T10:00:00.000Z', end: '2026-12-10T11:00:00.000Z' } });
    expect(a.status, JSON.stringify(a.body)).toBe(201);
    activityId = a.body.id;
    page = await (await browser.newContext({ viewport: { width: 1440, height: 900 } })).newPage();
  }, 180_000);
  afterAll(async () => {
    await within(browser?.close(), 20_000, 'browser.close');
    await within(app?.close(), 60_000, 'server close');
  }, 120_000);

  it('pages, creates, fills, searches, renames and deletes groups; adds a contact from its page', () =>
    flow(page, 'crm-groups', async (step) => {
      step('sign in');
      await signIn(page, app.url, user.email, user.password);
      await page.getByRole('link', { name: 'Groups' }).click();
      const rows = page.getByTestId('group-row');
      await rows.first().waitFor();
      expect(await rows.count()).toBe(50);
      await page.getByTestId('groups-more').click();
      await waitUntil(async () => (await rows.count()) === 52, '52 groups');
      await page.getByTestId('groups-more').waitFor({ state: 'detached' });

      step('create a group');
      await page.getByTestId('group-new').click();
      await page.getByTestId('group-name').fill('Newsletter VIPs');
      await page.getByTestId('group-description').fill('Get the newsletter a week early.');
      await page.getByTestId('group-save').click();
      await page.getByTestId('group-title').getByText('Newsletter VIPs').waitFor();
      const groupId = page.url().split('/').pop()!;
      const created = await app.request('GET', `/api/groups/${groupId}`, { token: user.token });
      expect(created.body).toMatchObject({ name: 'Newsletter VIPs', kind: 'contacts', description: 'Get the newsletter a week early.', memberCount: 0 });

      step('add two contacts');
      for (const [q, name] of [['alice', 'Alice Archer'], ['bob', 'Bob Baker']]) {
        await page.getByTestId('group-add-member').click();
        await page.getByTestId('group-add-member').fill(q);
        await page.getByRole('option', { name }).click();
        await page.getByTestId('group-member').filter({ hasText: name }).waitFor();
      }
      await page.getByTestId('group-count').getByText('Members: 2').waitFor();
      // A member is not offered again; the group's page has its timeline too.
      await page.getByTestId('group-add-member').click();
      await page.getByTestId('group-add-member').fill('alice');
      await page.waitForTimeout(600);
      expect(await page.getByRole('option', { name: 'Alice Archer' }).count()).toBe(0);
      await page.getByTestId('group-add-member').fill('');
      await page.keyboard.press('Escape');
      await page.getByRole('heading', { name: 'Timeline' }).waitFor();
      await screenshot(page, 'crm-group-page');

      step('remove one');
      await page.getByRole('button', { name: 'Remove Bob Baker from the group' }).click();
      await page.getByTestId('group-member').filter({ hasText: 'Bob Baker' }).waitFor({ state: 'detached' });
      await page.getByTestId('group-count').getByText('Members: 1').waitFor();
      expect(await page.getByTestId('group-member').count()).toBe(1);

      step('add one from the contact page');
      await page.goto(`${app.url}/crm/contacts/${contactIds['Cora Cooper']}`);
      await page.getByTestId('record-add-to-group').click();
      await page.getByTestId('add-to-group-pick').click();
      await page.getByTestId('add-to-group-pick').fill('newsletter');
      await page.getByRole('option', { name: 'Newsletter VIPs' }).click();
      await page.getByTestId('add-to-group-save').click();
      await page.getByTestId('add-to-group-save').waitFor({ state: 'detached' });

      step('find it by search');
      await page.getByRole('link', { name: 'Groups' }).click();
      await page.getByTestId('group-row').first().waitFor();
      await page.getByTestId('groups-search').fill('vip');
      await waitUntil(async () => (await page.getByTestId('group-row').count()) === 1, 'one group found');
      await page.getByTestId('group-row').getByText('Newsletter VIPs').waitFor();
      await screenshot(page, 'crm-groups-search');
      await page.getByTestId('group-row').click();
      await page.getByTestId('group-member').filter({ hasText: 'Cora Cooper' }).waitFor();
      expect(await page.getByTestId('group-member').count()).toBe(2);

      step('rename it');
      await page.getByTestId('group-edit').click();
      await page.getByTestId('group-name').fill('Newsletter VIPs 2027');
      await page.getByTestId('group-save').click();
      await page.getByTestId('group-title').getByText('Newsletter VIPs 2027').waitFor();

      step('the API agrees');
      const members = await app.request('GET', `/api/groups/${groupId}/members`, { token: user.token });
      expect(members.status).toBe(200);
      expect(members.body.kind).toBe('contacts');
      expect(members.body.items.map((x: { id: string }) => x.id).sort()).toEqual([contactIds['Alice Archer'], contactIds['Cora Cooper']].sort());
      const found = await app.request('GET', '/api/groups?q=vip', { token: user.token });
      expect(found.body.items).toEqual([expect.objectContaining({ id: groupId, name: 'Newsletter VIPs 2027', memberCount: 2 })]);

      step('an activity group takes activities');
      await page.goto(`${app.url}/crm/groups/${activityGroupId}`);
      await page.getByTestId('group-add-member').click();
      await page.getByTestId('group-add-member').fill('acme');
      await page.getByRole('option', { name: 'Kick-off with Acme' }).click();
      await page.getByTestId('group-member').filter({ hasText: 'Kick-off with Acme' }).waitFor();
      const acts = await app.request('GET', `/api/groups/${activityGroupId}/members`, { token: user.token });
      expect(acts.body).toMatchObject({ kind: 'activities', items: [{ id: activityId }] });

      step('delete the contact group');
      await page.goto(`${app.url}/crm/groups/${groupId}`);
      await page.getByTestId('group-delete').click();
      await page.getByRole('dialog').getByRole('button', { name: 'Delete' }).click();
      await page.getByTestId('groups-search').waitFor();
      expect((await app.request('GET', `/api/groups/${groupId}`, { token: user.token })).status).toBe(404);
      expect((await app.request('GET', `/api/contacts/${contactIds['Alice Archer']}`, { token: user.token })).status).toBe(200);
    }), 45_000);
});

async function waitUntil(cond: () => Promise<boolean>, what: string, timeoutMs = 20_000) {
  const until = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
