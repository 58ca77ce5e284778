import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from './index.js';

describe('loadConfig', () => {
  it('has the documented defaults', () => {
    const c = loadConfig({});
    expect(c.port).toBe(3000);
    expect(c.host).toBe('0.0.0.0');
    expect(c.roles).toEqual(['api', 'worker', 'scheduler']);
    expect(c.siteUrl).toBe('http://localhost:3000');
    expect(c.databaseUrl).toBeUndefined();
    expect(c.roots.telegram).toBe('https://api.telegram.org');
  });

  it('lists every bad variable at once', () => {
    try {
      loadConfig({ PORT: 'abc', ROLES: 'api,cook', DATABASE_URL: 'mysql://x', REDIS_URL: 'http://x' });
      expect.fail('should throw');
    } catch (e) {
      expect(e).toBeInstanceOf(ConfigError);
      const msg = (e as Error).message;
      expect(msg).toMatch(/PORT/);
      expect(msg).toMatch(/cook/);
      expect(msg).toMatch(/DATABASE_URL/);
      expect(msg).toMatch(/REDIS_URL/);
    }
  });

  it('derives SiteUrl from PORT and trims slashes; treats empty as unset', () => {
    expect(loadConfig({ PORT: '8080' }).siteUrl).toBe('http://localhost:8080');
    expect(loadConfig({ SITE_URL: 'https://crm.example.com/' }).siteUrl).toBe('https://crm.example.com');
    expect(loadConfig({ SITE_URL: 'https://crm.example.com' }).secureCookies).toBe(true);
    expect(loadConfig({ DATABASE_URL: '' }).databaseUrl).toBeUndefined();
    expect(loadConfig({ ROLES: 'worker' }).roles).toEqual(['worker']);
  });

  it('trusts no proxy by default; SWITCHBOARD_TRUST_PROXY takes true, a hop count or addresses', () => {
    expect(loadConfig({}).trustProxy).toBe(false);
    expect(loadConfig({ SWITCHBOARD_TRUST_PROXY: 'true' }).trustProxy).toBe(true);
    expect(loadConfig({ SWITCHBOARD_TRUST_PROXY: '2' }).trustProxy).toBe(2);
    expect(loadConfig({ SWITCHBOARD_TRUST_PROXY: '10.0.0.1, 10.1.0.0/16,::1' }).trustProxy).toBe('10.0.0.1,10.1.0.0/16,::1');
    expect(() => loadConfig({ SWITCHBOARD_TRUST_PROXY: 'yes please' })).toThrow(/SWITCHBOARD_TRUST_PROXY/);
  });

  it('keeps JSON bodies small and uploads large by default', () => {
    const c = loadConfig({});
    expect(c.jsonBodyLimit).toBe(1024 * 1024);
    expect(c.bodyLimit).toBe(25 * 1024 * 1024);
    // SWITCHBOARD_BODY_LIMIT stays the ceiling for every body.
    expect(loadConfig({ SWITCHBOARD_BODY_LIMIT: '262144' }).jsonBodyLimit).toBe(262144);
  });
});
