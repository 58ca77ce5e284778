// Where the secret key comes from: SWITCHBOARD_SECRET_KEY (or _FILE, resolved by config), plus
// SWITCHBOARD_SECRET_KEY_PREVIOUS (comma-separated) during a rotation; otherwise a key ring file
// generated once in the data directory with mode 0600.
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { generateKey, parseKey, type KeyRing } from './secret-box.js';

export const KEY_FILE = 'secret-keys.json';

interface KeyFile {
  version: 1;
  /** base64 keys, current first. */
  keys: string[];
}

export interface KeyRingSource {
  ring: KeyRing;
  /** 'env' keys cannot be rotated by us; the operator supplies the new key. */
  source: 'env' | 'file';
  file?: string;
}

export function loadKeyRing(dataDir: string, envKey?: string, env: NodeJS.ProcessEnv = process.env): KeyRingSource {
  if (envKey) {
    const previous = (env.SWITCHBOARD_SECRET_KEY_PREVIOUS ?? '').split(',').map((s) => s.trim()).filter(Boolean);
    return { ring: { keys: [parseKey(envKey), ...previous.map(parseKey)] }, source: 'env' };
  }
  const file = join(dataDir, KEY_FILE);
  if (!existsSync(file)) {
    mkdirSync(dataDir, { recursive: true, mode: 0o700 });
    writeKeyFile(file, [generateKey()]);
  }
  const parsed = JSON.parse(readFileSync(file, 'utf8')) as KeyFile;
  return { ring: { keys: parsed.keys.map((k) => Buffer.from(k, 'base64')) }, source: 'file', file };
}

export function writeKeyFile(file: string, keys: Buffer[]): void {
  const body: KeyFile = { version: 1, keys: keys.map((k) => k.toString('base64')) };
  const tmp = `${file}.tmp`;
  writeFileSync(tmp, JSON.stringify(body, null, 2), { mode: 0o600 });
  chmodSync(tmp, 0o600);
  renameSync(tmp, file);
}
