// P1 users/roles/sessions/tokens, P2 system operations on every route, login rate limiting, CSRF.
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { createTestDb, dialects } from '../helpers/db.js';
import { hasRedis, TEST_REDIS_URL } from '../helpers/services.js';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { createIdentityService } from '../../src/modules/identity/service.js';

/** Runs ensureFirstAdmin in a separate Node process at time AT; prints "created" or "exists". */
async function firstAdminProcess(env: Record<string, string>): Promise<string> {
  const script = `
    const { openDatabase } = await import(process.cwd() + '/src/platform/db/index.ts');
    const { createIdentityService } = await import(process.cwd() + '/src/modules/identity/service.ts');
    const e = process.env;
    const h = await openDatabase({ dataDir: e.SWITCHBOARD_DATA_DIR, databaseUrl: e.DATABASE_URL, pgSchema: e.SWITCHBOARD_PG_SCHEMA });
    await new Promise((r) => setTimeout(r, Math.max(0, Number(e.AT) - Date.now())));
    const created = await createIdentityService(h.db).ensureFirstAdmin('first@example.test', 'first-admin-pw');
    await h.close();
    process.stdout.write(created ? 'created' : 'exists');`;
  const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { env: { ...process.env, ...env }, timeout: 50_000 });
  return stdout.trim();
}

const DIALECTS = await dialects();

