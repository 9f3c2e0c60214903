#!/usr/bin/env node
// Runs the whole Jest suite and ends with the one line CI reads: `N passed, N failed`,
// counted from Jest's own JSON results. Extra arguments go to Jest (a path filter, -t …).
import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const outDir = join(root, '.test-results');
const outFile = join(outDir, 'jest.json');
mkdirSync(outDir, { recursive: true });
rmSync(outFile, { force: true });

const jest = join(root, 'node_modules', 'jest', 'bin', 'jest.js');
const args = [jest, '--json', `--outputFile=${outFile}`, `--maxWorkers=${process.env.JEST_WORKERS ?? 2}`, ...process.argv.slice(2)];
// PGlite loads its WebAssembly through a dynamic import(), which Jest allows only with this flag.
const env = { ...process.env, NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --experimental-vm-modules`.trim() };
const child = spawn(process.execPath, args, { cwd: root, env, stdio: 'inherit' });

child.on('exit', (code, signal) => {
  let passed = 0;
  let failed = 0;
  let suitesFailed = 0;
  try {
    const results = JSON.parse(readFileSync(outFile, 'utf8'));
    passed = results.numPassedTests;
    failed = results.numFailedTests;
    // A suite that fails to load (syntax error, a beforeAll that throws) has no failed test of its own.
    suitesFailed = results.numRuntimeErrorTestSuites ?? 0;
    for (const s of results.testResults) if (s.status === 'failed' && s.assertionResults.length === 0) suitesFailed++;
  } catch {
    failed = Math.max(failed, 1);
  }
  if (suitesFailed) console.log(`${suitesFailed} test suite(s) failed to run`);
  const total = failed + suitesFailed;
  console.log(`${passed} passed, ${total} failed`);
  process.exit(code === 0 && total === 0 && passed > 0 ? 0 : code || 1);
});
