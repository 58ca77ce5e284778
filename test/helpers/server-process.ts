// Runs Switchboard as a real separate process (`switchboard start` from source), for tests of
// process roles and scale-out: ROLES=api in one process, ROLES=worker in another, sharing one
// PostgreSQL schema and one Redis prefix.
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';

export interface ServerProcess {
  child: ChildProcess;
  /** Base URL when the process runs the api role. */
  url: string | null;
  logs: string[];
  waitForLog(pattern: RegExp, timeoutMs?: number): Promise<string>;
  kill(signal?: NodeJS.Signals): Promise<number | null>;
}

export async function startServerProcess(env: Record<string, string>, opts: { timeoutMs?: number } = {}): Promise<ServerProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli.ts', 'start'], {
    env: { ...process.env, PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'info', SWITCHBOARD_SECRET_KEY: 'test-secret-key-for-switchboard-tests', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const logs: string[] = [];
  const waiters: { re: RegExp; resolve(line: string): void }[] = [];
  const onLine = (line: string) => {
    logs.push(line);
    for (const w of [...waiters]) {
      if (w.re.test(line)) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(line);
      }
    }
  };
  createInterface({ input: child.stdout! }).on('line', onLine);
  createInterface({ input: child.stderr! }).on('line', onLine);
  let exited: number | null | undefined;
  const exit = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve((exited = code))));

  function waitForLog(re: RegExp, timeoutMs = 60_000): Promise<string> {
    const seen = logs.find((l) => re.test(l));
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`timed out waiting for ${re} in server logs:\n${logs.slice(-20).join('\n')}`)), timeoutMs);
      waiters.push({ re, resolve: (l) => (clearTimeout(timer), resolve(l)) });
      exit.then((code) => {
        clearTimeout(timer);
        reject(new Error(`server exited (${code}) before ${re}:\n${logs.slice(-20).join('\n')}`));
      });
    });
  }

  const started = await waitForLog(/Switchboard started/, opts.timeoutMs ?? 90_000);
  const url = (JSON.parse(started).url as string) || null;
  return {
    child,
    url,
    logs,
    waitForLog,
    async kill(signal = 'SIGTERM') {
      if (exited !== undefined) return exited;
      child.kill(signal);
      return exit;
    },
  };
}
