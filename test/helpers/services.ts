// Which real servers the tests can use. PostgreSQL and Redis suites run when the servers answer;
// with SWITCHBOARD_REQUIRE_SERVICES=1 (set by .ci/run) a missing server fails the run instead.
import net from 'node:net';

export const TEST_DATABASE_URL = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
export const TEST_REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
export const REQUIRE_SERVICES = process.env.SWITCHBOARD_REQUIRE_SERVICES === '1';

function reachable(url: string, defaultPort: number): Promise<boolean> {
  const u = new URL(url);
  return new Promise((resolve) => {
    const s = net.connect({ host: u.hostname, port: Number(u.port || defaultPort) });
    const done = (ok: boolean) => {
      s.destroy();
      resolve(ok);
    };
    s.setTimeout(1000, () => done(false));
    s.once('connect', () => done(true));
    s.once('error', () => done(false));
  });
}

const cache = new Map<string, Promise<boolean>>();

async function check(name: 'postgres' | 'redis'): Promise<boolean> {
  const url = name === 'postgres' ? TEST_DATABASE_URL : TEST_REDIS_URL;
  const ok = await reachable(url, name === 'postgres' ? 5432 : 6379);
  if (!ok && REQUIRE_SERVICES) {
    throw new Error(`${name} is required (SWITCHBOARD_REQUIRE_SERVICES=1) but ${url} does not answer`);
  }
  if (!ok) console.warn(`[switchboard tests] SKIPPED: ${name} suites — ${url} does not answer`);
  return ok;
}

export function hasPostgres(): Promise<boolean> {
  if (!cache.has('postgres')) cache.set('postgres', check('postgres'));
  return cache.get('postgres')!;
}

export function hasRedis(): Promise<boolean> {
  if (!cache.has('redis')) cache.set('redis', check('redis'));
  return cache.get('redis')!;
}

/** Dovecot for the IMAP suites: skipped with a warning when missing, or failing when required. */
export async function hasDovecot(): Promise<boolean> {
  const { existsSync } = await import('node:fs');
  const ok = existsSync(process.env.DOVECOT_BIN ?? '/usr/sbin/dovecot');
  if (!ok && REQUIRE_SERVICES) throw new Error('Dovecot is required (SWITCHBOARD_REQUIRE_SERVICES=1) but /usr/sbin/dovecot is missing (apt-get install dovecot-imapd)');
  if (!ok) console.warn('[switchboard tests] SKIPPED: IMAP suites — Dovecot is not installed (apt-get install -y dovecot-imapd)');
  return ok;
}
