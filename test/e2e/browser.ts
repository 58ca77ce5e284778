// Chromium for the e2e suite: Debian's /usr/bin/chromium driven by playwright-core. When it is
// missing the suites skip with a warning, unless SWITCHBOARD_REQUIRE_SERVICES=1 (CI) makes that a
// failure. Also makes sure the console is built (dist/web) before a server serves it.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, statSync } from 'node:fs';
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

/** Builds the console once when dist/web is missing or older than its sources. */
export function ensureConsoleBuilt(): void {
  const index = path.join(ROOT, 'dist/web/index.html');
  const sources = Math.max(newestMtime(path.join(ROOT, 'web/src')), statSync(path.join(ROOT, 'web/vite.config.ts')).mtimeMs, statSync(path.join(ROOT, 'web/index.html')).mtimeMs);
  if (existsSync(index) && statSync(index).mtimeMs >= sources) return;
  execFileSync(process.execPath, [path.join(ROOT, 'node_modules/vite/bin/vite.js'), 'build', '--config', 'web/vite.config.ts', '--logLevel', 'warn'], { cwd: ROOT, stdio: 'inherit' });
}

export async function screenshot(page: Page, name: string, dir = SCREENSHOT_DIR): Promise<string> {
  mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `${name}.png`);
  await page.screenshot({ path: file });
  return file;
}

export async function signIn(page: Page, baseUrl: string, email: string, password: string): Promise<void> {
  await page.goto(baseUrl + '/');
  await page.getByLabel(/^(Email|Эл\. почта)/).fill(email);
  await page.getByLabel(/^(Password|Пароль)/).fill(password);
  await page.getByRole('button', { name: /^(Sign in|Войти)$/ }).click();
  await page.getByTestId('user-menu').waitFor({ timeout: 30_000 });
}

/** Runs a flow; on failure saves a screenshot named `<name>-failure` before rethrowing. */
export async function flow<T>(page: Page, name: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    await screenshot(page, `${name}-failure`).catch(() => {});
    throw e;
  }
}
