// What the .mjs benchmarks share around the measuring: the built server, free ports, child
// processes killed and temp state removed however the run ends, readiness polling, the test
// PostgreSQL/Redis, the server's RSS from /proc, and generated upload bodies.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { Readable } from 'node:stream';

import { call } from './measure.cjs';

export const root = join(import.meta.dirname, '../..');
export const MAIN = join(root, 'apps/server/dist/main.js');
export const MiB = 1024 * 1024;

/** Exits with 1 unless every one of `files` (the server's by default) is built. */
export function requireBuild(files = [MAIN]) {
  for (const f of files) {
    if (!existsSync(f)) {
      console.error(`${f} is missing: build first (tsc -b)`);
      process.exit(1);
    }
  }
}

const children = new Set();
const cleanups = [];

/** Runs `fn` (async) at the end of the run, last registered first. */
export function atExit(fn) {
  cleanups.push(fn);
}

/** Kills the child processes still running, then runs the atExit functions. */
export async function cleanup() {
  for (const child of children) {
    if (child.exitCode !== null || child.signalCode !== null) continue;
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
  }
  children.clear();
  for (const c of cleanups.splice(0).reverse()) await c().catch((e) => console.error(`cleanup: ${e.message}`));
}
process.on('SIGINT', () => void cleanup().then(() => process.exit(130)));

/** Runs the benchmark's main (which may resolve with an exit code), cleans up and exits: 1 when it threw. */
export async function runBench(main) {
  let code = 1;
  try {
    code = (await main()) ?? 0;
  } catch (err) {
    console.error(`bench failed: ${err.stack ?? err}`);
  } finally {
    await cleanup();
  }
  process.exit(code);
}

/** `child`, killed when the run ends if it is still running. */
export function track(child) {
  children.add(child);
  child.once('exit', () => children.delete(child));
  return child;
}

/** A child process that is killed when the run ends. */
export const spawnChild = (command, args, opts) => track(spawn(command, args, opts));

/** Stops a child with SIGTERM; resolves with how it exited. */
export function stopChild(child) {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve({ code: child.exitCode, signal: child.signalCode });
  return new Promise((r) => {
    child.once('exit', (code, signal) => r({ code, signal }));
    child.kill('SIGTERM');
  });
}

/** Runs a `stowage` command to its end: { code, out, err }. */
export function runStowage(argv, { env, cwd }) {
  return new Promise((res, rej) => {
    const child = spawnChild(process.execPath, [MAIN, ...argv], { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (c) => (out += c));
    child.stderr.on('data', (c) => (err += c));
    child.once('error', rej);
    child.once('exit', (code) => res({ code, out, err }));
  });
}

/** Polls `url` until it answers 200; fails when `child` exits first or after `timeoutMs`. */
export async function waitReady(child, url, timeoutMs = 120_000) {
  const started = Date.now();
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null)
      throw new Error(`${url}: the server exited with ${child.exitCode ?? child.signalCode} before it was ready`);
    if (
      await call(url).then(
        (r) => r.status === 200,
        () => false,
      )
    )
      return;
    if (Date.now() - started > timeoutMs) throw new Error(`${url}: not ready after ${timeoutMs / 1000} s`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

export function freePort() {
  return new Promise((res, rej) => {
    const s = createServer();
    s.once('error', rej);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => res(port));
    });
  });
}

/**
 * The environment of a `stowage serve` on 127.0.0.1:`port` with root token `token`:
 * the bench's own, STOWAGE_CONFIG dropped, `extra` over it.
 */
export function serverEnv(port, token, extra = {}) {
  const env = {
    ...process.env,
    STOWAGE_SERVER__PORT: String(port),
    STOWAGE_SERVER__HOST: '127.0.0.1',
    STOWAGE_ROOT_TOKEN: token,
    STOWAGE_LOG__LEVEL: 'warn',
    ...extra,
  };
  delete env.STOWAGE_CONFIG;
  return env;
}

export const benchToken = () => `bench-${randomBytes(16).toString('hex')}`;

/** A fresh database of the test PostgreSQL and a Redis prefix (both removed at the end), as STOWAGE_ environment. */
export async function testServicesEnv() {
  const testkit = createRequire(join(root, 'packages/testkit/package.json'))('./dist/services.js');
  const db = await testkit.createTestDatabase();
  atExit(db.drop);
  const prefix = testkit.uniqueName('stowage-bench');
  atExit(() => testkit.clearRedisPrefix(prefix));
  return { STOWAGE_DATABASE__URL: db.url, STOWAGE_REDIS__URL: testkit.TEST_REDIS_URL, STOWAGE_REDIS__PREFIX: prefix };
}

/** A process's resident set size from /proc, in MB. */
export async function rssMb(pid) {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+)\s+kB/.exec(status)[1]) / 1024;
}

/** Samples a process's RSS every 100 ms; `peaks[phase]` is the highest seen while `phase` was set. */
export function rssSampler(pid, phase = 'idle') {
  const peaks = {};
  let busy = false;
  const timer = setInterval(async () => {
    if (busy) return;
    busy = true;
    try {
      const mb = await rssMb(pid);
      peaks[phase] = Math.max(peaks[phase] ?? 0, mb);
    } catch {
      // the process is gone
    } finally {
      busy = false;
    }
  }, 100);
  return {
    peaks,
    set phase(p) {
      phase = p;
    },
    stop: () => clearInterval(timer),
  };
}

/**
 * `size` bytes, generated chunk by chunk (never held whole): a random 1 MiB block,
 * each copy stamped with its index; hashed into `hash` as sent.
 */
export function generatedBody(size, hash) {
  const block = randomBytes(MiB);
  let sent = 0;
  let index = 0;
  return new Readable({
    highWaterMark: 4 * MiB,
    read() {
      if (sent >= size) return this.push(null);
      const n = Math.min(MiB, size - sent);
      const chunk = Buffer.from(block.subarray(0, n));
      chunk.writeUInt32BE(index++, 0);
      sent += n;
      hash.update(chunk);
      this.push(chunk);
    },
  });
}

/** `call` against a Stowage base URL, with a PAT; the body as text. */
export function apiCaller(base, token) {
  return async (method, path, { body, headers = {} } = {}) => {
    const r = await call(`${base}${path}`, { method, body, headers: { 'private-token': token, ...headers } });
    return { ...r, body: r.body.toString() };
  };
}
