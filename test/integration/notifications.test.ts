// Notifications: stored per user, newest first with keyset paging, read/unread, pushed live; on
// SQLite and PostgreSQL.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dialects } from '../helpers/db.js';
import { startTestApp, type TestApp, type TestUser } from '../helpers/app.js';
import type { NotificationsService } from '../../src/modules/notifications/index.js';

const DIALECTS = await dialects();

describe.each(DIALECTS)('notifications on %s', (dialect) => {
  let t: TestApp;
  let ann: TestUser;
  let bob: TestUser;
  let svc: NotificationsService;

  beforeAll(async () => {
    t = await startTestApp({ dialect });
    [ann, bob] = [await t.createUser(), await t.createUser()];
    svc = t.modules.notifications as NotificationsService;
  });
  afterAll(async () => {
    await t?.close();
  });

  it('lists only my notifications, newest first, across pages without repeats', async () => {
    for (let i = 0; i < 7; i++) await svc.notify(ann.id, { kind: 'test', title: `n${i}`, links: [{ rel: 'x', label: 'X', href: `/x/${i}` }] });
    await svc.notify(bob.id, { kind: 'test', title: 'for bob' });
    const seen: any[] = [];
    let cursor: string | null = null;
    do {
      const r: any = await t.request('GET', `/api/notifications?limit=3${cursor ? `&cursor=${cursor}` : ''}`, { token: ann.token });
      expect(r.status).toBe(200);
      seen.push(...r.body.items);
      cursor = r.body.nextCursor;
    } while (cursor);
    // Every one exactly once; newest first (notifications made in the same millisecond tie on time).
    expect(seen.map((n) => n.title).sort()).toEqual(['n0', 'n1', 'n2', 'n3', 'n4', 'n5', 'n6']);
    const times = seen.map((n) => n.createdAt);
    expect([...times].sort().reverse()).toEqual(times);
    const bobs = await t.request('GET', '/api/notifications', { token: bob.token });
    expect(bobs.body.items.map((n: any) => n.title)).toEqual(['for bob']);
  });

  it('marks one or all as read, and filters unread', async () => {
    const first = (await t.request('GET', '/api/notifications?limit=1', { token: ann.token })).body.items[0];
    const r = await t.request('POST', `/api/notifications/${first.id}/read`, { token: ann.token });
    expect(r.body).toMatchObject({ id: first.id, read: true, readAt: expect.any(String) });
    const again = await t.request('POST', `/api/notifications/${first.id}/read`, { token: ann.token });
    expect(again.body.readAt).toBe(r.body.readAt); // idempotent
    expect((await t.request('GET', '/api/notifications?unread=true&limit=100', { token: ann.token })).body.items).toHaveLength(6);
    const all = await t.request('POST', '/api/notifications/read-all', { token: ann.token });
    expect(all.body.updated).toBe(6);
    expect((await t.request('GET', '/api/notifications?unread=true', { token: ann.token })).body.items).toEqual([]);
    // Bob's stay unread.
    expect((await t.request('GET', '/api/notifications?unread=true', { token: bob.token })).body.items).toHaveLength(1);
  });
});
