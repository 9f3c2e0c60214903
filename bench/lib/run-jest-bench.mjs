// Runs the *.bench.ts of one bench directory through Jest with its jest.config.cjs, in band
// and with the benchmarks' output shown, then exits with Jest's status.
import { spawn } from 'node:child_process';
import { join } from 'node:path';

const jest = join(import.meta.dirname, '../../node_modules/.bin/jest');

export function runJestBench(benchDir) {
  const child = spawn(jest, ['--config', join(benchDir, 'jest.config.cjs'), '--runInBand', '--silent=false'], {
    stdio: 'inherit',
    env: { ...process.env, NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --experimental-vm-modules`.trim() },
  });
  child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
}
