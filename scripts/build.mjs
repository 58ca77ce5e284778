// `npm run build`: compiles the server (tsc) and, when the console exists, builds it with Vite.
// Runs before `npm start`, so a fresh clone needs no separate build step.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';

const run = (cmd, args) => execFileSync(cmd, args, { stdio: 'inherit' });
run(process.execPath, ['node_modules/typescript/bin/tsc', '-p', 'tsconfig.json']);
if (existsSync('web/vite.config.ts')) {
  run(process.execPath, ['node_modules/vite/bin/vite.js', 'build', '--config', 'web/vite.config.ts']);
}
