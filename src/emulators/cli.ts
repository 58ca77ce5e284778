// Starts one emulator in the foreground:
//   tsx src/emulators/cli.ts telegram --port 8081 [--host 127.0.0.1] [--bot-token 123456:ABC…]
// Prints the API root and ready-made credentials; Ctrl-C stops it.
import { emulators, isEmulatorName, startEmulator } from './index.js';

function usage(): never {
  process.stderr.write(`usage: cli.ts <${Object.keys(emulators).join('|')}> [--port N] [--host H] [--bot-token T]\n`);
  process.exit(2);
}

async function main(argv: string[]): Promise<void> {
  const [name, ...rest] = argv;
  if (!name || !isEmulatorName(name)) usage();
  let port = 0;
  let host = '127.0.0.1';
  let botToken: string | undefined;
  for (let i = 0; i < rest.length; i += 1) {
    if (rest[i] === '--port') port = Number(rest[++i]);
    else if (rest[i] === '--host') host = rest[++i] ?? usage();
    else if (rest[i] === '--bot-token') botToken = rest[++i] ?? usage();
    else usage();
  }
  if (!Number.isInteger(port) || port < 0 || port > 65535) usage();
  const running = await startEmulator(name, { port, host, botToken });
  for (const line of running.instructions) process.stdout.write(`${line}\n`);
  const stop = (): void => {
    void running.close().then(() => process.exit(0));
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

main(process.argv.slice(2)).catch((err: unknown) => {
  process.stderr.write(`${(err as Error).message}\n`);
  process.exit(1);
});
