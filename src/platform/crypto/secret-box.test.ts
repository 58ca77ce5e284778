import { describe, expect, it } from 'vitest';
import { SecretBox, generateKey, keyId, parseKey } from './secret-box.js';
import { hashPassword, verifyPassword } from './passwords.js';

describe('SecretBox (AES-256-GCM envelope)', () => {
  it('round-trips and never contains the plaintext', () => {
    const box = new SecretBox({ keys: [generateKey()] });
    const env = box.encrypt('hunter2-пароль');
    expect(env.startsWith(`sb1.${box.currentKeyId}.`)).toBe(true);
    expect(env).not.toContain('hunter2');
    expect(box.decrypt(env)).toBe('hunter2-пароль');
  });

  it('uses a fresh IV every time', () => {
    const box = new SecretBox({ keys: [generateKey()] });
    expect(box.encrypt('same')).not.toBe(box.encrypt('same'));
  });

  it('detects tampering', () => {
    const box = new SecretBox({ keys: [generateKey()] });
    const parts = box.encrypt('secret').split('.');
    const ct = Buffer.from(parts[4], 'base64url');
    ct[0] ^= 1;
    parts[4] = ct.toString('base64url');
    expect(() => box.decrypt(parts.join('.'))).toThrow();
  });

  it('decrypts with previous keys during rotation and flags stale envelopes', () => {
    const oldKey = generateKey();
    const newKey = generateKey();
    const oldBox = new SecretBox({ keys: [oldKey] });
    const env = oldBox.encrypt('token');
    const rotated = new SecretBox({ keys: [newKey, oldKey] });
    expect(rotated.decrypt(env)).toBe('token');
    expect(rotated.isStale(env)).toBe(true);
    expect(rotated.isStale(rotated.encrypt('token'))).toBe(false);
    expect(() => new SecretBox({ keys: [newKey] }).decrypt(env)).toThrow(/unknown key/);
  });

  it('parses hex, base64 and passphrase keys to 32 bytes', () => {
    const k = generateKey();
    expect(parseKey(k.toString('hex')).equals(k)).toBe(true);
    expect(parseKey(k.toString('base64')).equals(k)).toBe(true);
    expect(parseKey('a passphrase').length).toBe(32);
    expect(keyId(k)).toHaveLength(8);
  });
});

describe('password hashing (scrypt)', () => {
  it('verifies the right password only', async () => {
    const h = await hashPassword('correct horse');
    expect(h.startsWith('scrypt$')).toBe(true);
    expect(await verifyPassword('correct horse', h)).toBe(true);
    expect(await verifyPassword('wrong horse', h)).toBe(false);
    expect(await verifyPassword('x', 'garbage')).toBe(false);
  });
});
