// Registry of the local emulators (stand-ins for external HTTP APIs) used by tests and by
// `switchboard sandbox`. Each entry starts one emulator and says how to use it; more (Google,
// Microsoft, Facebook) join here as they are written.
import { startTelegramEmulator, type TelegramEmulator } from './telegram/index.js';

export interface RunningEmulator {
  name: EmulatorName;
  /** API root to configure in Switchboard. */
  url: string;
  /** Human lines printed by the sandbox/CLI (ready-made credentials, where to click). */
  instructions: string[];
  close(): Promise<void>;
}

export interface EmulatorStartOptions {
  port?: number;
  host?: string;
  /** Telegram: use this bot token for the ready-made bot (keeps a sandbox channel valid across restarts). */
  botToken?: string;
}

export const emulators = {
  telegram: {
    description: 'Telegram Bot API (bots, updates, webhooks, files) with a customer page at /',
    async start(opts: EmulatorStartOptions): Promise<RunningEmulator & { telegram: TelegramEmulator }> {
      const tg = await startTelegramEmulator({ port: opts.port, host: opts.host });
      const bot = tg.createBot({ username: 'switchboard_sandbox_bot', firstName: 'Sandbox', token: opts.botToken });
      return {
        name: 'telegram',
        url: tg.url,
        telegram: tg,
        instructions: [
          `Telegram API root: ${tg.url}`,
          `Bot token:         ${bot.token}`,
          `Customer page:     ${tg.url}/  (write to the bot as a customer)`,
        ],
        close: () => tg.close(),
      };
    },
  },
} as const;

export type EmulatorName = keyof typeof emulators;

export function isEmulatorName(name: string): name is EmulatorName {
  return Object.hasOwn(emulators, name);
}

export async function startEmulator(name: EmulatorName, opts: EmulatorStartOptions = {}): Promise<RunningEmulator> {
  return emulators[name].start(opts);
}

/**
 * `switchboard sandbox`: starts every emulator in the foreground, prints how to use them, and
 * closes them on SIGINT/SIGTERM. Resolves once they are listening.
 */
export async function startSandbox(opts: { telegramPort: number; host?: string; botToken?: string }): Promise<RunningEmulator[]> {
  const running: RunningEmulator[] = [
    await startEmulator('telegram', { port: opts.telegramPort, host: opts.host ?? '127.0.0.1', botToken: opts.botToken }),
  ];
  for (const r of running) for (const line of r.instructions) process.stdout.write(`${line}\n`);
  const tg = running.find((r) => r.name === 'telegram');
  if (tg) {
    process.stdout.write(`Start Switchboard with TELEGRAM_API_ROOT=${tg.url}, then add a Telegram channel with the bot token above.\n`);
  }
  const stop = (): void => {
    void Promise.all(running.map((r) => r.close())).then(() => process.exit(0));
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  return running;
}

export { startTelegramEmulator, type TelegramEmulator };
