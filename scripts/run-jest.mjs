#!/usr/bin/env node
// Runs the whole Jest suite and ends with the one line CI reads: `N passed, N failed`,
// counted from Jest's own JSON results. Extra arguments go to Jest (a path filter, -t …).
//
// Then the real-client end-to-end files run once more with object storage (an s3rver per
// test server, direct upload, downloads redirected to presigned URLs), Postgres mode only;
// both runs count in the closing line. A run with extra arguments (a filtered run) skips that
// second run, and so does STOWAGE_TEST_OBJECT_STORE_RERUN=0.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const outDir = join(root, '.test-results');
mkdirSync(outDir, { recursive: true });

const jest = join(root, 'node_modules', 'jest', 'bin', 'jest.js');
const extra = process.argv.slice(2);
// PGlite loads its WebAssembly through a dynamic import(), which Jest allows only with this flag.
const baseEnv = { ...process.env, NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --experimental-vm-modules`.trim() };
delete baseEnv.STOWAGE_TEST_OBJECT_STORE;

/** One Jest run; resolves with its counts (a run whose results cannot be read counts one failure). */
function runJest(name, args, env) {
  const outFile = join(outDir, `${name}.json`);
  rmSync(outFile, { force: true });
  const argv = [jest, '--json', `--outputFile=${outFile}`, `--maxWorkers=${process.env.JEST_WORKERS ?? 2}`, ...args];
  return new Promise((resolve) => {
    const child = spawn(process.execPath, argv, { cwd: root, env, stdio: 'inherit' });
    child.on('exit', (code) => {
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
      resolve({ code: code ?? 1, passed, failed, suitesFailed });
    });
  });
}

/** The real-client end-to-end files: every format's *.e2e.spec.ts (Conan's replay the recorded client sessions). */
function endToEndFiles() {
  const files = [];
  const packages = join(root, 'packages');
  for (const pkg of readdirSync(packages)
    .filter((p) => p.startsWith('format-'))
    .sort()) {
    const dir = join(packages, pkg, 'test');
    if (!existsSync(dir)) continue;
    for (const f of readdirSync(dir).sort()) {
      if (f.endsWith('.e2e.spec.ts')) files.push(join('packages', pkg, 'test', f));
    }
  }
  return files;
}

const runs = [await runJest('jest', extra, baseEnv)];

if (extra.length === 0 && process.env.STOWAGE_TEST_OBJECT_STORE_RERUN !== '0') {
  const files = endToEndFiles();
  console.log(`object storage: re-running ${files.length} end-to-end files (STOWAGE_TEST_OBJECT_STORE=direct, postgres)`);
  const started = Date.now();
  const env = { ...baseEnv, STOWAGE_TEST_OBJECT_STORE: 'direct', STOWAGE_TEST_MODES: 'postgres' };
  const r = await runJest('jest-object-store', ['--runTestsByPath', ...files], env);
  console.log(`object storage: ${r.passed} passed, ${r.failed + r.suitesFailed} failed in ${Math.round((Date.now() - started) / 1000)} s`);
  runs.push(r);
}

const passed = runs.reduce((n, r) => n + r.passed, 0);
const suitesFailed = runs.reduce((n, r) => n + r.suitesFailed, 0);
const total = runs.reduce((n, r) => n + r.failed + r.suitesFailed, 0);
if (suitesFailed) console.log(`${suitesFailed} test suite(s) failed to run`);
console.log(`${passed} passed, ${total} failed`);
const firstCode = runs.find((r) => r.code !== 0)?.code;
process.exit(firstCode === undefined && total === 0 && passed > 0 ? 0 : firstCode || 1);
