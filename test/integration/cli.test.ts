// The switchboard CLI: --help on each command, migrate, admin create, secrets rotate.
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, statSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { openDatabase } from '../../src/platform/db/index.js';
import { createSecretStore } from '../../src/platform/crypto/secret-store.js';
import { SecretBox, keyId, parseKey } from '../../src/platform/crypto/secret-box.js';
import { migrateToLatest } from '../../src/platform/db/migrator.js';
import { migrations } from '../../src/migrations.js';
import { loadKeyRing } from '../../src/platform/crypto/keyring.js';
import { verifyPassword } from '../../src/platform/crypto/passwords.js';

const run = promisify(execFile);
const dataDir = mkdtempSync(join(tmpdir(), 'sb-cli-'));
const env = { ...process.env, SWITCHBOARD_DATA_DIR: dataDir, DATABASE_URL: '', REDIS_URL: '', SWITCHBOARD_SECRET_KEY: '' };

function cli(...args: string[]) {
  return run(process.execPath, ['--import', 'tsx', 'src/cli.ts', ...args], { env, timeout: 60_000 });
}

afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

describe('switchboard CLI', () => {
  it('has --help on every command', { timeout: 180_000 }, async () => {
    for (const args of [[], ['start'], ['migrate'], ['admin', 'create'], ['secrets', 'rotate']]) {
      const { stdout } = await cli(...args, '--help');
      expect(stdout).toMatch(/Usage: switchboard/);
    }
  });

  it('migrates, creates an administrator, and rotates the secret key', { timeout: 180_000 }, async () => {
    const m = await cli('migrate');
    expect(m.stdout).toMatch(/Applied \d+ migration/);
    expect((await cli('migrate')).stdout).toMatch(/up to date/);

    const a = await cli('admin', 'create', '--email', 'Root@Example.test', '--password', 'root-password');
    expect(a.stdout).toMatch(/Created administrator root@example.test/);
    const dup = await cli('admin', 'create', '--email', 'root@example.test', '--password', 'root-password').catch((e) => e);
    expect(dup.code).toBe(1);

    const h = await openDatabase<any>({ dataDir });
    const user = await h.db.selectFrom('users').selectAll().executeTakeFirstOrThrow();
    expect(await verifyPassword('root-password', user.password_hash)).toBe(true);

    // The generated key file is private to the owner.
    const keyFile = join(dataDir, 'secret-keys.json');
    const ring = loadKeyRing(dataDir);
    expect(statSync(keyFile).mode & 0o777).toBe(0o600);
    const store = createSecretStore(h.db, new SecretBox(ring.ring));
    await store.put('test:one', 'first-secret');
    await store.put('test:two', 'second-secret');
    const before = await h.db.selectFrom('secrets').select(['ref', 'envelope']).orderBy('ref').execute();
    await h.close();

    const r = await cli('secrets', 'rotate', '--prune');
    expect(r.stdout).toMatch(/Re-encrypted 2 secret/);
    const keys = JSON.parse(readFileSync(keyFile, 'utf8')).keys;
    expect(keys).toHaveLength(1);

    const h2 = await openDatabase<any>({ dataDir });
    const after = await h2.db.selectFrom('secrets').select(['ref', 'envelope']).orderBy('ref').execute();
    expect(after[0].envelope.split('.')[1]).not.toBe(before[0].envelope.split('.')[1]);
    const store2 = createSecretStore(h2.db, new SecretBox(loadKeyRing(dataDir).ring));
    expect(await store2.get('test:one')).toBe('first-secret');
    expect(await store2.get('test:two')).toBe('second-secret');
    await h2.close();
  });

  it('secrets rotate refuses, changing nothing, when some secrets are under a key it was not given', { timeout: 120_000 }, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sb-cli-rotate-'));
    try {
      const h = await openDatabase<any>({ dataDir: dir });
      await migrateToLatest(h.db, migrations);
      await createSecretStore(h.db, new SecretBox({ keys: [parseKey('old-key-for-rotation')] })).put('test:old', 'old-secret');
      const before = await h.db.selectFrom('secrets').select('envelope').executeTakeFirstOrThrow();
      await h.close();

      const e = await run(process.execPath, ['--import', 'tsx', 'src/cli.ts', 'secrets', 'rotate'], {
        env: { ...env, SWITCHBOARD_DATA_DIR: dir, SWITCHBOARD_SECRET_KEY: 'new-key-for-rotation' },
      }).catch((err) => err);
      expect(e.code).toBe(1);
      expect(e.stderr).toContain(`1 secret(s) under key id ${keyId(parseKey('old-key-for-rotation'))}`);
      expect(e.stderr).toMatch(/SWITCHBOARD_SECRET_KEY_PREVIOUS/);

      // With the old key as a previous key it goes through.
      const ok = await run(process.execPath, ['--import', 'tsx', 'src/cli.ts', 'secrets', 'rotate'], {
        env: { ...env, SWITCHBOARD_DATA_DIR: dir, SWITCHBOARD_SECRET_KEY: 'new-key-for-rotation', SWITCHBOARD_SECRET_KEY_PREVIOUS: 'old-key-for-rotation' },
      });
      expect(ok.stdout).toMatch(/Re-encrypted 1 secret/);
      const h2 = await openDatabase<any>({ dataDir: dir });
      const after = await h2.db.selectFrom('secrets').select('envelope').executeTakeFirstOrThrow();
      expect(after.envelope).not.toBe(before.envelope);
      expect(await createSecretStore(h2.db, new SecretBox({ keys: [parseKey('new-key-for-rotation')] })).get('test:old')).toBe('old-secret');
      await h2.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('fails fast listing bad configuration', { timeout: 60_000 }, async () => {
    const e = await run(process.execPath, ['--import', 'tsx', 'src/cli.ts', 'migrate'], { env: { ...env, PORT: 'x', ROLES: 'chef' } }).catch((err) => err);
    expect(e.code).toBe(2);
    expect(e.stderr).toMatch(/PORT/);
    expect(e.stderr).toMatch(/chef/);
  });
});
