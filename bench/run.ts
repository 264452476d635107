// `npm run bench`: runs every bench/*.bench.ts one after the other, each in its own process (so one's
// memory does not count against the next). Per-benchmark arguments come from BENCH_ARGS_<NAME>, e.g.
// BENCH_ARGS_SYNC="--count 2000" BENCH_ARGS_API="--scale 0.01"; BENCH_ONLY=sync runs a subset.
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import path from 'node:path';

const dir = import.meta.dirname;
const benches = readdirSync(dir).filter((f) => f.endsWith('.bench.ts')).sort();
const only = process.env.BENCH_ONLY?.split(',');
let failed = 0;
for (const file of benches) {
  if (only && !only.some((o) => file.startsWith(o))) continue;
  console.log(`\n=== ${file} ===`);
  const name = file.replace('.bench.ts', '').toUpperCase();
  const extra = process.env[`BENCH_ARGS_${name}`]?.split(' ').filter(Boolean) ?? [];
  const r = spawnSync(process.execPath, [path.join(dir, file), ...extra], { stdio: 'inherit' });
  if (r.status !== 0) failed++;
}
process.exit(failed ? 1 : 0);
