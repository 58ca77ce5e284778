// The running side of mail sync:
//   - job `mail.sync-mailbox` { mailboxId, force? } (jobKey per mailbox) runs a full pass;
//   - job `mail.resync-all` (repeat every MailboxSyncInterval minutes, scheduler role) enqueues one
//     per syncable mailbox not in backoff;
//   - jobs `mail.mailbox-changed` / `mail.mailbox-removed` from the mailboxes module;
//   - live watchers (worker role): for each syncable mailbox this process holds the lease
//     `mailbox:<id>` for, one connection IDLEs INBOX and polls the other folders (the mailbox
//     kind's connector, e.g. connectors/imap/watch.ts); a change syncs just that folder in-process
//     over a second, kept-open connection, so new mail is stored and announced within a second.
//     Each worker renews a `mail-worker:<id>` heartbeat and holds at most its fair share of the
//     mailboxes; a watcher restarts when the mailbox's settings_version is bumped: by
//     mail.mailbox-changed (run on any worker), or by a sync that finds the server's folder set
//     changed (a folder created or removed there), so the watcher then covers the new set.
// Failures are per mailbox: the state row records the error in plain words and the next attempt
// time (exponential backoff); auth failures mark the mailbox "needs re-auth" and stop retrying.
import type { Platform } from '../../platform/index.js';
import { nowIso } from '../../platform/db/index.js';
import { PermanentJobError } from '../../platform/jobs/types.js';
import { classifyMailError, MailConnectorError, type MailSession, type Watcher } from '../../connectors/mail/index.js';
import type { MailboxDirectory } from '../mailboxes/types.js';
import type { MailAccess, Syncer } from './sync.js';
import type { MailStore } from './store.js';

export const JOB_SYNC = 'mail.sync-mailbox';
export const JOB_RESYNC_ALL = 'mail.resync-all';
export const JOB_CHANGED = 'mail.mailbox-changed';
export const JOB_REMOVED = 'mail.mailbox-removed';

export interface EngineOptions {
  leaseTtlMs?: number;
  tickMs?: number;
  pollMs?: number;
  /** Backoff base for failed syncs (doubles per consecutive failure, capped at 30 min). */
  backoffBaseMs?: number;
  /** Live connections being opened at once by this worker (default 16). */
  maxParallelStarts?: number;
}

const WORKER_LEASE_PREFIX = 'mail-worker:';

/**
 * Most mailboxes one worker should hold: an even split over the live workers, plus one so that
 * the shares add up to more than the total and a mailbox never waits for a worker with room.
 */
export function fairShare(mailboxes: number, workers: number): number {
  return Math.ceil(mailboxes / Math.max(1, workers)) + 1;
}

interface Live {
  watcher: Watcher | null;
  /** mail_sync_state.settings_version the watcher was started with. */
  version: number;
  work: MailSession | null;
  dirty: Set<string>;
  timer: NodeJS.Timeout | null;
  retryAt: number;
  failures: number;
  starting: boolean;
}

