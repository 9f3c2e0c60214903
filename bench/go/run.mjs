#!/usr/bin/env node
// Go proxy read/publish benchmark against an in-process server (no build needed):
//   node bench/go/run.mjs                 postgres mode (the test PostgreSQL and Redis)
//   BENCH_MODE=embedded node bench/go/run.mjs
//   BENCH_VERSIONS=1000 node bench/go/run.mjs
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
