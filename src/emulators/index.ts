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

export { startTelegramEmulator, type TelegramEmulator };
