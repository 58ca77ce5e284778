// One sync pass of a mailbox through its kind's connector (IMAP today): folder listing → per
// selected folder new messages (UID > last_uid; the first load takes the chosen period with
// SEARCH SINCE; a widened period backfills below the cursor; after a UIDVALIDITY change stored
// mail of any age is found again by Message-ID), flag changes (CONDSTORE
// CHANGEDSINCE when available, else every known flag) and deletions (UID SEARCH ALL diff — works
// on every server, including those without QRESYNC). The cursor advances after each stored batch,
// so an abrupt stop loses at most one batch of *work*, never a message, and re-fetching is
// idempotent (see store.ts).
import type { Kysely } from 'kysely';
import type { Database } from '../../schema.js';
import { newId, nowIso } from '../../platform/db/index.js';
import type { Logger } from '../../platform/logger.js';
import type { ImapEndpoint } from '../../connectors/imap/index.js';
import { batchBySize, connectorFor, mailConnectors, MailConnectorError, type MailAccount, type MailConnector, type MailConnectors, type MailSession, type WatchOptions, type Watcher } from '../../connectors/mail/index.js';
import type { LoadPeriod, MailboxConnection, MailboxDirectory } from '../mailboxes/types.js';
import type { MailStore, NewEmailInput, StoredEmailSummary } from './store.js';
import type { Parser } from './parse-pool.js';
import { normaliseMessageId } from './parse.js';

export interface SyncProgress {
  mailboxId: string;
  folder: string;
  done: number;
  total: number;
}

export interface SyncerDeps {
  db: Kysely<Database>;
  store: MailStore;
  directory: MailboxDirectory;
  parser: Parser;
  logger: Logger;
  /** Reaches the mailbox's server through the connector registry. */
  access: MailAccess;
  /** Max messages / bytes per FETCH batch (bounded memory; the cursor advances per batch). */
  batchCount?: number;
  batchBytes?: number;
  onProgress?(p: SyncProgress): void;
  /** New messages found by an incremental sync (the first load of a folder does not announce each). */
  onNewEmails?(mailboxId: string, userId: string, emails: StoredEmailSummary[]): void;
  /** Test hook: called after each stored batch. */
  afterBatch?(mailboxId: string, folder: string, stored: number): Promise<void> | void;
}

export interface SyncOptions {
  /** Only these folders (IDLE/poll-triggered); skips the folder listing. */
  folders?: string[];
  session?: MailSession;
  signal?: AbortSignal;
}

export interface SyncResult {
  folders: number;
  fetched: number;
  newEmails: number;
  flagChanges: number;
  removed: number;
}

const DAY = 24 * 3600 * 1000;
const FIRST_BATCH = 50;
export function periodStart(p: LoadPeriod, now = Date.now()): Date | null {
  const days: Record<LoadPeriod, number | null> = { day: 1, '3days': 3, week: 7, month: 31, '3months': 92, '6months': 183, all: null };
  const d = days[p];
  return d == null ? null : new Date(now - d * DAY);
}

/** What mail_folders.loaded_since records for a period start. */
function coverageOf(start: Date | null): string {
  return start ? start.toISOString() : 'all';
}

/** Folders synced before migration 0444: taken to cover the current period. */
const LEGACY_COVERAGE = 'unknown';

/** Does a load starting at `wanted` reach further back than the recorded coverage? */
export function widens(coverage: string | null, wanted: Date | null): boolean {
  if (coverage == null || coverage === LEGACY_COVERAGE || coverage === 'all') return false;
  return wanted == null || wanted.getTime() < new Date(coverage).getTime();
}

interface Batch {
  uids: number[];
  /**
   * new: above the cursor (announced unless it is the first load); backfill: older mail a widened
   * period adds; rematch: stored mail found again under a new UIDVALIDITY (never stored anew).
   */
  kind: 'new' | 'backfill' | 'rematch';
}

