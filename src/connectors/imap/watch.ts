// Live change detection for one mailbox over ONE connection: IDLE on the primary folder (INBOX)
// and periodic STATUS polling of the other selected folders.
//
// Why not one IDLE connection per folder: servers cap concurrent connections per user (Dovecot's
// default mail_max_userip_connections is 10, Gmail allows 15 in total, Exchange 16/20), and a user
// with 20 selected folders plus the sync connection would exceed that and get logins refused on
// the very account we try to keep in sync. New mail lands in INBOX almost always (server-side
// filters aside), so INBOX gets IDLE's push (sub-second), the rest are checked every `pollMs`
// with a cheap STATUS (UIDNEXT/MESSAGES/HIGHESTMODSEQ) on the same connection; imapflow breaks
// IDLE for the STATUS and we re-enter it right after. Measured on the bench: APPEND→event in
// INBOX is well under a second; other folders see changes within `pollMs` (default 30 s).
import { ImapFlow } from 'imapflow';
import { classifyImapError, type MailConnectorError } from './errors.js';
import { imapFlowOptions, type ImapEndpoint } from './client.js';
import type { WatchOptions, Watcher } from '../mail/types.js';

export type { WatchOptions, Watcher } from '../mail/types.js';

// While IDLEing, silence is normal: at this timeout imapflow probes the server with a NOOP and
// only a server that does not answer that fails the watcher.
const WATCH_SOCKET_TIMEOUT_MS = 5 * 60_000;

export async function watchMailbox(ep: ImapEndpoint, opts: WatchOptions): Promise<Watcher> {
  const client = new ImapFlow({
    ...imapFlowOptions({ ...ep, socketTimeoutMs: Math.max(ep.socketTimeoutMs ?? 0, WATCH_SOCKET_TIMEOUT_MS) }, { disableAutoIdle: true }),
    // Re-issue IDLE well before the 30-minute server timeout (RFC 2177 says at least every 29).
    maxIdleTime: 10 * 60_000,
  });
  let stopped = false;
  let closedReported = false;
  const reportClose = (err: MailConnectorError | null) => {
    if (closedReported) return;
    closedReported = true;
    opts.onClose(err);
  };
  client.on('error', (err) => {
    if (!stopped) reportClose(classifyImapError(err));
  });
  client.on('close', () => {
    if (!stopped) reportClose(classifyImapError(Object.assign(new Error('connection closed'), { code: 'NoConnection' })));
  });
  try {
    await client.connect();
    await client.mailboxOpen(opts.idleFolder, { readOnly: true });
  } catch (err) {
    stopped = true;
    client.close();
    throw classifyImapError(err);
  }
  const onEvent = (ev: { path?: string }) => opts.onChange(ev.path ?? opts.idleFolder);
  client.on('exists', onEvent);
  client.on('expunge', onEvent);
  client.on('flags', onEvent);

  const last = new Map<string, string>();
  let polling = false;
  const poll = async () => {
    if (polling || stopped || opts.pollFolders.length === 0) return;
    polling = true;
    try {
      for (const path of opts.pollFolders) {
        if (stopped) break;
        const st = await client.status(path, { messages: true, uidNext: true, uidValidity: true, highestModseq: client.capabilities.has('CONDSTORE') });
        if (!st) continue;
        const sig = `${st.uidValidity}/${st.uidNext}/${st.messages}/${st.highestModseq ?? ''}`;
        const prev = last.get(path);
        last.set(path, sig);
        if (prev !== undefined && prev !== sig) opts.onChange(path);
      }
    } catch (err) {
      if (!stopped) reportClose(classifyImapError(err));
    } finally {
      polling = false;
    }
  };
  void poll();
  const timer = setInterval(() => void poll(), opts.pollMs);
  timer.unref();

  // IDLE loop: idle() resolves when IDLE is broken (by a STATUS poll or maxIdleTime); re-enter.
  void (async () => {
    while (!stopped && client.usable) {
      try {
        await client.idle();
      } catch (err) {
        if (!stopped) reportClose(classifyImapError(err));
        return;
      }
      // Let a queued STATUS run before IDLE is entered again.
      await new Promise((r) => setTimeout(r, 5));
    }
  })();

  return {
    async stop() {
      stopped = true;
      clearInterval(timer);
      try {
        if (client.usable) await Promise.race([client.logout(), new Promise((r) => setTimeout(r, 1500))]);
      } catch {
        // closing anyway
      }
      client.close();
    },
  };
}
