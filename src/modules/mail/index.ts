// Public face of the mail module (B3, B4, B5): sync engine over IMAP, stored messages, threads,
// links to CRM contacts/accounts, sending over SMTP. It reads mailboxes only through the
// `MailboxDirectory` contract (src/modules/mailboxes/types.ts).
import type { Platform } from '../../platform/index.js';
import type { App } from '../../platform/http/app.js';
import { errors } from '../../platform/http/errors.js';
import type { MailConnectors } from '../../connectors/mail/index.js';
import type { MailboxDirectory } from '../mailboxes/types.js';
import { createMailStore, type MailCrmLink } from './store.js';
import { createMailAccess, createSyncer } from './sync.js';
import { createEngine, JOB_CHANGED, JOB_REMOVED, JOB_SYNC } from './engine.js';
import { createMailQueries } from './service.js';
import { createParserPool, type Parser } from './parse-pool.js';
import { registerMailRoutes } from './routes.js';
import { createSender } from './send.js';
import { registerSendRoutes } from './send-routes.js';
import { createMailTimelineSource } from './timeline.js';
import { createContactSuggestions, type SuggestionCrm } from './suggestions.js';

export type { MailTables } from './tables.js';
export { mailMigrations } from './migrations.js';
export { JOB_CHANGED, JOB_REMOVED, JOB_SYNC } from './engine.js';
export type { MailCrmLink } from './store.js';

/** What mail needs from the CRM: contact lookup by address; optionally the timeline registry. */
export interface MailCrmDeps extends MailCrmLink, SuggestionCrm {
  registerTimelineSource?(source: import('../crm/index.js').TimelineSource): void;
}

export interface MailModuleDeps {
  directory: MailboxDirectory;
  crm?: MailCrmDeps;
  getSyncIntervalMinutes: () => Promise<number>;
}

export interface MailModuleOptions {
  /** Parser worker threads (default: 1 when the machine has more than one core). */
  parseThreads?: number;
  /** Verify IMAP/SMTP server certificates (default true). */
  rejectUnauthorized?: boolean;
  /** Mail connector registry (default: connectors/mail's); tests wrap it. */
  connectors?: MailConnectors;
  /** Server silence allowed while a command waits (default: the connector's, 90 s for IMAP). */
  socketTimeoutMs?: number;
  batchCount?: number;
  leaseTtlMs?: number;
  tickMs?: number;
  pollMs?: number;
  backoffBaseMs?: number;
  afterBatch?(mailboxId: string, folder: string, stored: number): Promise<void> | void;
}

