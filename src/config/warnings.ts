// Configurations that start but will not behave as an operator probably expects. They are legal
// (a single host may well run ROLES=api and ROLES=worker side by side on SQLite), so they are
// logged as warnings at start rather than refused.
import { ALL_ROLES, type Config } from './index.js';

export function configWarnings(config: Config): string[] {
  const out: string[] = [];
  const split = ALL_ROLES.some((r) => !config.roles.includes(r));
  if (split && !config.databaseUrl) {
    out.push(
      `ROLES=${config.roles.join(',')} splits the roles across processes, but storage is SQLite: every process must run on this host ` +
        'and share one database file (its writers queue on one lock). Set DATABASE_URL (PostgreSQL) to run processes on several hosts.',
    );
  }
  if (split && !config.redisUrl) {
    out.push(
      `ROLES=${config.roles.join(',')} splits the roles across processes, but REDIS_URL is not set: realtime events stay inside the process ` +
        'that raised them, so WebSocket clients of an api process miss events from worker processes. Set REDIS_URL.',
    );
  }
  if (config.databaseUrl && !config.secretKey) {
    out.push(
      'DATABASE_URL is set but SWITCHBOARD_SECRET_KEY (or SWITCHBOARD_SECRET_KEY_FILE) is not: each host generates its own key in its ' +
        'data directory and cannot read secrets another host stored. Give every process the same SWITCHBOARD_SECRET_KEY.',
    );
  }
  return out;
}