/**
 * Splits the UIDs to fetch into batches bounded by count and bytes. The very first batch is
 * small: nothing is stored until it has been fetched and parsed, so storing starts sooner.
 */
function planBatches(groups: { items: { uid: number; size: number }[]; kind: Batch['kind'] }[], batchCount: number, batchBytes: number): Batch[] {
  const out: Batch[] = [];
  for (const g of groups) {
    if (g.items.length === 0) continue;
    const head = out.length === 0 ? Math.min(FIRST_BATCH, batchCount) : 0;
    for (const uids of [...batchBySize(g.items.slice(0, head), head, batchBytes), ...batchBySize(g.items.slice(head), batchCount, batchBytes)]) {
      out.push({ uids, kind: g.kind });
    }
  }
  return out;
}

export interface MailAccessOptions {
  /** The connector registry (tests wrap it to watch what the module does). */
  connectors?: MailConnectors;
  rejectUnauthorized?: boolean;
  socketTimeoutMs?: number;
}

/**
 * How the mail module reaches a mailbox's server: the connector for the mailbox's kind from the
 * registry, and the account (endpoint, credentials, TLS policy, timeouts) it needs.
 */
export function createMailAccess(opts: MailAccessOptions = {}) {
  const registry = opts.connectors ?? mailConnectors;
  const connector = (conn: MailboxConnection): MailConnector => connectorFor(conn.mailbox.kind, registry);
  const account = (conn: MailboxConnection): MailAccount => ({
    imap: conn.imap,
    smtp: conn.smtp,
    rejectUnauthorized: opts.rejectUnauthorized !== false && !conn.allowSelfSigned,
    socketTimeoutMs: opts.socketTimeoutMs,
  });
  return {
    connector,
    connect: (conn: MailboxConnection): Promise<MailSession> => connector(conn).connect(account(conn)),
    watch: (conn: MailboxConnection, w: WatchOptions): Promise<Watcher> => connector(conn).watch(account(conn), w),
    submit: (conn: MailboxConnection, envelope: { from: string; to: string[] }, raw: Buffer) => connector(conn).submit(account(conn), envelope, raw),
  };
}

export type MailAccess = ReturnType<typeof createMailAccess>;

