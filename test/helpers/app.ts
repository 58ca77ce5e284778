// A whole Switchboard server for route tests: fresh database (SQLite or a PostgreSQL schema),
// random port, an administrator with an API token, and helpers to make users and call the API.
import { loadConfig } from '../../src/config/index.js';
import { startSwitchboard, type Switchboard, type Modules } from '../../src/main.js';
import { createLogger } from '../../src/platform/logger.js';
import type { Dialect } from '../../src/platform/db/index.js';
import type { SystemOperation } from '../../src/platform/http/auth.js';
import type { Platform } from '../../src/platform/index.js';
import type { App } from '../../src/platform/http/app.js';
import { createTestDb, type TestDb } from './db.js';
import { TEST_REDIS_URL } from './services.js';

export interface ApiResponse<T = any> {
  status: number;
  body: T;
  headers: Headers;
}

export interface RequestOptions {
  token?: string | null;
  body?: unknown;
  /** Raw body (string) sent as-is with the given content type. */
  raw?: string;
  contentType?: string;
  headers?: Record<string, string>;
}

export interface TestUser {
  id: string;
  email: string;
  password: string;
  token: string;
}

export interface TestApp {
  url: string;
  app: App;
  platform: Platform;
  modules: Modules;
  sb: Switchboard;
  db: TestDb;
  adminToken: string;
  adminId: string;
  createUser(opts?: { operations?: SystemOperation[]; name?: string; email?: string; roleIds?: string[] }): Promise<TestUser>;
  request<T = any>(method: string, path: string, opts?: RequestOptions): Promise<ApiResponse<T>>;
  close(): Promise<void>;
}

let counter = 0;

export async function startTestApp(opts: { dialect?: Dialect; env?: Record<string, string>; redis?: boolean; logLevel?: string } = {}): Promise<TestApp> {
  const dialect = opts.dialect ?? 'sqlite';
  const db = await createTestDb(dialect, { migrate: false });
  // The server opens its own connection; this handle is for the test's direct queries.
  const env: Record<string, string> = {
    PORT: '0',
    HOST: '127.0.0.1',
    LOG_LEVEL: opts.logLevel ?? process.env.TEST_LOG_LEVEL ?? 'silent',
    SWITCHBOARD_SECRET_KEY: 'test-secret-key-for-switchboard-tests',
    ...db.env,
    ...(opts.redis ? { REDIS_URL: TEST_REDIS_URL } : {}),
    ...opts.env,
  };
  const config = loadConfig(env);
  const sb = await startSwitchboard(config, {
    logger: createLogger(config.logLevel),
    redisPrefix: `sbtest:${process.pid}:${Date.now().toString(36)}:${counter++}`,
  });
  const url = sb.url;

  async function request<T>(method: string, path: string, o: RequestOptions = {}): Promise<ApiResponse<T>> {
    const headers: Record<string, string> = { ...o.headers };
    if (o.token) headers.authorization = `Bearer ${o.token}`;
    let body: string | undefined;
    if (o.raw !== undefined) {
      body = o.raw;
      headers['content-type'] = o.contentType ?? 'application/json';
    } else if (o.body !== undefined) {
      body = JSON.stringify(o.body);
      headers['content-type'] = 'application/json';
    }
    const res = await fetch(url + path, { method, headers, body });
    const text = await res.text();
    let parsed: unknown = text;
    try {
      parsed = text ? JSON.parse(text) : null;
    } catch {
      /* not JSON */
    }
    return { status: res.status, body: parsed as T, headers: res.headers };
  }

  const identity = sb.modules.identity;
  const admin = await identity.createAdmin(`admin${counter}@example.test`, 'admin-password-1', 'Test Admin');
  const adminToken = (await identity.createApiToken(admin.id, 'tests')).token;

  let users = 0;
  async function createUser(o: { operations?: SystemOperation[]; name?: string; email?: string; roleIds?: string[] } = {}): Promise<TestUser> {
    const n = ++users;
    const email = o.email ?? `user${n}.${Date.now().toString(36)}@example.test`;
    const password = `password-${n}-ok`;
    const u = await identity.createUser({ email, name: o.name ?? `User ${n}`, password, roleIds: o.roleIds });
    for (const op of o.operations ?? []) {
      const grants = (await identity.listGrants()).find((g) => g.operation === op)!;
      await identity.setGrants(op, { userIds: [...grants.userIds, u.id], roleIds: grants.roleIds });
    }
    const token = (await identity.createApiToken(u.id, 'tests')).token;
    return { id: u.id, email, password, token };
  }

  return {
    url,
    app: sb.app,
    platform: sb.platform,
    modules: sb.modules,
    sb,
    db,
    adminToken,
    adminId: admin.id,
    createUser,
    request,
    async close() {
      await sb.close();
      await db.destroy();
    },
  };
}
