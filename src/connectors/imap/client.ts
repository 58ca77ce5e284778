// A thin, typed session over imapflow with exactly what the sync engine needs. Everything is
// UID-based (sequence numbers shift on every EXPUNGE) and every failure leaves as a classified
// MailConnectorError.
import { ImapFlow, type ListResponse } from 'imapflow';
import { classifyImapError } from './errors.js';
import type { FlagUpdate, MailSession } from '../mail/types.js';

export type { FetchedMessage, FlagUpdate, FolderInfo, FolderState } from '../mail/types.js';

export type ImapSecurity = 'ssl' | 'starttls' | 'none';

export interface ImapEndpoint {
  host: string;
  port: number;
  security: ImapSecurity;
  auth: { user: string; password?: string; accessToken?: string };
  /** Verify the server certificate (default true; tests against self-signed servers turn it off). */
  rejectUnauthorized?: boolean;
  connectTimeoutMs?: number;
  /** Socket inactivity while a command waits for its answer (imapflow's socketTimeout). */
  socketTimeoutMs?: number;
}

/** \Recent is per-session state, not a property of the message: never store it. */
function cleanFlags(flags: Set<string> | undefined): string[] {
  return [...(flags ?? [])].filter((f) => f !== '\\Recent');
}

/** Compresses sorted UIDs into an IMAP sequence set ("1:5,7,9:12"). */
export function uidSet(uids: number[]): string {
  const sorted = [...new Set(uids)].sort((a, b) => a - b);
  const parts: string[] = [];
  for (let i = 0; i < sorted.length; ) {
    let j = i;
    while (j + 1 < sorted.length && sorted[j + 1] === sorted[j] + 1) j++;
    parts.push(i === j ? String(sorted[i]) : `${sorted[i]}:${sorted[j]}`);
    i = j + 1;
  }
  return parts.join(',');
}

/** Splits UIDs into fetch batches bounded by count and total bytes, so memory stays bounded. */
export function batchBySize(items: { uid: number; size: number }[], maxCount: number, maxBytes: number): number[][] {
  const out: number[][] = [];
  let cur: number[] = [];
  let bytes = 0;
  for (const it of items) {
    if (cur.length > 0 && (cur.length >= maxCount || bytes + it.size > maxBytes)) {
      out.push(cur);
      cur = [];
      bytes = 0;
    }
    cur.push(it.uid);
    bytes += it.size;
  }
  if (cur.length) out.push(cur);
  return out;
}

/**
 * Silence allowed while a command waits for its answer. A server that accepts the connection and
 * then stops answering (overloaded, half-dead proxy) otherwise holds a sync job slot for
 * imapflow's 5-minute default per command. 90 s is far above a real server's pause (a SEARCH of a
 * large folder, a slow FETCH still streams bytes).
 */
export const DEFAULT_SOCKET_TIMEOUT_MS = 90_000;

export function imapFlowOptions(ep: ImapEndpoint, extra: { disableAutoIdle?: boolean; qresync?: boolean } = {}) {
  return {
    host: ep.host,
    port: ep.port,
    secure: ep.security === 'ssl',
    doSTARTTLS: ep.security === 'starttls' ? true : ep.security === 'none' ? false : undefined,
    auth: ep.auth.accessToken ? { user: ep.auth.user, accessToken: ep.auth.accessToken } : { user: ep.auth.user, pass: ep.auth.password ?? '' },
    tls: { rejectUnauthorized: ep.rejectUnauthorized !== false },
    logger: false as const,
    connectionTimeout: ep.connectTimeoutMs ?? 20_000,
    greetingTimeout: ep.connectTimeoutMs ?? 20_000,
    socketTimeout: ep.socketTimeoutMs ?? DEFAULT_SOCKET_TIMEOUT_MS,
    disableAutoIdle: extra.disableAutoIdle ?? true,
    qresync: extra.qresync ?? false,
    clientInfo: { name: 'Switchboard' },
  };
}

/** The IMAP MailSession, with the imapflow client for what only IMAP has (e.g. the watcher). */
export interface ImapSession extends MailSession {
  readonly client: ImapFlow;
  readonly qresync: boolean;
  readonly idle: boolean;
}

export async function connectImap(ep: ImapEndpoint, extra: { disableAutoIdle?: boolean; qresync?: boolean } = {}): Promise<ImapSession> {
  const client = new ImapFlow(imapFlowOptions(ep, extra));
  // imapflow emits 'error' on socket failures; without a listener it would crash the process.
  client.on('error', () => {});
  try {
    await client.connect();
  } catch (err) {
    client.close();
    throw classifyImapError(err);
  }
  return wrapSession(client);
}

function wrap<T>(fn: () => Promise<T>): Promise<T> {
  return fn().catch((err) => {
    throw classifyImapError(err);
  });
}

