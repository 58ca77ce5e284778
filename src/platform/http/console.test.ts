import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp, type App } from './app.js';
import { registerConsole } from './console.js';
import { createLogger } from '../logger.js';

describe('console static serving', () => {
  let app: App;
  let dir: string;
  beforeAll(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'sb-console-'));
    mkdirSync(path.join(dir, 'assets'));
    writeFileSync(path.join(dir, 'index.html'), '<!doctype html><div id="root"></div>');
    writeFileSync(path.join(dir, 'assets', 'app-abc123.js'), 'console.log(1)');
    writeFileSync(path.join(dir, '..', path.basename(dir) + '-secret.txt'), 'TOPSECRET-CONTENT');
    app = await createApp({ logger: createLogger('silent'), bodyLimit: 1024 * 1024, authenticate: async () => null, version: 'test' });
    app.get('/api/ping', { config: { public: true } }, async () => ({ pong: true }));
    await registerConsole(app, { distDir: dir });
    await app.ready();
  });
  afterAll(async () => {
    await app.close();
    rmSync(dir, { recursive: true, force: true });
    rmSync(path.join(dir, '..', path.basename(dir) + '-secret.txt'), { force: true });
  });

  it('serves index.html at / and for console deep links, never cached', async () => {
    for (const url of ['/', '/profile/mailboxes/123', '/panel/email?x=1']) {
      const r = await app.inject({ method: 'GET', url });
      expect(r.statusCode, url).toBe(200);
      expect(r.headers['content-type']).toMatch(/text\/html/);
      expect(r.body).toContain('id="root"');
      expect(r.headers['cache-control']).toBe('no-cache');
    }
  });

  it('serves hashed assets with a long cache', async () => {
    const r = await app.inject({ method: 'GET', url: '/assets/app-abc123.js' });
    expect(r.statusCode).toBe(200);
    expect(r.body).toBe('console.log(1)');
    expect(r.headers['cache-control']).toMatch(/immutable/);
  });

  it('leaves /api, /webhooks and missing files to real 404s and API routes alone', async () => {
    expect((await app.inject({ method: 'GET', url: '/api/ping' })).json()).toEqual({ pong: true });
    const api = await app.inject({ method: 'GET', url: '/api/nope' });
    expect(api.statusCode).toBe(404);
    expect(api.json().error.code).toBe('NOT_FOUND');
    expect((await app.inject({ method: 'GET', url: '/webhooks/x' })).statusCode).toBe(404);
    expect((await app.inject({ method: 'GET', url: '/assets/missing-1.js' })).statusCode).toBe(404);
  });

  it('never serves files outside the build directory', async () => {
    for (const url of [`/../${path.basename(dir)}-secret.txt`, `/%2e%2e/${path.basename(dir)}-secret.txt`, '/..%2f..%2fetc%2fpasswd']) {
      const r = await app.inject({ method: 'GET', url });
      expect(r.body, url).not.toContain('TOPSECRET-CONTENT');
      expect(r.body).not.toContain('root:');
    }
  });
});
