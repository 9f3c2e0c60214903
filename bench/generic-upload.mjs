#!/usr/bin/env node
// Streams a large generic package file through the real server and back, watching its memory.
//
//   node bench/generic-upload.mjs [--postgres] [--size-mb=1024]
//
// Starts apps/server/dist/main.js (build first: `tsc -b`) in a temp dir, on the embedded
// default (PGlite, in-process jobs) or with --postgres on a fresh database of the test
// PostgreSQL and Redis (STOWAGE_TEST_DATABASE_URL / STOWAGE_TEST_REDIS_URL). The upload body
// is generated on the fly (never held in memory or on disk by this script), hashed as it
// is sent, and the download is hashed as it arrives. The server's VmRSS is sampled from
// /proc every 100 ms.
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { request } from 'node:http';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const MAIN = join(root, 'apps/server/dist/main.js');
const args = process.argv.slice(2);
const postgres = args.includes('--postgres');
const sizeMb = Number(args.find((a) => a.startsWith('--size-mb='))?.split('=')[1] ?? 1024);
const MiB = 1024 * 1024;
const size = sizeMb * MiB;

if (!existsSync(MAIN)) {
  console.error(`${MAIN} is missing: build first (tsc -b)`);
  process.exit(1);
}
if (!Number.isInteger(sizeMb) || sizeMb < 1) {
  console.error('--size-mb must be a positive integer');
  process.exit(2);
}

const cleanups = [];
let server;
async function cleanup() {
  if (server && server.exitCode === null && server.signalCode === null) {
    server.kill('SIGKILL');
    await new Promise((r) => server.once('exit', r));
  }
  for (const c of cleanups.reverse()) await c().catch((e) => console.error(`cleanup: ${e.message}`));
}
process.on('SIGINT', () => void cleanup().then(() => process.exit(130)));

function freePort() {
  return new Promise((res, rej) => {
    const s = createServer();
    s.once('error', rej);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => res(port));
    });
  });
}

async function rssMb(pid) {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+)\s+kB/.exec(status)[1]) / 1024;
}

