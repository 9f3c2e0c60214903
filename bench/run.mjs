#!/usr/bin/env node
// Runs the benchmarks: every bench/*.mjs (this file excepted) and bench/<name>/run.mjs, or
// the ones named.
//   node bench/run.mjs                        all of them but the 30-minute soak (run it by name)
//   node bench/run.mjs generic-upload --postgres   one, with its own arguments
import { spawn } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const entries = readdirSync(here, { withFileTypes: true });
const scripts = new Map([
  ...entries
    .filter((e) => e.isFile() && e.name.endsWith('.mjs') && e.name !== 'run.mjs')
    .map((e) => [e.name.slice(0, -'.mjs'.length), join(here, e.name)]),
  ...entries
    .filter((e) => e.isDirectory() && existsSync(join(here, e.name, 'run.mjs')))
    .map((e) => [e.name, join(here, e.name, 'run.mjs')]),
]);
const all = [...scripts.keys()].sort();
/** Run only when named: the soak takes half an hour. */
const ON_REQUEST = new Set(['soak']);

const args = process.argv.slice(2);
const named = args.filter((a) => !a.startsWith('-'));
const flags = args.filter((a) => a.startsWith('-'));
const unknown = named.filter((n) => !all.includes(n.replace(/\.mjs$/, '')));
if (unknown.length) {
  console.error(`unknown benchmark(s): ${unknown.join(', ')}; available: ${all.join(', ')}`);
  process.exit(2);
}
const selected = named.length ? named.map((n) => n.replace(/\.mjs$/, '')) : all.filter((n) => !ON_REQUEST.has(n));

let failed = 0;
for (const name of selected) {
  console.log(`\n=== bench/${name} ${flags.join(' ')}`);
  const code = await new Promise((res) => {
    const child = spawn(process.execPath, [scripts.get(name), ...flags], { stdio: 'inherit' });
    child.on('exit', (c, signal) => res(c ?? (signal ? 1 : 0)));
  });
  if (code !== 0) {
    failed++;
    console.error(`bench/${name} exited with ${code}`);
  }
}
process.exit(failed ? 1 : 0);
