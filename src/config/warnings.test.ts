import { describe, expect, it } from 'vitest';
import { loadConfig } from './index.js';
import { configWarnings } from './warnings.js';

describe('configWarnings', () => {
  it('says nothing for the embedded default or a full scale-out set-up', () => {
    expect(configWarnings(loadConfig({}))).toEqual([]);
    expect(configWarnings(loadConfig({ ROLES: 'api', DATABASE_URL: 'postgres://x/y', REDIS_URL: 'redis://x', SWITCHBOARD_SECRET_KEY: 'k' }))).toEqual([]);
  });

  it('warns when roles are split on SQLite, or without Redis', () => {
    const w = configWarnings(loadConfig({ ROLES: 'worker' }));
    expect(w).toHaveLength(2);
    expect(w[0]).toMatch(/SQLite/);
    expect(w[1]).toMatch(/REDIS_URL/);
    expect(configWarnings(loadConfig({ ROLES: 'api,worker', DATABASE_URL: 'postgres://x/y', SWITCHBOARD_SECRET_KEY: 'k' }))).toEqual([expect.stringMatching(/realtime events stay/)]);
  });

  it('warns when PostgreSQL is shared but every host would generate its own secret key', () => {
    expect(configWarnings(loadConfig({ DATABASE_URL: 'postgres://x/y' }))).toEqual([expect.stringMatching(/SWITCHBOARD_SECRET_KEY/)]);
  });
});
