// Versioned AES-256-GCM envelope for every secret Switchboard stores.
// Format: "sb1.<keyId>.<iv>.<tag>.<ciphertext>" (base64url parts). The key id lets several keys
// coexist during rotation: new writes use the current key, reads pick the key the envelope names.
import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';

const VERSION = 'sb1';

export interface KeyRing {
  /** First key is current (encrypts); the rest only decrypt. */
  keys: Buffer[];
}

export function keyId(key: Buffer): string {
  return createHash('sha256').update(key).digest('base64url').slice(0, 8);
}

/** Accepts 32 raw bytes as base64/base64url/hex; anything else is treated as a passphrase and hashed. */
export function parseKey(text: string): Buffer {
  const t = text.trim();
  if (/^[0-9a-fA-F]{64}$/.test(t)) return Buffer.from(t, 'hex');
  const b = Buffer.from(t, 'base64');
  if (b.length === 32 && /^[A-Za-z0-9+/_-]+={0,2}$/.test(t)) return b;
  return createHash('sha256').update(t, 'utf8').digest();
}

export function generateKey(): Buffer {
  return randomBytes(32);
}

export class SecretBox {
  private readonly byId = new Map<string, Buffer>();
  private readonly current: Buffer;
  readonly currentKeyId: string;

  constructor(ring: KeyRing) {
    if (ring.keys.length === 0) throw new Error('SecretBox needs at least one key');
    for (const k of ring.keys) {
      if (k.length !== 32) throw new Error('secret keys must be 32 bytes');
      this.byId.set(keyId(k), k);
    }
    this.current = ring.keys[0];
    this.currentKeyId = keyId(this.current);
  }

  encrypt(plaintext: string): string {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.current, iv);
    const ct = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    const tag = cipher.getAuthTag();
    return [VERSION, this.currentKeyId, iv.toString('base64url'), tag.toString('base64url'), ct.toString('base64url')].join('.');
  }

  decrypt(envelope: string): string {
    const parts = envelope.split('.');
    if (parts.length !== 5 || parts[0] !== VERSION) throw new Error('not a Switchboard secret envelope');
    const key = this.byId.get(parts[1]);
    if (!key) throw new Error(`secret was encrypted with unknown key ${parts[1]}; supply it as a previous key`);
    const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(parts[2], 'base64url'));
    decipher.setAuthTag(Buffer.from(parts[3], 'base64url'));
    return Buffer.concat([decipher.update(Buffer.from(parts[4], 'base64url')), decipher.final()]).toString('utf8');
  }

  /** True when a key with this id is in the ring (it can decrypt that key's envelopes). */
  hasKey(id: string): boolean {
    return this.byId.has(id);
  }

  /** True when the envelope is not under the current key (rotation must re-encrypt it). */
  isStale(envelope: string): boolean {
    return envelope.split('.')[1] !== this.currentKeyId;
  }
}