export function wrapSession(client: ImapFlow): ImapSession {
  const caps = client.capabilities;
  const condstore = caps.has('CONDSTORE') || caps.has('QRESYNC');
  return {
    client,
    condstore,
    qresync: caps.has('QRESYNC'),
    idle: caps.has('IDLE'),
    get usable() {
      return client.usable;
    },
    listFolders: () =>
      wrap(async () => {
        const list: ListResponse[] = await client.list();
        return list.map((f) => ({
          path: f.path,
          name: f.name,
          delimiter: f.delimiter ?? '/',
          specialUse: f.specialUse ?? null,
          selectable: !f.flags?.has('\\Noselect') && !f.flags?.has('\\NonExistent'),
        }));
      }),
    status: (path) =>
      wrap(async () => {
        const st = await client.status(path, { messages: true, uidNext: true, uidValidity: true, highestModseq: condstore });
        if (!st) throw new Error(`STATUS ${path} failed`);
        return {
          uidValidity: Number(st.uidValidity ?? 0),
          uidNext: st.uidNext ?? 0,
          exists: st.messages ?? 0,
          messages: st.messages ?? 0,
          highestModseq: st.highestModseq != null ? String(st.highestModseq) : null,
        };
      }),
    open: (path) =>
      wrap(async () => {
        const mb = await client.mailboxOpen(path, { readOnly: true });
        return {
          uidValidity: Number(mb.uidValidity),
          uidNext: mb.uidNext,
          exists: mb.exists,
          highestModseq: mb.highestModseq != null && !mb.noModseq ? String(mb.highestModseq) : null,
        };
      }),
    listUids: ({ afterUid, upToUid, since, sizeFloor }) =>
      wrap(async () => {
        const top = upToUid ?? Number.MAX_SAFE_INTEGER;
        if (upToUid != null && upToUid <= afterUid) return [];
        const inRange = (u: number) => u > afterUid && u <= top;
        if (sizeFloor && sizeFloor > 0) {
          // "n:*" always matches the highest message even when its UID < n: filter client-side.
          const query = { uid: `${afterUid + 1}:${upToUid ?? '*'}`, ...(since ? { since } : {}) };
          const found = await client.search(query, { uid: true });
          const uids = [...new Set((Array.isArray(found) ? found : []).filter(inRange))].sort((a, b) => a - b);
          if (uids.length === 0) return [];
          const large = await client.search({ ...query, larger: sizeFloor }, { uid: true });
          const largeUids = (Array.isArray(large) ? large : []).filter(inRange);
          const sizes = new Map<number, number>();
          if (largeUids.length) {
            for await (const m of client.fetch(uidSet(largeUids), { uid: true, size: true }, { uid: true })) sizes.set(m.uid, m.size ?? 0);
          }
          return uids.map((uid) => ({ uid, size: sizes.get(uid) ?? sizeFloor }));
        }
        let range: string;
        if (since) {
          const found = await client.search({ since }, { uid: true });
          const uids = (Array.isArray(found) ? found : []).filter(inRange);
          if (uids.length === 0) return [];
          range = uidSet(uids);
        } else {
          range = `${afterUid + 1}:${upToUid ?? '*'}`;
        }
        const out: { uid: number; size: number }[] = [];
        // "n:*" always returns the highest message even when its UID < n: filter client-side.
        for await (const m of client.fetch(range, { uid: true, size: true }, { uid: true })) {
          if (inRange(m.uid)) out.push({ uid: m.uid, size: m.size ?? 0 });
        }
        out.sort((a, b) => a.uid - b.uid);
        return out;
      }),
    allUids: () =>
      wrap(async () => {
        const found = await client.search({ all: true }, { uid: true });
        return new Set(Array.isArray(found) ? found : []);
      }),
    async *fetchSources(uids) {
      if (uids.length === 0) return;
      try {
        for await (const m of client.fetch(uidSet(uids), { uid: true, flags: true, internalDate: true, size: true, source: true }, { uid: true })) {
          yield {
            uid: m.uid,
            flags: cleanFlags(m.flags),
            internalDate: m.internalDate ? new Date(m.internalDate) : null,
            size: m.size ?? m.source?.length ?? 0,
            source: m.source ?? Buffer.alloc(0),
          };
        }
      } catch (err) {
        throw classifyImapError(err);
      }
    },
    fetchMessageIds: (uids) =>
      wrap(async () => {
        const out: { uid: number; size: number; messageId: string | null }[] = [];
        if (uids.length === 0) return out;
        for await (const m of client.fetch(uidSet(uids), { uid: true, size: true, headers: ['message-id'] }, { uid: true })) {
          const text = (m.headers?.toString('latin1') ?? '').replace(/\r?\n[ \t]+/g, ' ');
          const id = /^message-id:[ \t]*(.*)$/im.exec(text)?.[1]?.trim();
          out.push({ uid: m.uid, size: m.size ?? 0, messageId: id || null });
        }
        return out;
      }),
    fetchFlags: (maxUid, changedSince) =>
      wrap(async () => {
        if (maxUid < 1) return [];
        const out: FlagUpdate[] = [];
        const opts = changedSince && condstore ? { uid: true, changedSince: BigInt(changedSince) } : { uid: true };
        for await (const m of client.fetch(`1:${maxUid}`, { uid: true, flags: true }, opts)) {
          if (m.uid <= maxUid) out.push({ uid: m.uid, flags: cleanFlags(m.flags) });
        }
        return out;
      }),
    append: (path, raw, flags) =>
      wrap(async () => {
        const res = await client.append(path, raw, flags);
        if (!res) return { uid: null, uidValidity: null };
        return { uid: res.uid ?? null, uidValidity: res.uidValidity != null ? Number(res.uidValidity) : null };
      }),
    storeFlags: (path, uidValidity, uids, change) =>
      wrap(async () => {
        if (uids.length === 0) return true;
        const mb = await client.mailboxOpen(path); // read-write: STORE needs it
        if (Number(mb.uidValidity) !== uidValidity) return false;
        const range = uidSet(uids);
        // imapflow answers false (rather than throwing) when the server refuses the STORE.
        if (change.add?.length && !(await client.messageFlagsAdd(range, change.add, { uid: true }))) throw new Error('the server refused to set the flags');
        if (change.remove?.length && !(await client.messageFlagsRemove(range, change.remove, { uid: true }))) throw new Error('the server refused to clear the flags');
        return true;
      }),
    async close() {
      try {
        if (client.usable) await Promise.race([client.logout(), new Promise((r) => setTimeout(r, 2000))]);
      } catch {
        // already gone
      } finally {
        client.close();
      }
    },
  };
}
