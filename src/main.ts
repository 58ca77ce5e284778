// Composition root: reads config, opens storage, wires platform and modules, starts the roles
// this process runs (api, worker, scheduler). Plain functions, no container: what a module gets
// is what it is handed here.
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Config, Role } from './config/index.js';
import type { Platform } from './platform/index.js';
import { openDatabase } from './platform/db/index.js';
import { migrateToLatest } from './platform/db/migrator.js';
import { createLogger, type Logger } from './platform/logger.js';
import { SecretBox } from './platform/crypto/secret-box.js';
import { loadKeyRing } from './platform/crypto/keyring.js';
import { createSecretStore } from './platform/crypto/secret-store.js';
import { createFileStore } from './platform/files/index.js';
import { createLeases } from './platform/leases/index.js';
import { createJobQueue } from './platform/jobs/index.js';
import { createEventBus } from './platform/events/index.js';
import { createRealtimeHub, type RealtimeHub } from './platform/realtime/index.js';
import { createApp, type App } from './platform/http/app.js';
import { registerHealth } from './platform/http/health.js';
import { configWarnings } from './config/warnings.js';
import { registerConsole } from './platform/http/console.js';
import { migrations } from './migrations.js';
import type { Database } from './schema.js';
import { createAuthenticator, createIdentityService, registerIdentityRoutes, type IdentityService } from './modules/identity/index.js';
import { createSettingsService, registerSettingsRoutes, type SettingsService } from './modules/settings/index.js';
import { createSystemModule } from './modules/system/index.js';
import { createCrmModule } from './modules/crm/index.js';
import { createChatModule } from './modules/chat/index.js';
import { createNotificationsModule } from './modules/notifications/index.js';
import { createMailProvidersModule } from './modules/mail-providers/index.js';
import { createMailboxesModule } from './modules/mailboxes/index.js';
import { createMailModule } from './modules/mail/index.js';

export const VERSION = '0.1.0'; // keep in step with package.json and cli.ts

export interface RoleFlags {
  api: boolean;
  worker: boolean;
  scheduler: boolean;
}

/** What a module hands back to the composition root. */
export interface ModuleHooks {
  registerRoutes?(app: App): void | Promise<void>;
  start?(roles: RoleFlags): Promise<void>;
  stop?(): Promise<void>;
}

/** Every module's service, typed; built by createModules. */
export type Modules = ReturnType<typeof createModules>['modules'];

export interface Switchboard {
  config: Config;
  platform: Platform;
  modules: Modules;
  app: App;
  /** Base URL the server listens on (after start). */
  url: string;
  close(): Promise<void>;
}

export interface OpenPlatformOptions {
  logger?: Logger;
  /** Redis key prefix for queues/events (tests isolate themselves). */
  redisPrefix?: string;
}

