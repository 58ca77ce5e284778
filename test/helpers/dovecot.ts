// A private, real Dovecot per test file: its own temp dir, generated config (no system config
// include), passwd-file users, Maildir storage and random loopback ports for IMAP (plain +
// STARTTLS) and IMAPS (self-signed certificate made with openssl). CONDSTORE/QRESYNC and IDLE are
// built into Dovecot 2.3's imap; `mailbox_idle_check_interval = 1 secs` makes IDLE pushes prompt
// even where inotify is unavailable (containers).
//
// Needs the `dovecot-imapd` package (Debian/Ubuntu; it pulls in dovecot-core with doveadm).
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { readdirSync, mkdtempSync, mkdirSync, writeFileSync, rmSync, existsSync, chmodSync, chownSync, readFileSync, utimesSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import net from 'node:net';
import { promisify } from 'node:util';
import { ImapFlow } from 'imapflow';

const execFileP = promisify(execFile);

export const DOVECOT_BIN = process.env.DOVECOT_BIN ?? '/usr/sbin/dovecot';
export const DOVEADM_BIN = process.env.DOVEADM_BIN ?? '/usr/bin/doveadm';

export interface DovecotUser {
  user: string;
  password: string;
}

export interface SeedMessage {
  raw: string | Buffer;
  flags?: string[];
  /** Sets the file mtime, which Dovecot uses as INTERNALDATE for Maildir. */
  internalDate?: Date;
}

export interface Dovecot {
  host: string;
  /** Plain IMAP with STARTTLS offered. */
  port: number;
  /** Implicit TLS (self-signed: connect with tls.rejectUnauthorized = false). */
  tlsPort: number;
  users: DovecotUser[];
  dir: string;
  /** APPENDs over IMAP (so IDLE sessions see it); returns the new UID. */
  append(user: string, folder: string, raw: string | Buffer, flags?: string[], date?: Date): Promise<number>;
  /** Fast bulk seeding: writes Maildir files directly (Dovecot assigns UIDs on next access). */
  seedMaildir(user: string, folder: string, messages: SeedMessage[]): Promise<void>;
  createFolder(user: string, path: string, specialUse?: string): Promise<void>;
  /** Gives the folder a new UIDVALIDITY (like a rebuilt mailbox); returns the new value. */
  bumpUidValidity(user: string, folder: string): Promise<number>;
  /** Runs a doveadm subcommand against this instance, e.g. ['flags', 'add', '-u', u, '\\Seen', 'mailbox', 'INBOX', 'uid', '3']. */
  doveadm(args: string[], input?: string | Buffer): Promise<string>;
  /** A logged-in imapflow client (caller logs out). */
  client(user: string): Promise<ImapFlow>;
  restart(): Promise<void>;
  /** Stops the server (kills the process); `start()` brings it back on the same ports. */
  stop(): Promise<void>;
  start(): Promise<void>;
  close(): Promise<void>;
}

export function dovecotAvailable(): boolean {
  return existsSync(DOVECOT_BIN) && existsSync(DOVEADM_BIN);
}

/** Direct children of a process (Linux /proc). */
function childPids(parent: number): number[] {
  const out: number[] = [];
  try {
    for (const d of readdirSync('/proc')) {
      if (!/^\d+$/.test(d)) continue;
      try {
        const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
        const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
        if (ppid === parent) out.push(Number(d));
      } catch {
        // raced with exit
      }
    }
  } catch {
    // no /proc: rely on Dovecot's own shutdown
  }
  return out;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(port));
    });
  });
}

