// Chromium for the e2e suite: Debian's /usr/bin/chromium driven by playwright-core. When it is
// missing the suites skip with a warning, unless SWITCHBOARD_REQUIRE_SERVICES=1 (CI) makes that a
// failure. Also makes sure the console is built (dist/web) before a server serves it.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { REQUIRE_SERVICES } from '../helpers/services.js';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
export const SCREENSHOT_DIR = path.resolve('test-results/e2e');
const ROOT = path.resolve('.');

export function hasChromium(): boolean {
  const ok = existsSync(CHROMIUM);
  if (!ok && REQUIRE_SERVICES) throw new Error(`Chromium is required (SWITCHBOARD_REQUIRE_SERVICES=1) but ${CHROMIUM} is missing: apt-get install -y chromium`);
  if (!ok) console.warn(`[switchboard tests] SKIPPED: e2e suites — ${CHROMIUM} is missing (apt-get install -y chromium)`);
  return ok;
}

export async function launch(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--disable-quic', '--no-first-run', '--autoplay-policy=no-user-gesture-required'],
  });
}

function newestMtime(dir: string): number {
  let newest = 0;
  for (const name of readdirSync(dir)) {
    const p = path.join(dir, name);
    const s = statSync(p);
    newest = Math.max(newest, s.isDirectory() ? newestMtime(p) : s.mtimeMs);
  }
  return newest;
}

function consoleIsFresh(): boolean {
  const index = path.join(ROOT, 'dist/web/index.html');
  if (!existsSync(index)) return false;
  const sources = Math.max(newestMtime(path.join(ROOT, 'web/src')), statSync(path.join(ROOT, 'web/vite.config.ts')).mtimeMs, statSync(path.join(ROOT, 'web/index.html')).mtimeMs);
  return statSync(index).mtimeMs >= sources;
}

function sleepSync(ms: number) {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/**
 * Builds the console once when dist/web is missing or older than its sources. Several e2e files
 * may start at once (parallel workers): a lock directory makes one of them build while the others
 * wait for the result instead of emptying dist/web under each other.
 */
export function ensureConsoleBuilt(): void {
  if (consoleIsFresh()) return;
  mkdirSync(path.join(ROOT, 'dist'), { recursive: true });
  const lock = path.join(ROOT, 'dist/.web-build.lock');
  const deadline = Date.now() + 5 * 60_000;
  for (;;) {
    try {
      mkdirSync(lock);
      break;
    } catch {
      // A lock older than 3 minutes belongs to a build that died.
      const held = statSync(lock, { throwIfNoEntry: false });
      if (held && Date.now() - held.mtimeMs > 180_000) rmSync(lock, { recursive: true, force: true });
      if (Date.now() > deadline) throw new Error('timed out waiting for another process to build the console');
      sleepSync(500);
      if (consoleIsFresh() && !existsSync(lock)) return;
    }
  }
  try {
    if (!consoleIsFresh()) {
      execFileSync(process.execPath, [path.join(ROOT, 'node_modules/vite/bin/vite.js'), 'build', '--config', 'web/vite.config.ts', '--logLevel', 'warn'], { cwd: ROOT, stdio: 'inherit' });
    }
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}

export async function screenshot(page: Page, name: string, dir = SCREENSHOT_DIR, opts: { fullPage?: boolean } = {}): Promise<string> {
  mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `${name}.png`);
  await page.screenshot({ path: file, fullPage: opts.fullPage });
  return file;
}

export async function signIn(page: Page, baseUrl: string, email: string, password: string): Promise<void> {
  await page.goto(baseUrl + '/');
  await page.getByLabel(/^(Email|Эл\. почта)/).fill(email);
  await page.getByLabel(/^(Password|Пароль)/).fill(password);
  await page.getByRole('button', { name: /^(Sign in|Войти)$/ }).click();
  await page.getByTestId('user-menu').waitFor({ timeout: 30_000 });
}

/**
 * Runs a flow with generous per-action timeouts (the machine may be loaded); logs each step so a
 * slow or stuck run shows where it was; on failure saves `<name>-failure.png` before rethrowing.
 */
export async function flow<T>(page: Page, name: string, fn: (step: (what: string) => void) => Promise<T>): Promise<T> {
  const started = Date.now();
  let current = 'start';
  const step = (what: string) => {
    current = what;
    if (process.env.E2E_VERBOSE) console.log(`[e2e ${name}] +${((Date.now() - started) / 1000).toFixed(1)}s ${what}`);
  };
  page.setDefaultTimeout(45_000);
  try {
    return await fn(step);
  } catch (e) {
    await screenshot(page, `${name}-failure`).catch(() => {});
    if (e instanceof Error) e.message = `[step: ${current}] ${e.message}`;
    throw e;
  }
}

/** For README screenshots: hides toasts and writes docs/screenshots/<name>.png when SWITCHBOARD_DOCS_SCREENSHOTS=1. */
export async function docsScreenshot(page: Page, name: string, opts: { height?: number } = {}): Promise<void> {
  if (process.env.SWITCHBOARD_DOCS_SCREENSHOTS !== '1') return;
  await page.addStyleTag({ content: '.mantine-Notifications-root{display:none !important}' });
  const size = page.viewportSize();
  // A taller window rather than fullPage: the fixed navigation then reaches the bottom edge.
  if (opts.height && size) await page.setViewportSize({ width: size.width, height: opts.height });
  await page.waitForTimeout(300);
  await screenshot(page, name, path.resolve('docs/screenshots'));
  if (opts.height && size) await page.setViewportSize(size);
}

/** Resolves `p`, or rejects after `ms` naming `what` (keeps teardown from hanging a suite). */
export function within<T>(p: Promise<T>, ms: number, what: string): Promise<T | undefined> {
  return Promise.race([p, new Promise<undefined>((resolve) => setTimeout(() => {
    console.warn(`[e2e] ${what} did not finish in ${ms} ms`);
    resolve(undefined);
  }, ms).unref())]);
}
