// What the server writes to its log, captured from a real start: secrets never appear (at trace
// level, the most talkative), and the start warns about configurations that will not behave as
// expected (split roles on SQLite or without Redis, secrets under a key this process lacks).
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/index.js';
import { startSwitchboard, type Switchboard } from '../../src/main.js';
import { createLogger } from '../../src/platform/logger.js';
import { keyId, parseKey } from '../../src/platform/crypto/secret-box.js';
import { createTestDb, dialects, type TestDb } from '../helpers/db.js';

const KEY_A = 'log-test-key-a-for-switchboard';
const KEY_B = 'log-test-key-b-for-switchboard';

function captured() {
  const lines: string[] = [];
  return { lines, text: () => lines.join(''), logger: (level = 'trace') => createLogger(level, { write: (s: string) => void lines.push(s) }) };
}

async function start(db: TestDb, log: ReturnType<typeof captured>, env: Record<string, string> = {}): Promise<Switchboard> {
  const config = loadConfig({ PORT: '0', HOST: '127.0.0.1', SWITCHBOARD_SECRET_KEY: KEY_A, ...db.env, ...env });
  return startSwitchboard(config, { logger: log.logger(), redisPrefix: `sbtest:logs:${process.pid}:${Date.now().toString(36)}` });
}

const dbs: TestDb[] = [];
afterAll(async () => {
  for (const d of dbs) await d.destroy();
});

describe.each(await dialects())('logs on %s', (dialect) => {
  it('never contain a password, session token, CSRF token, API token or secret setting', async () => {
    const db = await createTestDb(dialect, { migrate: false });
    dbs.push(db);
    const log = captured();
    const adminPassword = 'first-admin-Pa55word-in-env';
    const sb = await start(db, log, { SWITCHBOARD_ADMIN_EMAIL: 'first@example.test', SWITCHBOARD_ADMIN_PASSWORD: adminPassword });
    const secrets: string[] = [adminPassword];
    try {
      const post = (path: string, body: unknown, headers: Record<string, string> = {}, method = 'POST') =>
        fetch(`${sb.url}${path}`, { method, headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });

      const wrong = await post('/api/auth/login', { email: 'first@example.test', password: 'a-wrong-Guess-password' });
      expect(wrong.status).toBe(401);
      secrets.push('a-wrong-Guess-password');

      const login = await post('/api/auth/login', { email: 'first@example.test', password: adminPassword });
      expect(login.status).toBe(200);
      const sessionToken = (login.headers.get('set-cookie') ?? '').split(';')[0].split('=')[1];
      const { csrfToken } = (await login.json()) as { csrfToken: string };
      expect(sessionToken.length).toBeGreaterThan(20);
      secrets.push(sessionToken, csrfToken);
      const cookie = { cookie: `sb_session=${sessionToken}`, 'x-csrf-token': csrfToken };

      const created = await post('/api/api-tokens', { name: 'log test' }, cookie);
      expect(created.status).toBe(201);
      const apiToken = ((await created.json()) as { token: string }).token;
      secrets.push(apiToken);

      const googleSecret = 'GOCSPX-log-test-client-secret-value';
      const set = await post('/api/system-settings/GoogleClientSecret', { value: googleSecret }, { authorization: `Bearer ${apiToken}` }, 'PUT');
      expect(set.status).toBe(200);
      secrets.push(googleSecret);
      // A bad request carrying the secret (wrong type) and a realtime URL with ?token= are logged too.
      await post('/api/system-settings/GoogleClientSecret', { value: googleSecret, userId: 'x' }, { authorization: `Bearer ${apiToken}` }, 'PUT');
      await fetch(`${sb.url}/api/realtime?token=${apiToken}`);

      expect(await sb.modules.settings.getSecret('GoogleClientSecret')).toBe(googleSecret);
    } finally {
      await sb.close();
    }
    const text = log.text();
    // The capture worked: requests were logged at all.
    expect(text).toMatch(/"url":"\/api\/auth\/login"/);
    expect(text).toMatch(/GoogleClientSecret/);
    for (const s of secrets) expect(text, `a secret (${s.slice(0, 6)}…) reached the log`).not.toContain(s);
  });
});

describe('start-up warnings', () => {
  it('warns when roles are split on SQLite and without REDIS_URL', async () => {
    const db = await createTestDb('sqlite', { migrate: false });
    dbs.push(db);
    const log = captured();
    const sb = await start(db, log, { ROLES: 'api,worker' });
    await sb.close();
    const warnings = log.lines.map((l) => JSON.parse(l)).filter((l) => l.level === 40).map((l) => l.msg as string);
    expect(warnings).toEqual(expect.arrayContaining([expect.stringMatching(/^ROLES=api,worker .*SQLite/), expect.stringMatching(/^ROLES=api,worker .*REDIS_URL/)]));
  });

  it('logs an error naming how many secrets, under which key ids, this process cannot decrypt — and still starts', async () => {
    const db = await createTestDb('sqlite', { migrate: false });
    dbs.push(db);
    const first = await start(db, captured());
    await first.platform.secrets.put('test:one', 'v1');
    await first.platform.secrets.put('test:two', 'v2');
    await first.close();

    const log = captured();
    const second = await start(db, log, { SWITCHBOARD_SECRET_KEY: KEY_B });
    try {
      expect((await fetch(`${second.url}/api/health`)).status).toBe(200);
    } finally {
      await second.close();
    }
    const errors = log.lines.map((l) => JSON.parse(l)).filter((l) => l.level === 50);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({ count: 2, keyIds: [keyId(parseKey(KEY_A))] });
    expect(errors[0].msg).toContain(keyId(parseKey(KEY_A)));
    expect(errors[0].msg).toContain('SWITCHBOARD_SECRET_KEY_PREVIOUS');

    // With the old key supplied as a previous key, nothing is reported.
    const log3 = captured();
    const third = await start(db, log3, { SWITCHBOARD_SECRET_KEY: KEY_B, SWITCHBOARD_SECRET_KEY_PREVIOUS: KEY_A });
    await third.close();
    expect(log3.lines.map((l) => JSON.parse(l)).filter((l) => l.level >= 50)).toEqual([]);
  });
});