async function waitForPort(port: number, timeoutMs: number, proc: () => ChildProcess | null, logPath: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = net.connect({ host: '127.0.0.1', port });
      s.once('data', () => {
        s.destroy();
        resolve(true);
      });
      s.once('error', () => resolve(false));
      s.setTimeout(1000, () => {
        s.destroy();
        resolve(false);
      });
    });
    if (ok) return;
    const p = proc();
    if (!p || p.exitCode !== null) {
      const log = existsSync(logPath) ? readFileSync(logPath, 'utf8').slice(-2000) : '';
      throw new Error(`dovecot exited during start: ${log}`);
    }
    if (Date.now() > deadline) throw new Error(`dovecot did not listen on ${port} within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

function makeCert(dir: string): Promise<unknown> {
  return execFileP('openssl', [
    'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2',
    '-subj', '/CN=localhost',
    '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'),
  ]);
}

// Login processes refuse to run as root; Debian's dovecot-core creates an unprivileged "dovenull".
function loginUser(me: string): string {
  if (me !== 'root') return me;
  const passwd = existsSync('/etc/passwd') ? readFileSync('/etc/passwd', 'utf8') : '';
  return /^dovenull:/m.test(passwd) ? 'dovenull' : 'nobody';
}

// Dovecot's imap refuses uid 0 for mail access, so as root the mail files belong to "nobody".
function mailOwner(): { uid: number; gid: number } {
  const me = userInfo();
  if (me.uid !== 0) return { uid: me.uid, gid: me.gid };
  const passwd = existsSync('/etc/passwd') ? readFileSync('/etc/passwd', 'utf8') : '';
  const m = /^nobody:[^:]*:(\d+):(\d+):/m.exec(passwd);
  return m ? { uid: Number(m[1]), gid: Number(m[2]) } : { uid: 65534, gid: 65534 };
}

function config(dir: string, port: number, tlsPort: number): string {
  const me = userInfo();
  const owner = mailOwner();
  const dh = existsSync('/usr/share/dovecot/dh.pem') ? `ssl_dh = </usr/share/dovecot/dh.pem` : '';
  return `# generated by test/helpers/dovecot.ts
instance_name = sb-${port}
protocols = imap
listen = 127.0.0.1
base_dir = ${dir}/run
state_dir = ${dir}/state
log_path = ${dir}/dovecot.log
info_log_path = ${dir}/dovecot.log
ssl = yes
ssl_cert = <${dir}/cert.pem
ssl_key = <${dir}/key.pem
${dh}
disable_plaintext_auth = no
auth_mechanisms = plain login
first_valid_uid = 0
default_internal_user = ${me.username}
default_internal_group = ${me.username === 'root' ? 'root' : me.username}
default_login_user = ${loginUser(me.username)}
mail_uid = ${owner.uid}
mail_gid = ${owner.gid}
passdb {
  driver = passwd-file
  args = scheme=PLAIN username_format=%u ${dir}/passwd
}
userdb {
  driver = passwd-file
  args = username_format=%u ${dir}/passwd
  default_fields = uid=${owner.uid} gid=${owner.gid} home=${dir}/home/%u
}
mail_location = maildir:~/Maildir
mailbox_idle_check_interval = 1 secs
namespace inbox {
  inbox = yes
  separator = /
  mailbox Sent {
    special_use = \\Sent
    auto = subscribe
  }
  mailbox Drafts {
    special_use = \\Drafts
    auto = subscribe
  }
  mailbox Trash {
    special_use = \\Trash
    auto = subscribe
  }
  mailbox Junk {
    special_use = \\Junk
    auto = subscribe
  }
}
protocol imap {
  mail_max_userip_connections = 200
}
service imap-login {
  inet_listener imap {
    address = 127.0.0.1
    port = ${port}
  }
  inet_listener imaps {
    address = 127.0.0.1
    port = ${tlsPort}
    ssl = yes
  }
  process_min_avail = 0
}
service imap {
  process_limit = 256
}
`;
}

export async function startDovecot(opts: { users: DovecotUser[] }): Promise<Dovecot> {
  if (!dovecotAvailable()) {
    throw new Error(`Dovecot is required for this test: install it with "apt-get install -y dovecot-imapd" (${DOVECOT_BIN} missing)`);
  }
  const dir = mkdtempSync(join(tmpdir(), 'sb-dovecot-'));
  chmodSync(dir, 0o755);
  for (const d of ['run', 'state', 'home']) mkdirSync(join(dir, d), { recursive: true });
  const owner = mailOwner();
  chownSync(join(dir, 'home'), owner.uid, owner.gid);
  const users = opts.users.map((u) => ({ ...u }));
  const writeUsers = () =>
    writeFileSync(join(dir, 'passwd'), users.map((u) => `${u.user}:{PLAIN}${u.password}::::::\n`).join(''), { mode: 0o600 });
  writeUsers();
  await makeCert(dir);
  const confPath = join(dir, 'dovecot.conf');
  const logPath = join(dir, 'dovecot.log');

  let port = 0;
  let tlsPort = 0;
  let proc: ChildProcess | null = null;
  const clients = new Map<string, ImapFlow>();

  async function spawnServer(): Promise<void> {
    writeFileSync(confPath, config(dir, port, tlsPort));
    proc = spawn(DOVECOT_BIN, ['-F', '-c', confPath], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    proc.stderr?.on('data', (b) => (stderr += b.toString()));
    try {
      await waitForPort(port, 15_000, () => proc, logPath);
    } catch (err) {
      throw new Error(`${(err as Error).message} ${stderr}`);
    }
  }

  async function startOnFreshPorts(): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      port = await freePort();
      tlsPort = await freePort();
      try {
        await spawnServer();
        return;
      } catch (err) {
        // A port grabbed between probe and bind: try others.
        await killServer();
        if (attempt >= 4) throw err;
      }
    }
  }

  async function killServer(): Promise<void> {
    for (const c of clients.values()) c.close();
    clients.clear();
    const p = proc;
    proc = null;
    if (!p || p.exitCode !== null) return;
    // Dovecot's master may leave serving imap processes behind for a moment; a restart must drop
    // every client connection like a real server crash, so its children are killed too.
    const children = p.pid ? childPids(p.pid) : [];
    await new Promise<void>((resolve) => {
      const t = setTimeout(() => {
        p.kill('SIGKILL');
      }, 3000);
      p.once('exit', () => {
        clearTimeout(t);
        resolve();
      });
      p.kill('SIGTERM');
    });
    for (const pid of children) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    // The master is gone; make sure no orphaned children keep the ports.
    for (let i = 0; i < 100; i++) {
      const busy = await new Promise<boolean>((resolve) => {
        const s = net.connect({ host: '127.0.0.1', port });
        s.once('connect', () => {
          s.destroy();
          resolve(true);
        });
        s.once('error', () => resolve(false));
      });
      if (!busy) break;
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  await startOnFreshPorts();
  // A test runner killed mid-file must not leave a Dovecot (and its temp dir) behind.
  const onExit = () => {
    try {
      if (proc?.pid && proc.exitCode === null) process.kill(proc.pid, 'SIGKILL');
    } catch {
      // gone
    }
    rmSync(dir, { recursive: true, force: true });
  };
  process.once('exit', onExit);

  async function doveadm(args: string[], input?: string | Buffer): Promise<string> {
    return new Promise((resolve, reject) => {
      const p = spawn(DOVEADM_BIN, ['-c', confPath, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
      let out = '';
      let err = '';
      p.stdout.on('data', (b) => (out += b.toString()));
      p.stderr.on('data', (b) => (err += b.toString()));
      p.on('error', reject);
      p.on('close', (code) => (code === 0 ? resolve(out) : reject(new Error(`doveadm ${args.join(' ')} failed (${code}): ${err}`))));
      if (input !== undefined) p.stdin.end(input);
      else p.stdin.end();
    });
  }

  async function client(user: string): Promise<ImapFlow> {
    const u = users.find((x) => x.user === user);
    if (!u) throw new Error(`unknown dovecot user ${user}`);
    const c = new ImapFlow({
      host: '127.0.0.1',
      port,
      secure: false,
      doSTARTTLS: false,
      auth: { user: u.user, pass: u.password },
      logger: false,
    });
    c.on('error', () => {});
    await c.connect();
    return c;
  }

  async function adminClient(user: string): Promise<ImapFlow> {
    let c = clients.get(user);
    if (c && c.usable) return c;
    c = await client(user);
    clients.set(user, c);
    return c;
  }

  function maildirOf(user: string, folder: string): string {
    const base = join(dir, 'home', user, 'Maildir');
    if (folder.toUpperCase() === 'INBOX') return base;
    // Maildir++ layout: hierarchy separator "/" in IMAP becomes "." on disk.
    return join(base, '.' + folder.split('/').join('.'));
  }

  let seedCounter = 0;

  return {
    host: '127.0.0.1',
    get port() {
      return port;
    },
    get tlsPort() {
      return tlsPort;
    },
    users,
    dir,
    doveadm,
    client,
    async append(user, folder, raw, flags, date) {
      const c = await adminClient(user);
      const res = await c.append(folder, typeof raw === 'string' ? Buffer.from(raw) : raw, flags ?? [], date);
      if (!res || !res.uid) throw new Error(`APPEND to ${folder} returned no UID`);
      return res.uid;
    },
    async seedMaildir(user, folder, messages) {
      if (folder.toUpperCase() !== 'INBOX') {
        const list = await doveadm(['mailbox', 'list', '-u', user]);
        if (!list.split('\n').includes(folder)) await doveadm(['mailbox', 'create', '-u', user, folder]);
      } else {
        // Make sure the user's Maildir exists.
        await doveadm(['mailbox', 'status', '-u', user, 'messages', 'INBOX']);
      }
      const md = maildirOf(user, folder);
      mkdirSync(join(md, 'cur'), { recursive: true });
      const base = Date.now();
      for (const m of messages) {
        const flags = (m.flags ?? [])
          .map((f) => ({ '\\Seen': 'S', '\\Answered': 'R', '\\Flagged': 'F', '\\Draft': 'D', '\\Deleted': 'T' })[f] ?? '')
          .sort()
          .join('');
        const name = `${Math.floor(base / 1000)}.M${seedCounter++}P${process.pid}.sbtest,S=${Buffer.byteLength(m.raw)}:2,${flags}`;
        const p = join(md, 'cur', name);
        writeFileSync(p, m.raw);
        if (m.internalDate) utimesSync(p, m.internalDate, m.internalDate);
        chownSync(p, owner.uid, owner.gid);
      }
      for (const d of [md, join(md, 'cur'), join(md, 'new'), join(md, 'tmp')]) if (existsSync(d)) chownSync(d, owner.uid, owner.gid);
      // Let Dovecot index the new files now, so the first client does not pay for it.
      await doveadm(['force-resync', '-u', user, folder]);
    },
    async createFolder(user, path, specialUse) {
      const args = ['mailbox', 'create', '-u', user];
      if (specialUse) args.push('-s');
      args.push(path);
      await doveadm(args);
    },
    async bumpUidValidity(user, folder) {
      const out = await doveadm(['-f', 'flow', 'mailbox', 'status', '-u', user, 'uidvalidity', folder]);
      const current = Number(/uidvalidity=(\d+)/.exec(out)?.[1] ?? '0');
      const next = current + 1000;
      // Close our cached admin session first: it may have this folder selected.
      clients.get(user)?.close();
      clients.delete(user);
      await doveadm(['mailbox', 'update', '-u', user, '--uid-validity', String(next), folder]);
      return next;
    },
    async restart() {
      await killServer();
      await spawnServer();
    },
    async stop() {
      await killServer();
    },
    async start() {
      if (proc && proc.exitCode === null) return;
      await spawnServer();
    },
    async close() {
      process.removeListener('exit', onExit);
      await killServer();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
