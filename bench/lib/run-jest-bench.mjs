// Runs the *.bench.ts of one bench directory through Jest with its jest.config.cjs, in band
// and with the benchmarks' output shown, then exits with Jest's status. Jest runs on this
// process's Node (node_modules/.bin/jest would take the first `node` on PATH).
import { spawn } from 'node:child_process';
import { join } from 'node:path';

const jest = join(import.meta.dirname, '../../node_modules/jest/bin/jest.js');

export function runJestBench(benchDir) {
  const child = spawn(process.execPath, [jest, '--config', join(benchDir, 'jest.config.cjs'), '--runInBand', '--silent=false'], {
    stdio: 'inherit',
    env: { ...process.env, NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --experimental-vm-modules`.trim() },
  });
  child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
}