/** Samples the server's RSS every 100 ms; `phase` names what the samples are attributed to. */
function sampler(pid) {
  const peaks = {};
  let phase = 'idle';
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

function call(base, method, path, { token, body, headers = {} } = {}) {
  return new Promise((res, rej) => {
    const req = request(`${base}${path}`, { method, headers: { ...(token ? { 'private-token': token } : {}), ...headers } }, (r) => {
      const chunks = [];
      r.on('data', (c) => chunks.push(c));
      r.on('end', () => res({ status: r.statusCode, body: Buffer.concat(chunks).toString() }));
      r.on('error', rej);
    });
    req.on('error', rej);
    if (body instanceof Readable) body.pipe(req);
    else req.end(body);
  });
}

/** `size` bytes, generated chunk by chunk: a random 1 MiB block, each copy stamped with its index. */
function generatedBody(hash) {
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

async function main() {
  const dir = await mkdtemp(join(tmpdir(), 'stowage-bench-'));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const token = `bench-${randomBytes(16).toString('hex')}`;
  const env = { ...process.env, STOWAGE_SERVER__PORT: String(port), STOWAGE_SERVER__HOST: '127.0.0.1', STOWAGE_ROOT_TOKEN: token, STOWAGE_LOG__LEVEL: 'warn' };
  delete env.STOWAGE_CONFIG;

  if (postgres) {
    const testkit = createRequire(join(root, 'packages/testkit/package.json'))('./dist/services.js');
    const db = await testkit.createTestDatabase();
    cleanups.push(db.drop);
    const prefix = testkit.uniqueName('stowage-bench');
    cleanups.push(() => testkit.clearRedisPrefix(prefix));
    Object.assign(env, { STOWAGE_DATABASE__URL: db.url, STOWAGE_REDIS__URL: testkit.TEST_REDIS_URL, STOWAGE_REDIS__PREFIX: prefix });
  }

  const started = Date.now();
  server = spawn(process.execPath, [MAIN, 'serve'], { cwd: dir, env, stdio: ['ignore', 'ignore', 'inherit'] });
  const exited = new Promise((r) => server.once('exit', (code, signal) => r({ code, signal })));
  for (;;) {
    if (server.exitCode !== null) throw new Error(`the server exited with ${server.exitCode} before it was ready`);
    try {
      if ((await call(base, 'GET', '/-/readiness')).status === 200) break;
    } catch {
      // not listening yet
    }
    if (Date.now() - started > 120_000) throw new Error('the server was not ready after 120 s');
    await new Promise((r) => setTimeout(r, 200));
  }
  const readyMs = Date.now() - started;

  const project = await call(base, 'POST', '/api/v4/projects', {
    token,
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ name: 'bench', path: 'bench' }),
  });
  if (project.status !== 201) throw new Error(`create project: ${project.status} ${project.body}`);
  const fileUrl = (name) => `/api/v4/projects/${JSON.parse(project.body).id}/packages/generic/bench/1.0.0/${name}`;
  // Warm up the upload and download paths so the baseline includes their code.
  const warm = await call(base, 'PUT', fileUrl('warm.bin'), { token, body: randomBytes(MiB) });
  if (warm.status !== 201) throw new Error(`warm-up upload: ${warm.status} ${warm.body}`);
  await call(base, 'GET', fileUrl('warm.bin'), { token });
  await new Promise((r) => setTimeout(r, 500));
  const baseline = await rssMb(server.pid);

  const rss = sampler(server.pid);
  // Upload
  rss.phase = 'upload';
  const sent = createHash('sha256');
  let t = process.hrtime.bigint();
  const up = await call(base, 'PUT', fileUrl('big.bin'), {
    token,
    body: generatedBody(sent),
    headers: { 'content-length': String(size), 'content-type': 'application/octet-stream' },
  });
  const uploadS = Number(process.hrtime.bigint() - t) / 1e9;
  if (up.status !== 201) throw new Error(`upload: ${up.status} ${up.body}`);
  const sentSha = sent.digest('hex');

  // Download
  rss.phase = 'download';
  t = process.hrtime.bigint();
  const got = await new Promise((res, rej) => {
    const req = request(`${base}${fileUrl('big.bin')}`, { headers: { 'private-token': token } }, (r) => {
      const hash = createHash('sha256');
      let bytes = 0;
      r.on('data', (c) => {
        bytes += c.length;
        hash.update(c);
      });
      r.on('end', () => res({ status: r.statusCode, bytes, sha: hash.digest('hex'), length: r.headers['content-length'] }));
      r.on('error', rej);
    });
    req.on('error', rej);
    req.end();
  });
  const downloadS = Number(process.hrtime.bigint() - t) / 1e9;
  rss.phase = 'after';
  await new Promise((r) => setTimeout(r, 300));
  rss.stop();

  server.kill('SIGTERM');
  const exit = await exited;

  const ok = got.status === 200 && got.bytes === size && got.sha === sentSha && got.length === String(size);
  const mb = size / 1e6;
  const f = (x) => x.toFixed(0);
  const delta = (x) => (x === undefined ? "n/a" : `${x >= baseline ? "+" : ""}${f(x - baseline)}`);
  console.log(`generic upload/download of ${sizeMb} MiB, ${postgres ? 'PostgreSQL + Redis' : 'embedded (PGlite, in-process queue)'}, node ${process.version}`);
  console.log(`  server ready:      ${(readyMs / 1000).toFixed(1)} s`);
  console.log(`  upload:            ${(mb / uploadS).toFixed(0)} MB/s (${uploadS.toFixed(1)} s)`);
  console.log(`  download:          ${(mb / downloadS).toFixed(0)} MB/s (${downloadS.toFixed(1)} s)`);
  console.log(`  baseline RSS:      ${f(baseline)} MB`);
  console.log(`  peak RSS upload:   ${f(rss.peaks.upload ?? NaN)} MB (${delta(rss.peaks.upload)} MB)`);
  console.log(`  peak RSS download: ${f(rss.peaks.download ?? NaN)} MB (${delta(rss.peaks.download)} MB)`);
  console.log(`  sha256:            ${ok ? 'match' : `MISMATCH (status ${got.status}, ${got.bytes} bytes, ${got.sha} vs ${sentSha})`} ${sentSha}`);
  console.log(`  shutdown:          exit ${exit.code ?? exit.signal}`);
  return ok && exit.code === 0 ? 0 : 1;
}

let code = 1;
try {
  code = await main();
} catch (err) {
  console.error(`bench failed: ${err.stack ?? err}`);
} finally {
  await cleanup();
}
process.exit(code);