export async function openPlatform(
  config: Config,
  opts: OpenPlatformOptions = {},
): Promise<{ platform: Platform; realtimeHub: RealtimeHub; close(): Promise<void> }> {
  const logger = opts.logger ?? createLogger(config.logLevel);
  for (const warning of configWarnings(config)) logger.warn(warning);
  const instanceId = `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
  const handle = await openDatabase<Database>({ dataDir: config.dataDir, databaseUrl: config.databaseUrl, pgSchema: config.pgSchema });
  await migrateToLatest(handle.db, migrations);
  const ring = loadKeyRing(config.dataDir, config.secretKey, { SWITCHBOARD_SECRET_KEY_PREVIOUS: config.secretKeyPrevious });
  const secrets = createSecretStore(handle.db, new SecretBox(ring.ring));
  // Secrets under a key this process does not have cannot be read (mail sync, bots... fail on
  // them). Say so loudly at start, but run: the rest of the installation still works.
  const unknown = await secrets.unknownKeys();
  if (unknown.length > 0) {
    const count = unknown.reduce((n, k) => n + k.count, 0);
    logger.error(
      { count, keyIds: unknown.map((k) => k.keyId), byKeyId: Object.fromEntries(unknown.map((k) => [k.keyId, k.count])) },
      `${count} stored secret(s) are encrypted with key id(s) ${unknown.map((k) => k.keyId).join(', ')} that this process does not have; ` +
        'they cannot be decrypted. Supply the old key in SWITCHBOARD_SECRET_KEY_PREVIOUS (or the same SWITCHBOARD_SECRET_KEY on every host).',
    );
  }
  const files = createFileStore(config.dataDir);
  const leases = createLeases(handle.db, handle.dialect);
  const prefix = opts.redisPrefix ?? config.redisPrefix;
  const events = createEventBus({ redisUrl: config.redisUrl, logger, prefix });
  const jobs = createJobQueue({ db: handle.db, dialect: handle.dialect, redisUrl: config.redisUrl, logger, leases, instanceId, prefix });
  const realtime = createRealtimeHub({ events, logger });
  const platform: Platform = { config, logger, db: handle.db, dialect: handle.dialect, secrets, files, jobs, events, realtime, leases, instanceId, redisPrefix: prefix };
  return {
    platform,
    realtimeHub: realtime,
    async close() {
      await jobs.stop();
      await realtime.close();
      await events.close();
      await handle.close();
    },
  };
}

/** Builds every module. Each capability adds its line here; order follows dependencies. */
export function createModules(platform: Platform) {
  const identity = createIdentityService(platform.db);
  const settings = createSettingsService({ db: platform.db, secrets: platform.secrets, files: platform.files, siteUrl: platform.config.siteUrl });
  const hooks: ModuleHooks[] = [
    { registerRoutes: (app) => registerIdentityRoutes(app, identity, { secureCookies: platform.config.secureCookies, limits: { redisUrl: platform.config.redisUrl, prefix: platform.redisPrefix, logger: platform.logger } }) },
    { registerRoutes: (app) => registerSettingsRoutes(app, settings) },
    createSystemModule(platform),
  ];
  // --- module wiring (one block per module; keep in dependency order) ---
  // Each module gets exactly the services it needs; the order follows those dependencies.
  const crm = createCrmModule(platform, { identity });
  const notifications = createNotificationsModule(platform);
  const mailProviders = createMailProvidersModule(platform);
  const mailboxes = createMailboxesModule(platform, { providers: mailProviders.service, notify: notifications.notify });
  const mail = createMailModule(platform, { directory: mailboxes.directory, crm: crm.service, getSyncIntervalMinutes: () => settings.get<number>('MailboxSyncInterval') });
  const chat = createChatModule(platform, { identity, crm: crm.service, settings });
  hooks.push(crm, notifications, mailProviders, mailboxes, mail, chat);
  // --- end of module wiring ---
  const modules = {
    identity,
    settings,
    crm: crm.service,
    notifications: notifications.service,
    mailProviders: mailProviders.service,
    mailboxes: mailboxes.service,
    mailboxDirectory: mailboxes.directory,
    mail: mail.service,
    chat: chat.service,
  };
  return { modules, hooks };
}

export interface StartOptions extends OpenPlatformOptions {
  /** Listen on the configured port (default true); tests may use port 0. */
  listen?: boolean;
}

export async function startSwitchboard(config: Config, opts: StartOptions = {}): Promise<Switchboard> {
  const { platform, realtimeHub, close: closePlatform } = await openPlatform(config, opts);
  const { modules, hooks } = createModules(platform);
  const roles: RoleFlags = {
    api: config.roles.includes('api' as Role),
    worker: config.roles.includes('worker' as Role),
    scheduler: config.roles.includes('scheduler' as Role),
  };

  if (config.adminEmail && config.adminPassword) {
    const created = await modules.identity.ensureFirstAdmin(config.adminEmail, config.adminPassword);
    if (created) platform.logger.info({ email: created.email }, 'created the first administrator from SWITCHBOARD_ADMIN_EMAIL');
  }

  const app = await createApp({
    logger: platform.logger,
    bodyLimit: config.jsonBodyLimit,
    uploadLimit: config.bodyLimit,
    trustProxy: config.trustProxy,
    authenticate: createAuthenticator(modules.identity),
    version: VERSION,
  });
  const closeHealth = registerHealth(app, {
    db: platform.db,
    redisUrl: config.redisUrl,
    info: { storage: platform.dialect, jobs: platform.jobs.kind, version: VERSION, roles: config.roles },
  });
  realtimeHub.registerRoutes(app);
  for (const h of hooks) await h.registerRoutes?.(app);
  await registerConsoleIfBuilt(app, platform.logger);

  let url = '';
  if (roles.api && opts.listen !== false) {
    url = await app.listen({ port: config.port, host: config.host });
    url = url.replace('0.0.0.0', '127.0.0.1').replace('[::]', '127.0.0.1');
  } else {
    await app.ready();
  }
  for (const h of hooks) await h.start?.(roles);
  await platform.jobs.start({ worker: roles.worker, scheduler: roles.scheduler });
  platform.logger.info({ url, roles: config.roles, storage: platform.dialect, jobs: platform.jobs.kind, instanceId: platform.instanceId }, 'Switchboard started');

  let closed = false;
  return {
    config,
    platform,
    modules,
    app,
    url,
    async close() {
      if (closed) return;
      closed = true;
      // Fastify closes idle keep-alive connections, but one still finishing a response (a large
      // download the client stopped reading) would hold shutdown until its socket times out:
      // give in-flight requests a few seconds, then cut what is left.
      const cut = setTimeout(() => app.server.closeAllConnections?.(), SHUTDOWN_GRACE_MS);
      cut.unref();
      try {
        await app.close();
      } finally {
        clearTimeout(cut);
      }
      await closeHealth();
      for (const h of [...hooks].reverse()) await h.stop?.();
      await closePlatform();
    },
  };
}

const SHUTDOWN_GRACE_MS = 5_000;

/** Serves the built console (dist/web) at /; without a build, / explains how to build it. */
async function registerConsoleIfBuilt(app: App, logger: Logger) {
  const distDir = join(fileURLToPath(new URL('.', import.meta.url)), '..', 'dist', 'web');
  try {
    await registerConsole(app, { distDir });
  } catch (e) {
    logger.warn({ err: e }, 'console not served');
  }
}
