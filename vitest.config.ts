import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { defineConfig } from 'vitest/config';

// Suites that drive a real Dovecot are left out when it is not installed (unless the run requires
// every server, as CI does); test/global-setup.ts says so at the start of the run.
function dovecotSuites(): string[] {
  if (existsSync(process.env.DOVECOT_BIN ?? '/usr/sbin/dovecot') || process.env.SWITCHBOARD_REQUIRE_SERVICES === '1') return [];
  const out: string[] = [];
  for (const dir of ['test/integration', 'test/e2e']) {
    if (!existsSync(dir)) continue;
    for (const f of readdirSync(dir)) {
      if (!f.endsWith('.test.ts')) continue;
      const text = readFileSync(join(dir, f), 'utf8');
      if (/helpers\/dovecot\.js|fixtures\/mail\/harness\.js/.test(text)) out.push(join(dir, f));
    }
  }
  return out;
}

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    exclude: ['node_modules', 'dist', 'web/**', ...dovecotSuites()],
    globalSetup: ['test/global-setup.ts'],
    pool: 'forks',
    // Two cores: more parallel files only make the real servers (Dovecot, PostgreSQL) contend.
    maxWorkers: 2,
    testTimeout: 30_000,
    hookTimeout: 120_000,
    reporters: ['default'],
  },
});