export function createEngine(
  platform: Platform,
  deps: { directory: MailboxDirectory; syncer: Syncer; store: MailStore; access: MailAccess; getSyncIntervalMinutes: () => Promise<number>; notifySync(mailboxId: string): void },
  opts: EngineOptions = {},
) {
  const { jobs, leases, logger, db } = platform;
  const leaseTtl = opts.leaseTtlMs ?? 45_000;
  const tickMs = opts.tickMs ?? 15_000;
  const pollMs = opts.pollMs ?? 30_000;
  const backoffBase = opts.backoffBaseMs ?? 30_000;
  const maxParallelStarts = Math.max(1, opts.maxParallelStarts ?? 16);
  const live = new Map<string, Live>();
  const locks = new Map<string, Promise<unknown>>();
  const abort = new AbortController();
  let tickTimer: NodeJS.Timeout | null = null;
  let running = false;
  let intervalMinutes: number | null = null;

  /** Serialises syncs of one mailbox within this process. */
  function withLock<T>(mailboxId: string, fn: () => Promise<T>): Promise<T> {
    const prev = locks.get(mailboxId) ?? Promise.resolve();
    const next = prev.catch(() => {}).then(fn);
    const tail = next.catch(() => {});
    locks.set(mailboxId, tail);
    void tail.then(() => {
      if (locks.get(mailboxId) === tail) locks.delete(mailboxId);
    });
    return next;
  }

  async function setState(mailboxId: string, patch: Partial<{ state: string; last_success_at: string | null; last_error: string | null; last_error_at: string | null; failures: number; next_attempt_at: string | null }>) {
    const now = nowIso();
    await db
      .insertInto('mail_sync_state')
      .values({ mailbox_id: mailboxId, state: 'idle', last_success_at: null, last_error: null, last_error_at: null, failures: 0, next_attempt_at: null, settings_version: 0, ...patch, updated_at: now })
      .onConflict((oc) => oc.column('mailbox_id').doUpdateSet({ ...patch, updated_at: now }))
      .execute();
    deps.notifySync(mailboxId);
  }

  async function recordFailure(mailboxId: string, err: MailConnectorError) {
    const row = await db.selectFrom('mail_sync_state').select('failures').where('mailbox_id', '=', mailboxId).executeTakeFirst();
    const failures = (row?.failures ?? 0) + 1;
    const delay = Math.min(backoffBase * 2 ** (failures - 1), 30 * 60_000);
    if (err.kind === 'auth') {
      await setState(mailboxId, { state: 'needs-reauth', last_error: err.message, last_error_at: nowIso(), failures, next_attempt_at: null });
      await deps.directory.markNeedsReauth(mailboxId, err.message).catch((e) => logger.warn({ err: e, mailboxId }, 'mail: markNeedsReauth failed'));
    } else {
      await setState(mailboxId, { state: 'error', last_error: err.message, last_error_at: nowIso(), failures, next_attempt_at: new Date(Date.now() + delay).toISOString() });
    }
    return delay;
  }

  /** One full or partial pass with state bookkeeping. Throws the classified error. */
  async function runSync(mailboxId: string, opts2: { folders?: string[]; session?: MailSession } = {}) {
    return withLock(mailboxId, async () => {
      const mb = await deps.directory.get(mailboxId);
      if (!mb) return null;
      if (!opts2.folders) await setState(mailboxId, { state: 'syncing' });
      try {
        const res = await deps.syncer.syncMailbox(mailboxId, { folders: opts2.folders, session: opts2.session, signal: abort.signal });
        await setState(mailboxId, { state: 'idle', last_success_at: nowIso(), failures: 0, next_attempt_at: null, ...(opts2.folders ? {} : { last_error: null }) });
        return res;
      } catch (e) {
        const err = classifyMailError(e);
        if (!abort.signal.aborted) await recordFailure(mailboxId, err);
        throw err;
      }
    });
  }

  // ---- jobs ------------------------------------------------------------------------------

  function enqueueSync(mailboxId: string, delayMs = 0) {
    return jobs.enqueue(JOB_SYNC, { mailboxId }, { jobKey: `mail.sync:${mailboxId}`, delayMs, attempts: 3, backoff: { type: 'exponential', delayMs: backoffBase } });
  }

  function defineJobs() {
    jobs.define<{ mailboxId: string; force?: boolean }>(JOB_SYNC, async (data, ctx) => {
      const mb = await deps.directory.get(data.mailboxId);
      // needs-reauth: retrying with the same credentials only risks a lockout; the user's new
      // password arrives as mail.mailbox-changed.
      if (!mb || mb.status !== 'active') return;
      try {
        await runSync(data.mailboxId);
      } catch (e) {
        const err = classifyMailError(e);
        if (err.kind === 'auth' || err.kind === 'permanent') throw new PermanentJobError(err.message);
        if (ctx.isLastAttempt) return; // state row holds the error; the periodic resync retries after backoff
        throw err;
      }
    }, { concurrency: 2 });

    jobs.define(JOB_RESYNC_ALL, async () => {
      await ensureRepeat();
      const now = nowIso();
      const list = await deps.directory.listSyncable();
      const states = list.length
        ? await db.selectFrom('mail_sync_state').select(['mailbox_id', 'next_attempt_at', 'state']).where('mailbox_id', 'in', list.map((m) => m.id)).execute()
        : [];
      const byId = new Map(states.map((s) => [s.mailbox_id, s]));
      for (const mb of list) {
        const s = byId.get(mb.id);
        if (s?.state === 'needs-reauth') continue;
        if (s?.next_attempt_at && s.next_attempt_at > now) continue; // in backoff
        await enqueueSync(mb.id);
      }
    });

    jobs.define<{ mailboxId: string }>(JOB_CHANGED, async (data) => {
      // Settings or credentials changed: restart the live connection with the new ones and resync.
      // This job runs on any worker; the version tells the lease holder (see checkVersions).
      await setState(data.mailboxId, { failures: 0, next_attempt_at: null, ...(await isReauth(data.mailboxId)) });
      await db
        .updateTable('mail_sync_state')
        .set((eb) => ({ settings_version: eb('settings_version', '+', 1) }))
        .where('mailbox_id', '=', data.mailboxId)
        .execute();
      await stopLive(data.mailboxId);
      await enqueueSync(data.mailboxId);
      if (running) void tick();
    });

    jobs.define<{ mailboxId: string; deleteMail: boolean }>(JOB_REMOVED, async (data) => {
      await stopLive(data.mailboxId);
      await leases.release(`mailbox:${data.mailboxId}`, platform.instanceId).catch(() => {});
      // After any sync of this mailbox still running here: it could otherwise write folder rows
      // back after the purge.
      await withLock(data.mailboxId, async () => {
        if (data.deleteMail) await deps.store.purgeMailbox(data.mailboxId);
        else await db.deleteFrom('mail_sync_state').where('mailbox_id', '=', data.mailboxId).execute();
      });
    });
  }

  async function isReauth(mailboxId: string) {
    const mb = await deps.directory.get(mailboxId);
    return mb && mb.status === 'active' ? { state: 'idle' as const, last_error: null } : {};
  }

  async function ensureRepeat() {
    const minutes = Math.max(1, Math.floor((await deps.getSyncIntervalMinutes().catch(() => 10)) || 10));
    if (minutes !== intervalMinutes) {
      intervalMinutes = minutes;
      await jobs.repeat(JOB_RESYNC_ALL, JOB_RESYNC_ALL, { everyMs: minutes * 60_000 }, {});
    }
  }

  // ---- live connections (worker role) -------------------------------------------------------

  async function stopLive(mailboxId: string) {
    const l = live.get(mailboxId);
    if (!l) return;
    live.delete(mailboxId);
    if (l.timer) clearTimeout(l.timer);
    await l.watcher?.stop().catch(() => {});
    await l.work?.close().catch(() => {});
  }

  function scheduleLiveSync(mailboxId: string, folder: string) {
    const l = live.get(mailboxId);
    if (!l) return;
    l.dirty.add(folder);
    if (l.timer) return;
    // Coalesce a burst of EXISTS/FETCH notifications into one pass.
    l.timer = setTimeout(() => {
      l.timer = null;
      const folders = [...l.dirty];
      l.dirty.clear();
      void (async () => {
        try {
          if (!l.work || !l.work.usable) {
            const conn = await deps.directory.connection(mailboxId);
            l.work = await deps.access.connect(conn);
          }
          await runSync(mailboxId, { folders, session: l.work });
        } catch (err) {
          logger.warn({ mailboxId, err: (err as Error).message }, 'mail: live sync failed; the periodic resync will catch up');
          await l.work?.close().catch(() => {});
          l.work = null;
        }
      })();
    }, 50);
  }

  async function settingsVersions(ids: string[]): Promise<Map<string, number>> {
    const out = new Map<string, number>();
    for (let i = 0; i < ids.length; i += 500) {
      const rows = await db.selectFrom('mail_sync_state').select(['mailbox_id', 'settings_version']).where('mailbox_id', 'in', ids.slice(i, i + 500)).execute();
      for (const r of rows) out.set(r.mailbox_id, Number(r.settings_version));
    }
    return out;
  }

  /**
   * A mailbox's settings or credentials changed (mail.mailbox-changed ran, on whichever worker):
   * restart its watcher here, with the new folders and password. Compared on every tick, so it
   * needs no message between workers and nothing is missed while one is down.
   */
  async function checkVersions() {
    const ids = [...live.entries()].filter(([, l]) => l.watcher).map(([id]) => id);
    if (ids.length === 0) return;
    const versions = await settingsVersions(ids);
    for (const id of ids) {
      const l = live.get(id);
      if (l?.watcher && (versions.get(id) ?? 0) !== l.version) {
        logger.info({ mailboxId: id }, 'mail: mailbox settings changed; restarting its live connection');
        await stopLive(id);
      }
    }
  }

  async function startLive(mailboxId: string, l: Live) {
    // Read before the settings, so a change racing this start is seen by the next tick.
    l.version = (await settingsVersions([mailboxId])).get(mailboxId) ?? 0;
    const conn = await deps.directory.connection(mailboxId);
    const hasRows = await db.selectFrom('mail_folders').select('id').where('mailbox_id', '=', mailboxId).limit(1).executeTakeFirst();
    if (!hasRows) {
      // Never synced: learn the folders now so the watcher knows what to watch.
      const s0 = await deps.access.connect(conn);
      try {
        await deps.syncer.refreshFolders(s0, conn);
      } finally {
        await s0.close();
      }
    }
    // Which folders to watch follows the settings just read, not the rows' `selected` flag: after
    // a settings change that flag is only updated by the next full sync, which may run later.
    const s = conn.mailbox.settings;
    const rows = await db.selectFrom('mail_folders').select(['path', 'selectable']).where('mailbox_id', '=', mailboxId).where('on_server', '=', 1).execute();
    const paths = rows.filter((r) => r.selectable === 1 && (s.allFolders || s.selectedFolders.includes(r.path))).map((r) => r.path);
    const inboxSelected = s.allFolders || s.selectedFolders.includes('INBOX') || paths.includes('INBOX');
    const idleFolder = inboxSelected ? 'INBOX' : paths[0];
    if (!idleFolder) return; // nothing selected (yet); the first full sync creates the folder rows
    const watcher = await deps.access.watch(conn, {
      idleFolder,
      pollFolders: paths.filter((p) => p !== idleFolder),
      pollMs,
      onChange: (folder) => scheduleLiveSync(mailboxId, folder),
      onClose: (err) => {
        if (live.get(mailboxId) !== l) return;
        l.watcher = null;
        l.failures++;
        l.retryAt = Date.now() + Math.min(1000 * 2 ** l.failures, 60_000);
        logger.info({ mailboxId, err: err?.message }, 'mail: live connection closed; reconnecting');
        setTimeout(() => void tick(), Math.min(1000 * 2 ** l.failures, 60_000) + 10).unref();
      },
    });
    if (live.get(mailboxId) !== l) {
      // Stopped (lease lost, settings changed, engine stopping) while this connection was opening.
      await watcher.stop().catch(() => {});
      return;
    }
    l.watcher = watcher;
    l.failures = 0;
    // Catch up with anything that arrived while nobody was watching: the IDLE folder right now,
    // everything else through the (deduplicated) full-sync job.
    scheduleLiveSync(mailboxId, idleFolder);
    await enqueueSync(mailboxId).catch((err) => logger.warn({ err, mailboxId }, 'mail: could not queue a full sync'));
  }

  // Opening a live connection can take a connect timeout (20 s) on a slow or dead server: starts
  // run in the background, a bounded number at once, so a tick only renews leases and never
  // outlasts the lease TTL however many mailboxes connect slowly.
  const startQueue: (() => Promise<void>)[] = [];
  let activeStarts = 0;
  function pumpStarts() {
    while (activeStarts < maxParallelStarts && startQueue.length) {
      const run = startQueue.shift()!;
      activeStarts++;
      void run().finally(() => {
        activeStarts--;
        pumpStarts();
      });
    }
  }

  function queueStart(mailboxId: string, l: Live) {
    l.starting = true;
    startQueue.push(async () => {
      try {
        if (!running || live.get(mailboxId) !== l) return;
        await startLive(mailboxId, l);
      } catch (e) {
        const err = classifyMailError(e);
        l.failures++;
        l.retryAt = Date.now() + Math.min(1000 * 2 ** l.failures, 5 * 60_000);
        if (err.kind === 'auth' && running) await recordFailure(mailboxId, err).catch(() => {});
        logger.info({ mailboxId, err: err.message }, 'mail: live connection failed');
      } finally {
        l.starting = false;
      }
    });
    pumpStarts();
  }

  /** Workers that hold mailboxes: each renews `mail-worker:<instanceId>` on every tick. */
  async function liveWorkers(): Promise<number> {
    const row = await db
      .selectFrom('leases')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('name', 'like', `${WORKER_LEASE_PREFIX}%`)
      .where('expires_at', '>', nowIso())
      .executeTakeFirst();
    return Math.max(1, Number(row?.n ?? 1));
  }

  /**
   * Gives mailboxes back when this worker holds more than its share, at most half the excess per
   * tick (a burst of reconnects is spread out); the released leases are free at once, and the
   * other workers, below their share, take them on their next tick.
   */
  async function shed(excess: number) {
    const victims = [...live.entries()].filter(([, l]) => !l.starting).reverse().slice(0, Math.ceil(excess / 2));
    for (const [id] of victims) {
      logger.info({ mailboxId: id }, 'mail: handing a mailbox over to a less busy worker');
      await stopLive(id);
      await leases.release(`mailbox:${id}`, platform.instanceId).catch(() => {});
    }
  }

  let ticking: Promise<void> | null = null;
  function tick(): Promise<void> {
    if (!running) return Promise.resolve();
    if (ticking) return ticking;
    ticking = (async () => {
      try {
        const syncable = await deps.directory.listSyncable();
        const ids = new Set(syncable.map((m) => m.id));
        for (const id of [...live.keys()]) {
          if (!ids.has(id)) {
            await stopLive(id);
            await leases.release(`mailbox:${id}`, platform.instanceId).catch(() => {});
          }
        }
        await checkVersions();
        await leases.acquire(`${WORKER_LEASE_PREFIX}${platform.instanceId}`, platform.instanceId, leaseTtl);
        const cap = fairShare(syncable.length, await liveWorkers());
        for (const mb of syncable) {
          if (!running) break;
          let l = live.get(mb.id);
          // Renew what we hold; take a new one only while below our share.
          if (!l && live.size >= cap) continue;
          const held = await leases.acquire(`mailbox:${mb.id}`, platform.instanceId, leaseTtl);
          if (!held) {
            if (l) await stopLive(mb.id);
            continue;
          }
          if (!l) {
            l = { watcher: null, version: 0, work: null, dirty: new Set(), timer: null, retryAt: 0, failures: 0, starting: false };
            live.set(mb.id, l);
          }
          if (!l.watcher && !l.starting && Date.now() >= l.retryAt) queueStart(mb.id, l);
        }
        if (running && live.size > cap) await shed(live.size - cap);
      } catch (err) {
        logger.warn({ err }, 'mail: engine tick failed');
      } finally {
        ticking = null;
      }
    })();
    return ticking;
  }

  return {
    defineJobs,
    enqueueSync,
    runSync,
    setState,
    liveMailboxes: () => [...live.keys()],
    async start(roles: { worker: boolean; scheduler: boolean }) {
      if (roles.scheduler) await ensureRepeat();
      if (roles.worker) {
        running = true;
        void tick();
        tickTimer = setInterval(() => void tick(), tickMs);
        tickTimer.unref();
      }
    },
    /** Abrupt by design: open IMAP connections are dropped, running syncs see the abort. */
    async stop() {
      running = false;
      abort.abort();
      if (tickTimer) clearInterval(tickTimer);
      await ticking?.catch(() => {});
      startQueue.length = 0;
      for (const id of [...live.keys()]) {
        await stopLive(id);
        await leases.release(`mailbox:${id}`, platform.instanceId).catch(() => {});
      }
      await leases.release(`${WORKER_LEASE_PREFIX}${platform.instanceId}`, platform.instanceId).catch(() => {});
    },
    tick,
  };
}

export type Engine = ReturnType<typeof createEngine>;
