// `npm run bench [-- name ...]`: runs the benchmarks in bench/ (each file is a standalone script
// that prints its figures, as ratios against a baseline measured in the same run). Without names
// it lists them and runs them all, one after another, so they don't compete for the two cores.
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const dir = dirname(fileURLToPath(import.meta.url));
const all = readdirSync(dir)
  .filter((f) => f.endsWith('.ts') && f !== 'run.ts' && !f.startsWith('_'))
  .map((f) => f.replace(/\.ts$/, ''))
  .sort();

const args = process.argv.slice(2);
const names = args.filter((a) => !a.startsWith('-'));
const unknown = names.filter((n) => !all.includes(n));
if (unknown.length) {
  console.error(`Unknown benchmark(s): ${unknown.join(', ')}. Available: ${all.join(', ')}`);
  process.exit(2);
}
const chosen = names.length ? names : all;
console.log(`Benchmarks: ${chosen.join(', ')}\n`);
let failed = 0;
for (const name of chosen) {
  console.log(`=== ${name} ===`);
  const r = spawnSync(process.execPath, ['--import', 'tsx', join(dir, `${name}.ts`), ...args.filter((a) => a.startsWith('-'))], { stdio: 'inherit' });
  if (r.status !== 0) failed++;
  console.log();
}
process.exit(failed ? 1 : 0);