describe.each(DIALECTS)('identity on %s', (dialect) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ dialect });
  });
  afterAll(async () => {
    await t?.close();
  });

  async function login(email: string, password: string) {
    const res = await fetch(`${t.url}/api/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email, password }),
    });
    const cookie = res.headers.get('set-cookie') ?? '';
    return { res, body: (await res.json()) as any, cookie: cookie.split(';')[0] };
  }

  it('answers /api/health with storage and jobs', async () => {
    const r = await t.request('GET', '/api/health');
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ status: 'ok', storage: dialect, jobs: 'local' });
  });

  it('publishes an OpenAPI document covering the routes', async () => {
    const r = await t.request('GET', '/api/openapi.json');
    expect(r.status).toBe(200);
    expect(r.body.openapi).toMatch(/^3\./);
    expect(Object.keys(r.body.paths)).toEqual(expect.arrayContaining(['/api/auth/login', '/api/users', '/api/roles', '/api/system-settings/{code}']));
  });

  it('logs in with a session cookie, needs CSRF for cookie writes, logs out', async () => {
    const u = await t.createUser({ name: 'Ann' });
    const { res, body, cookie } = await login(u.email.toUpperCase(), u.password);
    expect(res.status).toBe(200);
    expect(cookie).toMatch(/^sb_session=/);
    expect(res.headers.get('set-cookie')).toMatch(/HttpOnly/i);
    expect(body).toMatchObject({ email: u.email, name: 'Ann', operations: [] });
    expect(body.csrfToken).toBeTruthy();
    expect(JSON.stringify(body)).not.toMatch(/password/i);

    const me = await t.request('GET', '/api/auth/me', { headers: { cookie } });
    expect(me.status).toBe(200);
    expect(me.body.id).toBe(u.id);

    const noCsrf = await t.request('PATCH', '/api/auth/me', { headers: { cookie }, body: { name: 'Ann B' } });
    expect(noCsrf.status).toBe(403);
    expect(noCsrf.body.error.code).toBe('CSRF_FAILED');
    const withCsrf = await t.request('PATCH', '/api/auth/me', { headers: { cookie, 'x-csrf-token': body.csrfToken }, body: { name: 'Ann B' } });
    expect(withCsrf.status).toBe(200);
    expect(withCsrf.body.name).toBe('Ann B');

    const out = await t.request('POST', '/api/auth/logout', { headers: { cookie } });
    expect(out.status).toBe(204);
    expect((await t.request('GET', '/api/auth/me', { headers: { cookie } })).status).toBe(401);
  });

  it('rejects wrong passwords and unknown users the same way', async () => {
    const u = await t.createUser();
    const a = await login(u.email, 'wrong-password');
    const b = await login('nobody@example.test', 'wrong-password');
    expect(a.res.status).toBe(401);
    expect(b.res.status).toBe(401);
    expect(a.body.error.message).toBe(b.body.error.message);
  });

  it('refuses anonymous calls with 401 and missing operations with 403 naming the operation', async () => {
    expect((await t.request('GET', '/api/users')).status).toBe(401);
    expect((await t.request('GET', '/api/users', { token: 'sbt_not-a-token' })).status).toBe(401);
    const u = await t.createUser();
    const r = await t.request('GET', '/api/users', { token: u.token });
    expect(r.status).toBe(403);
    expect(r.body.error).toMatchObject({ code: 'FORBIDDEN', details: { operation: 'CanManageAdministration' } });
    expect(r.body.error.message).toContain('CanManageAdministration');
    const put = await t.request('PUT', '/api/system-settings/SimultaneousChats', { token: u.token, body: { value: 3 } });
    expect(put.status).toBe(403);
  });

  it('manages users: create, duplicate email 409, list with paging and search, deactivate ends access', async () => {
    const created = await t.request('POST', '/api/users', { token: t.adminToken, body: { email: 'Bob@Example.test', name: 'Bob', password: 'bob-password' } });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ email: 'bob@example.test', hasPassword: true, isActive: true });
    expect(created.body).not.toHaveProperty('password_hash');
    const dup = await t.request('POST', '/api/users', { token: t.adminToken, body: { email: 'bob@example.test', name: 'Bob 2' } });
    expect(dup.status).toBe(409);

    for (let i = 0; i < 5; i++) await t.request('POST', '/api/users', { token: t.adminToken, body: { email: `pager${i}@example.test`, name: `Pager ${i}` } });
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page: any = await t.request('GET', `/api/users?q=pager&limit=2${cursor ? `&cursor=${cursor}` : ''}`, { token: t.adminToken });
      expect(page.status).toBe(200);
      seen.push(...page.body.items.map((u: any) => u.email));
      cursor = page.body.nextCursor;
    } while (cursor);
    expect(seen).toEqual(['pager0@example.test', 'pager1@example.test', 'pager2@example.test', 'pager3@example.test', 'pager4@example.test']);

    const bobLogin = await login('bob@example.test', 'bob-password');
    expect(bobLogin.res.status).toBe(200);
    const off = await t.request('PATCH', `/api/users/${created.body.id}`, { token: t.adminToken, body: { isActive: false } });
    expect(off.status).toBe(200);
    expect((await t.request('GET', '/api/auth/me', { headers: { cookie: bobLogin.cookie } })).status).toBe(401);
    expect((await login('bob@example.test', 'bob-password')).res.status).toBe(401);
  });

  it('the user directory gives every signed-in user active colleagues by name and address, nothing more', async () => {
    const tag = `dir${Date.now().toString(36)}`;
    const a = await t.createUser({ name: `Anna ${tag}` });
    const b = await t.createUser({ name: `Boris ${tag}` });
    const gone = await t.createUser({ name: `Gone ${tag}` });
    expect((await t.request('PATCH', `/api/users/${gone.id}`, { token: t.adminToken, body: { isActive: false } })).status).toBe(200);
    const r = await t.request('GET', `/api/users/directory?q=${tag}`, { token: a.token });
    expect(r.status).toBe(200);
    expect(r.body.items).toEqual([
      { id: a.id, name: `Anna ${tag}`, email: a.email },
      { id: b.id, name: `Boris ${tag}`, email: b.email },
    ]);
    // Pages like every list.
    const p1 = await t.request('GET', `/api/users/directory?q=${tag}&limit=1`, { token: a.token });
    expect(p1.body.items.map((u: any) => u.id)).toEqual([a.id]);
    const p2 = await t.request('GET', `/api/users/directory?q=${tag}&limit=1&cursor=${encodeURIComponent(p1.body.nextCursor)}`, { token: a.token });
    expect(p2.body.items.map((u: any) => u.id)).toEqual([b.id]);
    // Names for ids already on a list (a share): the deactivated one too, unknown ids skipped.
    const byIds = await t.request('GET', `/api/users/directory?ids=${b.id},${gone.id},00000000-0000-4000-8000-000000000000`, { token: a.token });
    expect(byIds.body.items.map((u: any) => u.name).sort()).toEqual([`Boris ${tag}`, `Gone ${tag}`]);
    expect((await t.request('GET', '/api/users/directory?ids=not-an-id', { token: a.token })).status).toBe(400);
    // The admin list stays admin-only; anonymous callers get nothing.
    expect((await t.request('GET', '/api/users', { token: a.token })).status).toBe(403);
    expect((await t.request('GET', '/api/users/directory')).status).toBe(401);
  });

  it('nested roles pass system operations to members of contained roles', async () => {
    const u = await t.createUser();
    const sales = await t.request('POST', '/api/roles', { token: t.adminToken, body: { name: `Sales ${dialect}`, userIds: [u.id] } });
    expect(sales.status).toBe(201);
    const company = await t.request('POST', '/api/roles', { token: t.adminToken, body: { name: `Company ${dialect}`, childRoleIds: [sales.body.id] } });
    expect(company.status).toBe(201);

    const grant = await t.request('PUT', '/api/system-operations/CanManageChats', { token: t.adminToken, body: { userIds: [], roleIds: [company.body.id] } });
    expect(grant.status).toBe(200);
    const me = await t.request('GET', '/api/auth/me', { token: u.token });
    expect(me.body.operations).toContain('CanManageChats');
    expect(me.body.roleIds).toEqual(expect.arrayContaining([sales.body.id, company.body.id]));
    expect(await t.modules.identity.roleMemberIds(company.body.id)).toContain(u.id);

    // A role cannot contain itself through another role.
    const cycle = await t.request('PATCH', `/api/roles/${sales.body.id}`, { token: t.adminToken, body: { childRoleIds: [company.body.id] } });
    expect(cycle.status).toBe(400);
    expect(cycle.body.error.code).toBe('VALIDATION_FAILED');

    // Removing the user from the role takes the operation away at once.
    await t.request('PATCH', `/api/roles/${sales.body.id}`, { token: t.adminToken, body: { userIds: [] } });
    expect((await t.request('GET', '/api/auth/me', { token: u.token })).body.operations).not.toContain('CanManageChats');
  });

  it('refuses to leave nobody with CanManageAdministration', async () => {
    const r = await t.request('PUT', '/api/system-operations/CanManageAdministration', { token: t.adminToken, body: { userIds: [], roleIds: [] } });
    expect(r.status).toBe(400);
  });

  it('API tokens are shown once, stored hashed, and can be revoked', async () => {
    const u = await t.createUser();
    const created = await t.request('POST', '/api/api-tokens', { token: u.token, body: { name: 'script' } });
    expect(created.status).toBe(201);
    const token = created.body.token as string;
    expect(token.startsWith('sbt_')).toBe(true);
    const stored = await t.db.db.selectFrom('api_tokens').select('token_hash').where('id', '=', created.body.id).executeTakeFirstOrThrow();
    expect(stored.token_hash).not.toContain(token);
    const list = await t.request('GET', '/api/api-tokens', { token });
    expect(JSON.stringify(list.body)).not.toContain(token);
    expect((await t.request('DELETE', `/api/api-tokens/${created.body.id}`, { token: u.token })).status).toBe(204);
    expect((await t.request('GET', '/api/auth/me', { token })).status).toBe(401);
  });

  it('changing the password needs the current one and ends sessions', async () => {
    const u = await t.createUser();
    const bad = await t.request('PATCH', '/api/auth/me', { token: u.token, body: { currentPassword: 'nope', newPassword: 'new-password-1' } });
    expect(bad.status).toBe(400);
    expect(bad.body.error.details.fields[0].field).toBe('currentPassword');
    const ok = await t.request('PATCH', '/api/auth/me', { token: u.token, body: { currentPassword: u.password, newPassword: 'new-password-1' } });
    expect(ok.status).toBe(200);
    expect((await login(u.email, 'new-password-1')).res.status).toBe(200);
  });
});

describe.each(DIALECTS)('administrator lockout on %s', (dialect) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ dialect });
  });
  afterAll(async () => {
    await t?.close();
  });

  const adminsRole = async () => (await t.modules.identity.listRoles()).find((r) => r.name === 'Administrators')!;
  const expect409 = (r: { status: number; body: any }) => {
    expect(r.status, JSON.stringify(r.body)).toBe(409);
    expect(r.body.error.code).toBe('CONFLICT');
    expect(r.body.error.message).toMatch(/CanManageAdministration|Administrators/);
  };

  it('refuses to delete the Administrators role', async () => {
    const r = await t.request('DELETE', `/api/roles/${(await adminsRole()).id}`, { token: t.adminToken });
    expect409(r);
    expect(await adminsRole()).toBeTruthy();
  });

  it('refuses every change that would leave no active administrator, then allows it once another exists', async () => {
    const role = await adminsRole();
    const empty = await t.modules.identity.createRole({ name: `Empty ${dialect}` });
    const inactive = await t.createUser();
    await t.modules.identity.updateUser(inactive.id, { isActive: false });

    expect409(await t.request('PATCH', `/api/users/${t.adminId}`, { token: t.adminToken, body: { roleIds: [] } }));
    expect409(await t.request('PATCH', `/api/roles/${role.id}`, { token: t.adminToken, body: { userIds: [] } }));
    expect409(await t.request('PUT', '/api/system-operations/CanManageAdministration', { token: t.adminToken, body: { userIds: [], roleIds: [empty.id] } }));
    expect409(await t.request('PUT', '/api/system-operations/CanManageAdministration', { token: t.adminToken, body: { userIds: [inactive.id], roleIds: [] } }));
    // The service refuses too (the route already refuses deactivating yourself).
    await expect(t.modules.identity.updateUser(t.adminId, { isActive: false })).rejects.toMatchObject({ statusCode: 409 });
    // Nothing changed.
    expect((await t.request('GET', '/api/auth/me', { token: t.adminToken })).body.operations).toContain('CanManageAdministration');
    expect((await adminsRole()).userIds).toContain(t.adminId);

    // With a second administrator the same changes are fine.
    const b = await t.createUser();
    const grant = await t.request('PUT', '/api/system-operations/CanManageAdministration', { token: t.adminToken, body: { userIds: [b.id], roleIds: [role.id] } });
    expect(grant.status).toBe(200);
    expect((await t.request('PATCH', `/api/users/${t.adminId}`, { token: b.token, body: { isActive: false } })).status).toBe(200);
    expect((await t.request('PUT', '/api/system-operations/CanManageAdministration', { token: b.token, body: { userIds: [b.id], roleIds: [] } })).status).toBe(200);
    // b is now the last one.
    expect409(await t.request('PUT', '/api/system-operations/CanManageAdministration', { token: b.token, body: { userIds: [], roleIds: [empty.id] } }));
    // The role can lose its members now that administration does not rest on it.
    expect((await t.request('PATCH', `/api/roles/${role.id}`, { token: b.token, body: { userIds: [] } })).status).toBe(200);
  });

  it('several processes starting at once with SWITCHBOARD_ADMIN_EMAIL create exactly one administrator', { timeout: 60_000 }, async () => {
    const dbx = await createTestDb(dialect);
    try {
      // Real processes (in one process SQLite connections would block each other's event loop),
      // released at the same instant.
      const at = Date.now() + 2_500;
      const outputs = await Promise.all(Array.from({ length: 4 }, () => firstAdminProcess({ ...dbx.env, AT: String(at) })));
      expect(outputs.filter((o) => o === 'created')).toHaveLength(1);
      expect(outputs.filter((o) => o === 'exists')).toHaveLength(3);
      const identity = createIdentityService(dbx.db);
      expect(await identity.userCount()).toBe(1);
      expect((await identity.listRoles()).map((r) => r.name)).toEqual(['Administrators']);
      const admin = (await identity.listUsers({ limit: 10 }))[0];
      expect((await identity.authUser(admin.id))?.operations).toEqual(['CanManageAdministration', 'CanManageChats', 'CanConnectSharedMailbox', 'CanSyncSharedMailbox']);
    } finally {
      await dbx.destroy();
    }
  });
});

const REDIS_READY = await hasRedis();

// In memory for the embedded process; in Redis (shared by every api process) with REDIS_URL.
describe.each([
  ['in memory', false],
  ...(REDIS_READY ? [['in Redis', true] as const] : []),
] as const)('login rate limiting (%s)', (_label, redis) => {
  let t: TestApp;
  beforeEach(async () => {
    t = await startTestApp({ redis });
  });
  afterEach(async () => {
    await t?.close();
  });

  const attempt = (email: string, headers: Record<string, string> = {}) =>
    t.request('POST', '/api/auth/login', { body: { email, password: 'wrong-password' }, headers }).then((r) => r.status);

  it('answers 429 after repeated attempts', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 12; i++) statuses.push(await attempt('x@example.test'));
    expect(statuses.slice(0, 10).every((s) => s === 401)).toBe(true);
    expect(statuses.at(-1)).toBe(429);
  });

  it('a client rotating X-Forwarded-For (and the email case) still gets 429: proxies are not trusted by default', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 12; i++) {
      statuses.push(await attempt(i % 2 ? 'Victim@Example.test' : ' victim@example.test', { 'x-forwarded-for': `203.0.113.${i + 1}` }));
    }
    expect(statuses.slice(0, 10).every((s) => s === 401)).toBe(true);
    expect(statuses.slice(10)).toEqual([429, 429]);
  });

  it('limits per address + account tightly and per address loosely (an office behind one NAT can still sign in)', async () => {
    for (let i = 0; i < 11; i++) await attempt('ann@example.test');
    expect(await attempt('ann@example.test')).toBe(429);
    // Another account from the same address is not held up by Ann's limit...
    expect(await attempt('bob@example.test')).toBe(401);
    // ...but the address as a whole has a ceiling (30 a minute), whatever emails it tries.
    const statuses: number[] = [];
    for (let i = 0; i < 20; i++) statuses.push(await attempt(`user${i}@example.test`));
    expect(statuses).toContain(429);
    expect(statuses.indexOf(429)).toBe(30 - 13);
  });

  it.runIf(redis)('counts in Redis under hashed keys, not the address or email in clear', async () => {
    for (let i = 0; i < 3; i++) await attempt('carol@example.test');
    const { Redis } = await import('ioredis');
    const r = new Redis(TEST_REDIS_URL);
    try {
      const keys = await r.keys(`${t.sb.platform.redisPrefix}:ratelimit:*`);
      expect(keys.some((k) => k.includes(':login-ip:'))).toBe(true);
      expect(keys.some((k) => k.includes(':login-ip-email:'))).toBe(true);
      expect(keys.join(' ')).not.toMatch(/carol|127\.0\.0\.1/);
      const counts = await Promise.all(keys.map((k) => r.get(k)));
      expect(counts.map(Number).sort()).toEqual([3, 3]);
    } finally {
      await r.quit();
    }
  });
});

describe('SWITCHBOARD_TRUST_PROXY', () => {
  it('with the proxy address trusted, the client address comes from X-Forwarded-For (sessions record it)', async () => {
    const t = await startTestApp({ env: { SWITCHBOARD_TRUST_PROXY: '127.0.0.1' } });
    try {
      const u = await t.createUser();
      const r = await t.request('POST', '/api/auth/login', { body: { email: u.email, password: u.password }, headers: { 'x-forwarded-for': '198.51.100.7' } });
      expect(r.status).toBe(200);
      const s = await t.db.db.selectFrom('sessions').select('ip').where('user_id', '=', u.id).executeTakeFirstOrThrow();
      expect(s.ip).toBe('198.51.100.7');
    } finally {
      await t.close();
    }
  });

  it('by default the header is ignored: the session records the TCP peer', async () => {
    const t = await startTestApp();
    try {
      const u = await t.createUser();
      await t.request('POST', '/api/auth/login', { body: { email: u.email, password: u.password }, headers: { 'x-forwarded-for': '198.51.100.7' } });
      const s = await t.db.db.selectFrom('sessions').select('ip').where('user_id', '=', u.id).executeTakeFirstOrThrow();
      expect(s.ip).toBe('127.0.0.1');
    } finally {
      await t.close();
    }
  });
});
