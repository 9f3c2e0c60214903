#!/usr/bin/env node
// Maven read benchmark against an in-process server (no build needed):
//   node bench/maven/run.mjs                 postgres mode (the test PostgreSQL and Redis)
//   BENCH_MODE=embedded node bench/maven/run.mjs
//   BENCH_CLIENTS=20 BENCH_REQUESTS=2000 BENCH_VERSIONS=2000 node bench/maven/run.mjs
import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const jest = join(here, '../../node_modules/.bin/jest');
const child = spawn(jest, ['--config', join(here, 'jest.config.cjs'), '--runInBand', '--silent=false'], {
  stdio: 'inherit',
  env: { ...process.env, NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --experimental-vm-modules`.trim() },
});
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
