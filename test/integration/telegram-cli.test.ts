// `tsx src/emulators/cli.ts telegram` — what `switchboard sandbox` builds on: prints the API root
// and a working bot token, serves the customer page, stops on SIGTERM.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../../', import.meta.url));

describe('emulator CLI', () => {
  it('starts the Telegram emulator with a fixed bot token and stops on SIGTERM', async () => {
    const token = '5550001:SANDBOX_fixed-token_abcdefghijkl';
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/emulators/cli.ts', 'telegram', '--port', '0', '--bot-token', token], {
      cwd: root,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    try {
      let out = '';
      child.stdout.on('data', (d: Buffer) => (out += d.toString()));
      let err = '';
      child.stderr.on('data', (d: Buffer) => (err += d.toString()));
      await expect.poll(() => out, { timeout: 20_000 }).toMatch(/Customer page/);
      const apiRoot = /Telegram API root: (\S+)/.exec(out)?.[1];
      expect(apiRoot).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      expect(out).toContain(`Bot token:         ${token}`);
      const me = (await (await fetch(`${apiRoot}/bot${token}/getMe`)).json()) as { ok: boolean; result: { id: number } };
      expect(me).toMatchObject({ ok: true, result: { id: 5550001 } });
      expect(await (await fetch(`${apiRoot}/`)).text()).toContain('<form id="send">');
      child.kill('SIGTERM');
      const [code] = await once(child, 'exit');
      expect(code, err).toBe(0);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  });

  it('refuses an unknown emulator name with a usage line', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/emulators/cli.ts', 'fax'], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const [code] = await once(child, 'exit');
    expect(code).toBe(2);
    expect(err).toMatch(/usage: cli\.ts <telegram>/);
  });
});
