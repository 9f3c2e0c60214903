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
// /proc every 100 ms. In the same run, the same body goes to plain Node piping it to a file
// through a sha256 hash (bench/lib/plain-file-server.mjs), the reference the upload is
// measured against.
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { startPlainFileServer } from './lib/downloads.mjs';
import {
  apiCaller,
  atExit,
  benchToken,
  freePort,
  generatedBody,
  MAIN,
  MiB,
  requireBuild,
  rssMb,
  rssSampler,
  runBench,
  serverEnv,
  spawnChild,
  stopChild,
  testServicesEnv,
  waitReady,
} from './lib/harness.mjs';
import { call as plainCall, get } from './lib/measure.cjs';

const args = process.argv.slice(2);
const postgres = args.includes('--postgres');
const sizeMb = Number(args.find((a) => a.startsWith('--size-mb='))?.split('=')[1] ?? 1024);
const size = sizeMb * MiB;

requireBuild();
if (!Number.isInteger(sizeMb) || sizeMb < 1) {
  console.error('--size-mb must be a positive integer');
  process.exit(2);
}

async function main() {
  const dir = await mkdtemp(join(tmpdir(), 'stowage-bench-'));
  atExit(() => rm(dir, { recursive: true, force: true }));
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const token = benchToken();
  const env = serverEnv(port, token, postgres ? await testServicesEnv() : {});

  const started = Date.now();
  const server = spawnChild(process.execPath, [MAIN, 'serve'], { cwd: dir, env, stdio: ['ignore', 'ignore', 'inherit'] });
  await waitReady(server, `${base}/-/readiness`);
  const readyMs = Date.now() - started;
  const call = apiCaller(base, token);

  const project = await call('POST', '/api/v4/projects', {
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ name: 'bench', path: 'bench' }),
  });
  if (project.status !== 201) throw new Error(`create project: ${project.status} ${project.body}`);
  const fileUrl = (name) => `/api/v4/projects/${JSON.parse(project.body).id}/packages/generic/bench/1.0.0/${name}`;
  // Warm up the upload and download paths so the baseline includes their code.
  const warm = await call('PUT', fileUrl('warm.bin'), { body: randomBytes(MiB) });
  if (warm.status !== 201) throw new Error(`warm-up upload: ${warm.status} ${warm.body}`);
  await call('GET', fileUrl('warm.bin'));
  await new Promise((r) => setTimeout(r, 500));
  const baseline = await rssMb(server.pid);

  const rss = rssSampler(server.pid);
  // Upload
  rss.phase = 'upload';
  const sent = createHash('sha256');
  let t = process.hrtime.bigint();
  const up = await call('PUT', fileUrl('big.bin'), {
    body: generatedBody(size, sent),
    headers: { 'content-length': String(size), 'content-type': 'application/octet-stream' },
  });
  const uploadS = Number(process.hrtime.bigint() - t) / 1e9;
  if (up.status !== 201) throw new Error(`upload: ${up.status} ${up.body}`);
  const sentSha = sent.digest('hex');

  // The reference: plain Node, the same body to a file through sha256.
  rss.phase = 'reference';
  const plain = await startPlainFileServer(dir);
  const plainSent = createHash('sha256');
  t = process.hrtime.bigint();
  const ref = await plainCall(`${plain.base}/reference.bin`, {
    method: 'PUT',
    body: generatedBody(size, plainSent),
    headers: { 'content-length': String(size), 'content-type': 'application/octet-stream' },
  });
  const plainS = Number(process.hrtime.bigint() - t) / 1e9;
  await plain.stop();
  if (ref.status !== 201) throw new Error(`plain upload: ${ref.status}`);

  // Download
  rss.phase = 'download';
  t = process.hrtime.bigint();
  const got = await get(`${base}${fileUrl('big.bin')}`, { headers: { 'private-token': token }, hash: true });
  const downloadS = Number(process.hrtime.bigint() - t) / 1e9;
  rss.phase = 'after';
  await new Promise((r) => setTimeout(r, 300));
  rss.stop();

  const exit = await stopChild(server);

  const ok = got.status === 200 && got.bytes === size && got.sha === sentSha && got.headers['content-length'] === String(size);
  const mb = size / 1e6;
  const f = (x) => x.toFixed(0);
  const delta = (x) => (x === undefined ? 'n/a' : `${x >= baseline ? '+' : ''}${f(x - baseline)}`);
  console.log(
    `generic upload/download of ${sizeMb} MiB, ${postgres ? 'PostgreSQL + Redis' : 'embedded (PGlite, in-process queue)'}, node ${process.version}`,
  );
  console.log(`  server ready:      ${(readyMs / 1000).toFixed(1)} s`);
  console.log(`  upload:            ${(mb / uploadS).toFixed(0)} MB/s (${uploadS.toFixed(1)} s), all four digests`);
  console.log(
    `  plain Node upload: ${(mb / plainS).toFixed(0)} MB/s (${plainS.toFixed(1)} s), sha256 only; ratio ${(plainS / uploadS).toFixed(2)}×`,
  );
  console.log(`  download:          ${(mb / downloadS).toFixed(0)} MB/s (${downloadS.toFixed(1)} s)`);
  console.log(`  baseline RSS:      ${f(baseline)} MB`);
  console.log(`  peak RSS upload:   ${f(rss.peaks.upload ?? NaN)} MB (${delta(rss.peaks.upload)} MB)`);
  console.log(`  peak RSS download: ${f(rss.peaks.download ?? NaN)} MB (${delta(rss.peaks.download)} MB)`);
  console.log(
    `  sha256:            ${ok ? 'match' : `MISMATCH (status ${got.status}, ${got.bytes} bytes, ${got.sha} vs ${sentSha})`} ${sentSha}`,
  );
  console.log(`  shutdown:          exit ${exit.code ?? exit.signal}`);
  return ok && exit.code === 0 ? 0 : 1;
}

await runBench(main);