export function createMailModule(platform: Platform, deps: MailModuleDeps, options: MailModuleOptions = {}) {
  const { db, logger } = platform;
  const rejectUnauthorized = options.rejectUnauthorized ?? process.env.SWITCHBOARD_MAIL_TLS_INSECURE !== '1';
  let parser: Parser | null = null;
  const getParser = (): Parser => {
    if (!parser) {
      const threads = options.parseThreads ?? (require_cores() > 1 ? 1 : 0);
      parser = createParserPool(threads);
    }
    return parser;
  };
  const lazyParser: Parser = { parse: (raw) => getParser().parse(raw), close: async () => parser?.close() };
  const store = createMailStore({ db, dialect: platform.dialect, files: platform.files, logger, crm: deps.crm });
  const access = createMailAccess({ connectors: options.connectors, rejectUnauthorized, socketTimeoutMs: options.socketTimeoutMs });
  const queries = createMailQueries(platform, deps.directory, access);

  // sync.status to the owner, at most once a second per mailbox (progress can tick fast).
  const pendingNotify = new Map<string, NodeJS.Timeout>();
  function notifySync(mailboxId: string) {
    if (pendingNotify.has(mailboxId)) return;
    const t = setTimeout(async () => {
      pendingNotify.delete(mailboxId);
      try {
        const mb = await deps.directory.get(mailboxId);
        if (!mb) return;
        const status = await queries.syncStatus(mailboxId);
        await platform.realtime.notifyUsers([mb.userId], { type: 'sync.status', data: status });
      } catch (err) {
        logger.debug?.({ err }, 'mail: sync.status notify failed');
      }
    }, 250);
    t.unref();
    pendingNotify.set(mailboxId, t);
  }

  const syncer = createSyncer({
    db,
    store,
    directory: deps.directory,
    parser: lazyParser,
    logger,
    access,
    batchCount: options.batchCount,
    onProgress: (p) => notifySync(p.mailboxId),
    onNewEmails: (mailboxId, userId, emails) => {
      for (const e of emails) {
        void platform.realtime
          .notifyUsers([userId], { type: 'email.received', data: { mailboxId, emailId: e.id, threadId: e.threadId, subject: e.subject, from: e.from, date: e.date, folder: e.folder } })
          .catch(() => {});
      }
    },
    afterBatch: options.afterBatch,
  });
  const engine = createEngine(platform, { directory: deps.directory, syncer, store, access, getSyncIntervalMinutes: deps.getSyncIntervalMinutes, notifySync }, {
    leaseTtlMs: options.leaseTtlMs,
    tickMs: options.tickMs,
    pollMs: options.pollMs,
    backoffBaseMs: options.backoffBaseMs,
  });
  engine.defineJobs();

  const sender = createSender(platform, { directory: deps.directory, store, access });

  if (deps.crm?.registerTimelineSource) {
    try {
      deps.crm.registerTimelineSource(createMailTimelineSource(platform, deps.directory));
    } catch (err) {
      logger.warn({ err }, 'mail: timeline source not registered');
    }
  }

  const suggestions = createContactSuggestions({ db, dialect: platform.dialect, directory: deps.directory, crm: deps.crm });

  const service = {
    queries,
    suggestions,
    store,
    engine,
    sender,
    syncStatus: (mailboxId: string) => queries.syncStatus(mailboxId),
    syncNow: async (mailboxId: string) => {
      await db.updateTable('mail_sync_state').set({ next_attempt_at: null }).where('mailbox_id', '=', mailboxId).execute();
      return engine.enqueueSync(mailboxId);
    },
    /** Runs a sync pass in this process (tests, CLI). */
    syncMailbox: (mailboxId: string) => engine.runSync(mailboxId),
    async folders(mailboxId: string, opts: { refresh?: boolean } = {}) {
      const load = () => db.selectFrom('mail_folders').selectAll().where('mailbox_id', '=', mailboxId).where('on_server', '=', 1).orderBy('path').execute();
      let rows = await load();
      if (rows.length === 0 || opts.refresh) {
        const conn = await deps.directory.connection(mailboxId);
        let session;
        try {
          session = await access.connect(conn);
        } catch (err) {
          throw errors.upstream('MAIL_SERVER_UNAVAILABLE', (err as Error).message);
        }
        try {
          await syncer.refreshFolders(session, conn);
        } finally {
          await session.close();
        }
        rows = await load();
      }
      return rows.map((f) => ({ path: f.path, specialUse: f.special_use, selectable: f.selectable === 1, selected: f.selected === 1 }));
    },
    registerSendRoutes: (app: App) => registerSendRoutes(app, sender),
  };

  return {
    service,
    registerRoutes: (app: App) => registerMailRoutes(app, service),
    async start(roles: { api?: boolean; worker: boolean; scheduler: boolean }) {
      await engine.start(roles);
    },
    async stop() {
      await engine.stop();
      for (const t of pendingNotify.values()) clearTimeout(t);
      pendingNotify.clear();
      await parser?.close();
      parser = null;
    },
  };
}

export type MailModule = ReturnType<typeof createMailModule>;
export type MailService = MailModule['service'];

import { availableParallelism } from 'node:os';
function require_cores(): number {
  return availableParallelism();
}
