// Binary blobs (mail attachments, chat files, uploaded sounds) live outside database rows:
// files under <dataDir>/files by default, addressed by an opaque key. Writes are atomic
// (temp file + rename), so a crash never leaves a half-written blob under a valid key.
import { createReadStream } from 'node:fs';
import { mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { createHash, randomUUID } from 'node:crypto';

export interface StoredFile {
  key: string;
  size: number;
  sha256: string;
}

export interface FileStore {
  put(data: Buffer, hint?: string): Promise<StoredFile>;
  get(key: string): Promise<Buffer>;
  stream(key: string): Readable;
  exists(key: string): Promise<boolean>;
  delete(key: string): Promise<void>;
}

const KEY_RE = /^[a-z0-9-]+\/[0-9a-f]{2}\/[0-9a-f-]{36}$/;

export function createFileStore(dataDir: string): FileStore {
  const root = join(dataDir, 'files');
  const pathOf = (key: string) => {
    // Keys are ours, but they round-trip through the database: refuse anything path-like.
    if (!KEY_RE.test(key)) throw new Error(`invalid file key ${key}`);
    return join(root, key);
  };
  const knownDirs = new Set<string>();
  return {
    async put(data, hint = 'blob') {
      const id = randomUUID();
      const prefix = hint.toLowerCase().replace(/[^a-z0-9-]/g, '-').slice(0, 32) || 'blob';
      const key = `${prefix}/${id.slice(0, 2)}/${id}`;
      const path = pathOf(key);
      const dir = join(path, '..');
      const tmp = `${path}.tmp`;
      // 256 folders per prefix: after the first write to one, skip the mkdir (a first mail sync
      // writes thousands of attachments); if it was removed meanwhile, create it again.
      if (!knownDirs.has(dir)) {
        await mkdir(dir, { recursive: true });
        knownDirs.add(dir);
      }
      try {
        await writeFile(tmp, data);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
        await mkdir(dir, { recursive: true });
        await writeFile(tmp, data);
      }
      await rename(tmp, path);
      return { key, size: data.length, sha256: createHash('sha256').update(data).digest('hex') };
    },
    get: (key) => readFile(pathOf(key)),
    stream: (key) => createReadStream(pathOf(key)),
    async exists(key) {
      try {
        await stat(pathOf(key));
        return true;
      } catch {
        return false;
      }
    },
    async delete(key) {
      await rm(pathOf(key), { force: true });
    },
  };
}