export function createSyncer(deps: SyncerDeps) {
  const { db, store, logger } = deps;
  // Two batches are in flight (one storing, one fetching/parsing) and the V8 heap grows with the
  // garbage they make: 100 messages / 1 MB kept a 10,000-message first sync under 300 MB RSS
  // (300 / 4 MB peaked at ~330 MB) for a small cost in throughput (bench/mail.ts).
  const batchCount = deps.batchCount ?? 100;
  const batchBytes = deps.batchBytes ?? 1024 * 1024;

  async function refreshFolders(session: MailSession, conn: MailboxConnection) {
    const mailboxId = conn.mailbox.id;
    const s = conn.mailbox.settings;
    const list = await session.listFolders();
    const existing = await db.selectFrom('mail_folders').selectAll().where('mailbox_id', '=', mailboxId).execute();
    const byPath = new Map(existing.map((f) => [f.path, f]));
    const now = nowIso();
    // A folder appearing on or leaving the server (not the first listing) changes what the live
    // watcher must cover: said through the same version the settings use (engine.ts).
    let folderSetChanged = false;
    for (const f of list) {
      // A parent never implies its children: only exact paths count.
      const selected = f.selectable && (s.allFolders || s.selectedFolders.includes(f.path)) ? 1 : 0;
      const row = byPath.get(f.path);
      if (!row || row.on_server !== 1) folderSetChanged = existing.length > 0;
      if (!row) {
        await db
          .insertInto('mail_folders')
          .values({ id: newId(), mailbox_id: mailboxId, path: f.path, delimiter: f.delimiter, special_use: f.specialUse, selectable: f.selectable ? 1 : 0, selected, on_server: 1, uidvalidity: null, last_uid: 0, highest_modseq: null, loaded_since: null, total: 0, done: 0, last_synced_at: null, updated_at: now })
          .onConflict((oc) => oc.columns(['mailbox_id', 'path']).doNothing())
          .execute();
      } else if (row.selected !== selected || row.on_server !== 1 || row.special_use !== f.specialUse || row.selectable !== (f.selectable ? 1 : 0)) {
        await db.updateTable('mail_folders').set({ selected, on_server: 1, special_use: f.specialUse, selectable: f.selectable ? 1 : 0, updated_at: now }).where('id', '=', row.id).execute();
      }
    }
    const onServer = new Set(list.map((f) => f.path));
    for (const row of existing) {
      if (!onServer.has(row.path) && row.on_server === 1) {
        folderSetChanged = true;
        await db.updateTable('mail_folders').set({ on_server: 0, uidvalidity: null, last_uid: 0, highest_modseq: null, loaded_since: null, updated_at: now }).where('id', '=', row.id).execute();
        await store.dropFolderLocations(mailboxId, row.path, null);
      }
    }
    if (folderSetChanged) {
      await db
        .updateTable('mail_sync_state')
        .set((eb) => ({ settings_version: eb('settings_version', '+', 1) }))
        .where('mailbox_id', '=', mailboxId)
        .execute();
    }
  }

  /**
   * After a UIDVALIDITY change every stored location of the folder is void, and the new pass
   * loads only the chosen period: stored mail older than that would be dropped as deleted though
   * it is still there. So the other UIDs on the server are looked at by Message-ID (headers only)
   * and those matching stored mail are fetched again to re-attach them — whatever their age.
   * Stored mail without a Message-ID can only be recognised by its bytes: when there is some, the
   * server's messages without one are fetched too, but only re-attached, never stored anew.
   * Runs on every pass while old locations remain, so an interrupted resync picks up again.
   */
  async function findStaleMatches(session: MailSession, mailboxId: string, path: string, uidValidity: number, listed: { uid: number }[][], known: Map<number, string>) {
    const stale = await store.staleLocations(mailboxId, path, uidValidity);
    if (stale.count === 0) return { stale: false, list: [] };
    const taken = new Set(listed.flat().map((m) => m.uid));
    const candidates = [...(await session.allUids())].filter((u) => !taken.has(u) && !known.has(u));
    const heads = await session.fetchMessageIds(candidates);
    const list = heads
      .filter((h) => {
        const id = normaliseMessageId(h.messageId);
        return id ? stale.messageIds.has(id) : stale.withoutMessageId;
      })
      .map((h) => ({ uid: h.uid, size: h.size }))
      .sort((a, b) => a.uid - b.uid);
    return { stale: true, list };
  }

  async function syncFolder(session: MailSession, conn: MailboxConnection, path: string, signal: AbortSignal | undefined, res: SyncResult) {
    const mailboxId = conn.mailbox.id;
    const row = await db.selectFrom('mail_folders').selectAll().where('mailbox_id', '=', mailboxId).where('path', '=', path).executeTakeFirst();
    if (!row || row.selected !== 1 || row.on_server !== 1) return;
    const st = await session.open(path);
    let lastUid = Number(row.last_uid);
    let modseq = row.highest_modseq;
    let coverage = row.loaded_since;
    const hadCursor = row.uidvalidity != null;
    const validityChanged = hadCursor && Number(row.uidvalidity) !== st.uidValidity;
    if (!hadCursor || validityChanged) {
      // UIDVALIDITY changed: every cached UID is void. Refetch from scratch (message_key makes it
      // idempotent); stale locations are dropped once the new pass has caught up.
      if (validityChanged) logger.info({ mailboxId, folder: path }, 'mail: UIDVALIDITY changed, resyncing folder');
      lastUid = 0;
      modseq = null;
      coverage = null;
      await db.updateTable('mail_folders').set({ uidvalidity: st.uidValidity, last_uid: 0, highest_modseq: null, loaded_since: null, updated_at: nowIso() }).where('id', '=', row.id).execute();
    }
    // A folder's first load is done once its coverage is recorded — not when last_uid moves: a
    // folder that is empty, or holds nothing inside the period, keeps last_uid at 0, and its
    // first new message must still be announced. Until then every pass (also one resumed after
    // a crash) loads the chosen period and announces nothing.
    const firstLoad = coverage == null;
    const wanted = periodStart(conn.mailbox.settings.loadPeriod);
    const known = await store.knownUids(mailboxId, path, st.uidValidity);
    // Sizes only matter to bound a batch's bytes: messages up to batchBytes / batchCount count as that much.
    const sizeFloor = Math.floor(batchBytes / batchCount);
    const pending = await session.listUids({ afterUid: lastUid, since: firstLoad ? wanted : null, sizeFloor });
    // A widened load period (month → 3 months, → all): what the new start adds lies below the
    // cursor, where incremental passes never look. Loaded, not announced; the coverage moves once
    // it is stored, so an interrupted backfill is simply redone (minus what is already known).
    const backfill = !firstLoad && widens(coverage, wanted) && lastUid > 0
      ? (await session.listUids({ afterUid: 0, upToUid: lastUid, since: wanted, sizeFloor })).filter((m) => !known.has(m.uid))
      : [];
    if (backfill.length) logger.info({ mailboxId, folder: path, messages: backfill.length }, 'mail: load period widened, loading older mail');
    const rematch = await findStaleMatches(session, mailboxId, path, st.uidValidity, [pending, backfill], known);
    const total = pending.length + backfill.length + rematch.list.length;
    let done = 0;
    await db.updateTable('mail_folders').set({ total, done: 0, updated_at: nowIso() }).where('id', '=', row.id).execute();
    deps.onProgress?.({ mailboxId, folder: path, done, total });
    const isSent = row.special_use === '\\Sent';
    const own = conn.mailbox.email.toLowerCase();
    const maxKnownBefore = lastUid;
    // Pipelined: while batch i is being stored, batch i+1 is already being fetched and parsed
    // (IMAP and the database are different resources). At most two batches are in memory.
    const batches = planBatches([
      { items: pending, kind: 'new' },
      { items: backfill, kind: 'backfill' },
      { items: rematch.list, kind: 'rematch' },
    ], batchCount, batchBytes);
    const loadNow = async ({ uids: batch, kind }: Batch) => {
      const fetched = [];
      const parsing = [];
      // Hand each message to the parser as it arrives, so parsing overlaps the FETCH stream.
      for await (const m of session.fetchSources(batch)) {
        fetched.push(m);
        const p = deps.parser.parse(m.source);
        p.catch(() => {});
        parsing.push(p);
      }
      const parsed = await Promise.all(parsing);
      return { batch, kind, fetched, parsed };
    };
    // The prefetch may fail while we are still storing the previous batch: mark it handled at
    // once (awaiting it later still throws) so it never counts as an unhandled rejection.
    const load = (batch: Batch) => {
      const p = loadNow(batch);
      p.catch(() => {});
      return p;
    };
    let next: ReturnType<typeof load> | null = batches.length ? load(batches[0]) : null;
    try {
      for (let bi = 0; bi < batches.length; bi++) {
        const { batch, kind, fetched, parsed } = await next!;
        next = bi + 1 < batches.length ? load(batches[bi + 1]) : null;
        if (signal?.aborted) throw new MailConnectorError('transient', 'Sync was interrupted; it resumes on the next run.');
        const items: NewEmailInput[] = fetched.map((m, i) => ({
          parsed: parsed[i],
          raw: m.source,
          internalDate: m.internalDate,
          direction: isSent || parsed[i].from?.address === own ? 'out' : 'in',
          location: { folder: path, uidvalidity: st.uidValidity, uid: m.uid, flags: m.flags },
          onlyIfKnown: kind === 'rematch',
        }));
        const created = await store.ingest(mailboxId, items);
        res.fetched += items.length;
        res.newEmails += created.length;
        // Only the ascending new-UID list moves the cursor: backfill and re-matched UIDs may lie
        // above new UIDs not stored yet, which a crash must not skip.
        if (kind === 'new') lastUid = Math.max(lastUid, ...batch);
        done += batch.length;
        await db.updateTable('mail_folders').set({ last_uid: lastUid, done, updated_at: nowIso() }).where('id', '=', row.id).execute();
        deps.onProgress?.({ mailboxId, folder: path, done, total });
        const incoming = created.filter((c) => c.direction === 'in');
        if (kind === 'new' && !firstLoad && incoming.length) deps.onNewEmails?.(mailboxId, conn.mailbox.userId, incoming);
        await deps.afterBatch?.(mailboxId, path, items.length);
      }
    } finally {
      next = null;
    }
    // Stored mail under the old UIDVALIDITY that was not found again is gone from the server.
    if (rematch.stale) res.removed += await store.dropFolderLocations(mailboxId, path, st.uidValidity);
    if (known.size > 0) {
      // Flags of messages we already had (new ones came with their flags).
      const updates = await session.fetchFlags(maxKnownBefore, session.condstore ? modseq : null);
      res.flagChanges += await store.updateFlags(mailboxId, path, st.uidValidity, updates.filter((u) => known.has(u.uid)));
      // Deletions: what we know minus what the server still has.
      const onServer = await session.allUids();
      const gone = [...known.keys()].filter((uid) => !onServer.has(uid));
      res.removed += await store.removeLocations(mailboxId, path, st.uidValidity, gone);
    }
    // Everything below UIDNEXT (as of SELECT) has been looked at: what the period left out stays
    // out, so the next pass starts above it instead of treating the folder as never loaded.
    lastUid = Math.max(lastUid, st.uidNext - 1);
    // The first load, a backfill, or a folder synced before coverage was recorded now covers the
    // current period; a narrowed period keeps the older start (the mail stays).
    if (firstLoad || coverage === LEGACY_COVERAGE || widens(coverage, wanted)) coverage = coverageOf(wanted);
    await db
      .updateTable('mail_folders')
      .set({ last_uid: lastUid, loaded_since: coverage, highest_modseq: st.highestModseq, last_synced_at: nowIso(), updated_at: nowIso() })
      .where('id', '=', row.id)
      .execute();
    res.folders++;
  }

  async function syncMailbox(mailboxId: string, opts: SyncOptions = {}): Promise<SyncResult> {
    const conn = await deps.directory.connection(mailboxId);
    const res: SyncResult = { folders: 0, fetched: 0, newEmails: 0, flagChanges: 0, removed: 0 };
    const session = opts.session ?? (await deps.access.connect(conn));
    try {
      let folders = opts.folders;
      if (!folders) {
        await refreshFolders(session, conn);
        const rows = await db.selectFrom('mail_folders').select(['path', 'special_use']).where('mailbox_id', '=', mailboxId).where('selected', '=', 1).where('on_server', '=', 1).execute();
        // INBOX first: it is what the user waits for.
        folders = rows.map((r) => r.path).sort((a, b) => (a === 'INBOX' ? -1 : b === 'INBOX' ? 1 : a.localeCompare(b)));
      }
      for (const f of folders) {
        if (opts.signal?.aborted) throw new MailConnectorError('transient', 'Sync was interrupted; it resumes on the next run.');
        try {
          await syncFolder(session, conn, f, opts.signal, res);
        } catch (err) {
          // A folder deleted between listing and SELECT is not a mailbox failure.
          if (err instanceof MailConnectorError && err.kind === 'not-found') continue;
          throw err;
        }
      }
      return res;
    } finally {
      if (!opts.session) await session.close();
    }
  }

  return { syncMailbox, refreshFolders };
}

export type Syncer = ReturnType<typeof createSyncer>;
