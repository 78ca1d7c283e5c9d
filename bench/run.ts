// `npm run bench`: runs every benchmark in bench/ one after another, each in its own process so
// one's memory and timers do not disturb the next. Pass names to run a subset: `npm run bench -- api`.
// Benchmarks print tables; they never fail the run on a missed target.

import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const all = fs
  .readdirSync(here)
  .filter((f) => f.endsWith('.ts') && f !== 'run.ts')
  .map((f) => f.slice(0, -3))
  .sort();
const wanted = process.argv.slice(2);
const chosen = wanted.length ? all.filter((b) => wanted.includes(b)) : all;

let failed = 0;
for (const name of chosen) {
  console.log(`\n=== bench/${name}.ts ===`);
  const r = spawnSync(process.execPath, ['--import', 'tsx', path.join(here, `${name}.ts`)], { stdio: 'inherit' });
  if (r.status !== 0) {
    failed++;
    console.log(`bench/${name}.ts exited with ${r.status ?? r.signal}`);
  }
}
process.exitCode = failed ? 1 : 0;
