// Environment configuration, parsed once at start. Fails fast listing every bad variable,
// because a half-configured server that starts anyway is worse than one that refuses to.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { z } from 'zod';

export type Role = 'api' | 'worker' | 'scheduler';
export const ALL_ROLES: Role[] = ['api', 'worker', 'scheduler'];

const urlOrEmpty = z.string().url().optional();

const envSchema = z.object({
  PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  HOST: z.string().default('0.0.0.0'),
  SWITCHBOARD_DATA_DIR: z.string().default('./data'),
  DATABASE_URL: z
    .string()
    .regex(/^postgres(ql)?:\/\//, 'must be a postgres:// URL')
    .optional(),
  /** PostgreSQL schema for this installation (several installations, or test isolation, in one database). */
  SWITCHBOARD_PG_SCHEMA: z.string().regex(/^[a-z_][a-z0-9_]{0,62}$/, 'must be a lower-case SQL identifier').optional(),
  REDIS_URL: z
    .string()
    .regex(/^rediss?:\/\//, 'must be a redis:// URL')
    .optional(),
  ROLES: z
    .string()
    .default('api,worker,scheduler')
    .transform((v, ctx) => {
      const roles = v.split(',').map((s) => s.trim()).filter(Boolean);
      for (const r of roles) {
        if (!ALL_ROLES.includes(r as Role)) {
          ctx.addIssue({ code: 'custom', message: `unknown role "${r}" (use api, worker, scheduler)` });
        }
      }
      if (roles.length === 0) ctx.addIssue({ code: 'custom', message: 'at least one role is required' });
      return roles as Role[];
    }),
  /** Key prefix in Redis (queues, pub/sub channels), so several installations can share one Redis. */
  SWITCHBOARD_REDIS_PREFIX: z.string().regex(/^[\w:.-]{1,64}$/, 'letters, digits, _ : . - only').default('switchboard'),
  SWITCHBOARD_SECRET_KEY: z.string().optional(),
  SWITCHBOARD_SECRET_KEY_FILE: z.string().optional(),
  /** Old keys (comma-separated) still accepted for reading while rotating. */
  SWITCHBOARD_SECRET_KEY_PREVIOUS: z.string().optional(),
  SWITCHBOARD_ADMIN_EMAIL: z.string().email().optional(),
  SWITCHBOARD_ADMIN_PASSWORD: z.string().min(8).optional(),
  SITE_URL: urlOrEmpty,
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  TELEGRAM_API_ROOT: z.string().url().default('https://api.telegram.org'),
  GOOGLE_OAUTH_ROOT: z.string().url().default('https://oauth2.googleapis.com'),
  GOOGLE_API_ROOT: z.string().url().default('https://www.googleapis.com'),
  MICROSOFT_LOGIN_ROOT: z.string().url().default('https://login.microsoftonline.com'),
  MICROSOFT_GRAPH_ROOT: z.string().url().default('https://graph.microsoft.com'),
  FACEBOOK_GRAPH_ROOT: z.string().url().default('https://graph.facebook.com'),
  /** Cookie `Secure` flag; on by default when SITE_URL is https. */
  SWITCHBOARD_SECURE_COOKIES: z.enum(['true', 'false']).optional(),
  /** Largest uploaded file (multipart) and largest body of routes that take files inline, bytes; caps every body. */
  SWITCHBOARD_BODY_LIMIT: z.coerce.number().int().positive().default(25 * 1024 * 1024),
  /** Largest JSON body of every other route, bytes: small, so junk costs little to refuse. */
  SWITCHBOARD_JSON_BODY_LIMIT: z.coerce.number().int().positive().default(1024 * 1024),
  /**
   * Which peers may set X-Forwarded-For (the client address used by login rate limiting and
   * session records): `false` (default: nobody, the TCP peer is the client), `true` (any peer —
   * only behind a proxy that overwrites the header), a hop count, or proxy addresses/CIDRs.
   */
  SWITCHBOARD_TRUST_PROXY: z
    .string()
    .default('false')
    .transform((v, ctx): TrustProxy => {
      const t = v.trim();
      if (t === 'false') return false;
      if (t === 'true') return true;
      if (/^\d{1,2}$/.test(t)) return Number(t);
      const parts = t.split(',').map((s) => s.trim()).filter(Boolean);
      const bad = parts.filter((p) => !/^[0-9a-fA-F:.]+(\/\d{1,3})?$/.test(p) && !['loopback', 'linklocal', 'uniquelocal'].includes(p));
      if (parts.length === 0 || bad.length) {
        ctx.addIssue({ code: 'custom', message: `use false, true, a hop count, or proxy addresses/CIDRs (bad: ${bad.join(', ') || v})` });
      }
      return parts.join(',');
    }),
});

/** Fastify's trustProxy: nobody, everybody, a hop count, or a comma list of addresses/CIDRs. */
export type TrustProxy = boolean | number | string;

export interface Config {
  port: number;
  host: string;
  dataDir: string;
  databaseUrl?: string;
  pgSchema?: string;
  redisUrl?: string;
  redisPrefix: string;
  roles: Role[];
  secretKey?: string;
  /** Comma-separated old keys (SWITCHBOARD_SECRET_KEY_PREVIOUS). */
  secretKeyPrevious?: string;
  adminEmail?: string;
  adminPassword?: string;
  siteUrl: string;
  logLevel: string;
  secureCookies: boolean;
  /** Uploads (multipart files) and routes that take files inline, bytes; the ceiling for every body. */
  bodyLimit: number;
  /** Every other request body, bytes (never above bodyLimit). */
  jsonBodyLimit: number;
  trustProxy: TrustProxy;
  roots: {
    telegram: string;
    googleOAuth: string;
    googleApi: string;
    microsoftLogin: string;
    microsoftGraph: string;
    facebookGraph: string;
  };
}

export class ConfigError extends Error {
  constructor(public readonly problems: string[]) {
    super(`Invalid configuration:\n  - ${problems.join('\n  - ')}`);
  }
}

/** Reads `X_FILE` into `X` for secret variables, so keys can come from mounted secret files. */
function withFileVariants(env: NodeJS.ProcessEnv, problems: string[]): NodeJS.ProcessEnv {
  const out = { ...env };
  for (const name of ['SWITCHBOARD_SECRET_KEY', 'SWITCHBOARD_ADMIN_PASSWORD', 'DATABASE_URL', 'REDIS_URL']) {
    const file = env[`${name}_FILE`];
    if (file && !env[name]) {
      try {
        out[name] = readFileSync(file, 'utf8').trim();
      } catch (e) {
        problems.push(`${name}_FILE: cannot read ${file} (${(e as Error).message})`);
      }
    }
  }
  return out;
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const problems: string[] = [];
  const merged = withFileVariants(env, problems);
  // Empty strings in the environment mean "unset", as in most twelve-factor tools.
  const cleaned = Object.fromEntries(Object.entries(merged).filter(([, v]) => v !== ''));
  const parsed = envSchema.safeParse(cleaned);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) problems.push(`${issue.path.join('.')}: ${issue.message}`);
  }
  if (problems.length > 0 || !parsed.success) throw new ConfigError(problems);
  const e = parsed.data;
  const siteUrl = (e.SITE_URL ?? `http://localhost:${e.PORT}`).replace(/\/+$/, '');
  return {
    port: e.PORT,
    host: e.HOST,
    dataDir: resolve(e.SWITCHBOARD_DATA_DIR),
    databaseUrl: e.DATABASE_URL,
    pgSchema: e.SWITCHBOARD_PG_SCHEMA,
    redisUrl: e.REDIS_URL,
    redisPrefix: e.SWITCHBOARD_REDIS_PREFIX,
    roles: e.ROLES,
    secretKey: e.SWITCHBOARD_SECRET_KEY,
    secretKeyPrevious: e.SWITCHBOARD_SECRET_KEY_PREVIOUS,
    adminEmail: e.SWITCHBOARD_ADMIN_EMAIL,
    adminPassword: e.SWITCHBOARD_ADMIN_PASSWORD,
    siteUrl,
    logLevel: e.LOG_LEVEL,
    secureCookies: e.SWITCHBOARD_SECURE_COOKIES ? e.SWITCHBOARD_SECURE_COOKIES === 'true' : siteUrl.startsWith('https:'),
    bodyLimit: e.SWITCHBOARD_BODY_LIMIT,
    // SWITCHBOARD_BODY_LIMIT stays the ceiling for every body, as it always was.
    jsonBodyLimit: Math.min(e.SWITCHBOARD_JSON_BODY_LIMIT, e.SWITCHBOARD_BODY_LIMIT),
    trustProxy: e.SWITCHBOARD_TRUST_PROXY,
    roots: {
      telegram: e.TELEGRAM_API_ROOT.replace(/\/+$/, ''),
      googleOAuth: e.GOOGLE_OAUTH_ROOT.replace(/\/+$/, ''),
      googleApi: e.GOOGLE_API_ROOT.replace(/\/+$/, ''),
      microsoftLogin: e.MICROSOFT_LOGIN_ROOT.replace(/\/+$/, ''),
      microsoftGraph: e.MICROSOFT_GRAPH_ROOT.replace(/\/+$/, ''),
      facebookGraph: e.FACEBOOK_GRAPH_ROOT.replace(/\/+$/, ''),
    },
  };
}

