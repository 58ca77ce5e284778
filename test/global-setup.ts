// Printed once at the start of `npm test`: which real servers this run can use, so a skipped
// suite is never a surprise. (With SWITCHBOARD_REQUIRE_SERVICES=1 a missing one fails instead.)
import { existsSync } from 'node:fs';
import { hasPostgres, hasRedis, REQUIRE_SERVICES, TEST_DATABASE_URL, TEST_REDIS_URL } from './helpers/services.js';

export default async function setup() {
  const rows: [string, boolean, string][] = [];
  const pg = await hasPostgres().catch(() => false);
  const redis = await hasRedis().catch(() => false);
  rows.push(['PostgreSQL', pg, pg ? TEST_DATABASE_URL : `${TEST_DATABASE_URL} does not answer — PostgreSQL suites are SKIPPED`]);
  rows.push(['Redis', redis, redis ? TEST_REDIS_URL : `${TEST_REDIS_URL} does not answer — BullMQ/Redis suites are SKIPPED`]);
  const dovecot = existsSync('/usr/sbin/dovecot');
  rows.push(['Dovecot', dovecot, dovecot ? '/usr/sbin/dovecot' : 'not installed (apt-get install dovecot-imapd) — IMAP suites are SKIPPED']);
  const chromium = existsSync('/usr/bin/chromium');
  rows.push(['Chromium', chromium, chromium ? '/usr/bin/chromium' : 'not installed (apt-get install chromium) — console e2e suites are SKIPPED']);
  const lines = rows.map(([name, ok, text]) => `  ${ok ? 'yes' : 'NO '}  ${name.padEnd(10)} ${text}`);
  console.log(`\nSwitchboard test servers${REQUIRE_SERVICES ? ' (all required: SWITCHBOARD_REQUIRE_SERVICES=1)' : ''}:\n${lines.join('\n')}\n`);
}
