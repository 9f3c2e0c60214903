#!/usr/bin/env node
// Object storage: live migration throughput, and a large download through proxy_download
// against reading it straight from the object store.
//
//   node bench/s3-migrate.mjs [--files=1000] [--size-mb=1024]
//
// Needs a build (`tsc -b`) and the test PostgreSQL and Redis (STOWAGE_TEST_DATABASE_URL /
// STOWAGE_TEST_REDIS_URL): `stowage packages migrate` runs as its own process next to the
// serving one, as an operator would run it. s3rver runs in a child process of its own (this
// script, forked): sharing a process with the downloading client would flatter the direct
// download several times over.
//  1. `stowage serve` with object storage enabled and local uploads; --files files of mixed
//     size (90% 4–64 KiB, 9% 512 KiB, 1% 5 MiB) are uploaded.
//  2. `stowage packages migrate` moves them all: files/s and MB/s (wall time of the command).
//  3. One --size-mb file is uploaded and migrated, then downloaded through the server
//     (proxy_download: true; the server's peak RSS is sampled) and straight from s3rver via
//     a presigned URL; both hashed as they arrive.
import { fork } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import {
  apiCaller,
  atExit,
  benchToken,
  freePort,
  generatedBody,
  MAIN,
  MiB,
  requireBuild,
  root,
  rssMb,
  rssSampler,
  runBench,
  runStowage,
  serverEnv,
  spawnChild,
  testServicesEnv,
  track,
  waitReady,
} from './lib/harness.mjs';
import { get, inParallel } from './lib/measure.cjs';

if (process.argv[2] === '--s3rver-child') {
  // The forked s3rver: serves until its parent kills it.
  const S3rver = createRequire(join(root, 'packages/storage-s3/package.json'))('s3rver');
  const s3 = new S3rver({
    port: 0,
    address: '127.0.0.1',
    silent: true,
    directory: process.argv[3],
    configureBuckets: [{ name: 'packages' }],
  });
  const { port } = await s3.run();
  process.send({ port });
  await new Promise(() => undefined);
}

const args = process.argv.slice(2);
const arg = (name, dflt) => Number(args.find((a) => a.startsWith(`--${name}=`))?.split('=')[1] ?? dflt);
const FILES = arg('files', 1000);
const SIZE_MB = arg('size-mb', 1024);
const BIG = SIZE_MB * MiB;

requireBuild([MAIN, join(root, 'packages/storage-s3/dist/index.js'), join(root, 'apps/server/dist/packages-commands.js')]);

async function main() {
  const dir = await mkdtemp(join(tmpdir(), 'stowage-bench-s3-'));
  atExit(() => rm(dir, { recursive: true, force: true }));
  const s3req = createRequire(join(root, 'packages/storage-s3/package.json'));
  const s3child = track(
    fork(fileURLToPath(import.meta.url), ['--s3rver-child', join(dir, 's3')], { stdio: ['ignore', 'ignore', 'inherit', 'ipc'] }),
  );
  const { port: s3port } = await new Promise((res, rej) => {
    s3child.once('message', res);
    s3child.once('exit', (code) => rej(new Error(`s3rver exited with ${code}`)));
  });
  const endpoint = `http://127.0.0.1:${s3port}`;

  const services = await testServicesEnv();

  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const token = benchToken();
  const env = serverEnv(port, token, {
    ...services,
    STOWAGE_PACKAGES__OBJECT_STORE__ENABLED: 'true',
    STOWAGE_PACKAGES__OBJECT_STORE__DIRECT_UPLOAD: 'false',
    STOWAGE_PACKAGES__OBJECT_STORE__BACKGROUND_UPLOAD: 'false',
    STOWAGE_PACKAGES__OBJECT_STORE__PROXY_DOWNLOAD: 'true',
    STOWAGE_PACKAGES__OBJECT_STORE__REMOTE_DIRECTORY: 'packages',
    STOWAGE_PACKAGES__OBJECT_STORE__CONNECTION__ENDPOINT: endpoint,
    STOWAGE_PACKAGES__OBJECT_STORE__CONNECTION__PATH_STYLE: 'true',
    STOWAGE_PACKAGES__OBJECT_STORE__CONNECTION__AWS_ACCESS_KEY_ID: 'S3RVER',
    STOWAGE_PACKAGES__OBJECT_STORE__CONNECTION__AWS_SECRET_ACCESS_KEY: 'S3RVER',
    STOWAGE_PACKAGES__OBJECT_STORE__CONNECTION__REGION: 'us-east-1',
  });

  const server = spawnChild(process.execPath, [MAIN, 'serve'], { cwd: dir, env, stdio: ['ignore', 'ignore', 'inherit'] });
  await waitReady(server, `${base}/-/readiness`);
  const call = apiCaller(base, token);

  const project = await call('POST', '/api/v4/projects', {
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ name: 'bench', path: 'bench' }),
  });
  if (project.status !== 201) throw new Error(`create project: ${project.status} ${project.body}`);
  const fileUrl = (v, name) => `/api/v4/projects/${JSON.parse(project.body).id}/packages/generic/bench/${v}/${name}`;

  // 1. Mixed files onto local disk.
  const sizeOf = (i) => (i % 100 === 0 ? 5 * MiB : i % 10 === 0 ? 512 * 1024 : 4096 + ((i * 7919) % (60 * 1024)));
  let total = 0;
  let t = Date.now();
  await inParallel(8, { count: FILES }, async (i) => {
    const body = randomBytes(sizeOf(i));
    total += body.length;
    const r = await call('PUT', fileUrl(`1.0.${i}`, `f${i}.bin`), { body });
    if (r.status !== 201) throw new Error(`upload ${i}: ${r.status} ${r.body}`);
  });
  console.log(`uploaded ${FILES} files, ${(total / 1e6).toFixed(1)} MB, to local disk in ${((Date.now() - t) / 1000).toFixed(1)} s`);

  // 2. The migration, as its own process.
  t = Date.now();
  const m = await runStowage(['packages', 'migrate', '--batch', '100'], { env, cwd: dir });
  const migrateS = (Date.now() - t) / 1000;
  if (m.code !== 0) throw new Error(`migrate exited with ${m.code}: ${m.out}${m.err}`);
  if (!m.out.includes(`moved: ${FILES}\n`)) throw new Error(`unexpected migrate summary:\n${m.out}`);
  console.log(m.out.trim().replace(/^/gm, '  '));
  console.log(
    `migrate: ${FILES} files in ${migrateS.toFixed(1)} s = ${(FILES / migrateS).toFixed(0)} files/s, ${(total / 1e6 / migrateS).toFixed(1)} MB/s (process start included)`,
  );
  const v = await runStowage(['packages', 'verify'], { env, cwd: dir });
  if (v.code !== 0) throw new Error(`verify exited with ${v.code}: ${v.out}`);
  console.log(`verify: clean (${v.out.split('\n')[0]})`);

  // 3. One big file: migrated, then downloaded through the server and straight from S3.
  const sent = createHash('sha256');
  t = Date.now();
  const up = await call('PUT', fileUrl('2.0.0', 'big.bin'), { body: generatedBody(BIG, sent), headers: { 'content-length': String(BIG) } });
  if (up.status !== 201) throw new Error(`big upload: ${up.status} ${up.body}`);
  const sha = sent.digest('hex');
  console.log(`uploaded ${SIZE_MB} MiB to local disk in ${((Date.now() - t) / 1000).toFixed(1)} s`);
  t = Date.now();
  const m2 = await runStowage(['packages', 'migrate'], { env, cwd: dir });
  if (m2.code !== 0 || !m2.out.includes('moved: 1\n')) throw new Error(`big migrate: ${m2.code} ${m2.out}${m2.err}`);
  const bigMoveS = (Date.now() - t) / 1000;
  console.log(`migrate ${SIZE_MB} MiB: ${bigMoveS.toFixed(1)} s = ${(BIG / 1e6 / bigMoveS).toFixed(1)} MB/s (copy + read-back verify)`);

  const baseline = await rssMb(server.pid);
  const rss = rssSampler(server.pid, 'download');
  const proxied = await get(`${base}${fileUrl('2.0.0', 'big.bin')}`, { headers: { 'private-token': token }, hash: true });
  rss.stop();
  const peak = Math.max(baseline, rss.peaks.download ?? 0);
  if (proxied.status !== 200 || proxied.sha !== sha)
    throw new Error(`proxied download: ${proxied.status}, sha ${proxied.sha === sha ? 'ok' : 'WRONG'}`);
  const rate = (d) => `${(d.bytes / 1e6 / d.s).toFixed(0)} MB/s (${d.s.toFixed(1)} s)`;
  console.log(
    `download ${SIZE_MB} MiB through proxy_download: ${rate(proxied)}; server RSS ${baseline.toFixed(0)} → peak ${peak.toFixed(0)} MB`,
  );

  const { S3BlobStore } = s3req('./dist/index.js');
  const store = new S3BlobStore({
    remoteDirectory: 'packages',
    region: 'us-east-1',
    endpoint,
    pathStyle: true,
    accessKeyId: 'S3RVER',
    secretAccessKey: 'S3RVER',
  });
  let key;
  try {
    for await (const o of store.list()) if (o.size === BIG) key = o.key;
  } catch (err) {
    console.error('list failed:', err.cause ?? err);
    throw err;
  }
  const url = await store.presignedGetUrl(key, { expiresInSeconds: 300, fileName: 'big.bin', contentType: 'application/octet-stream' });
  const direct = await get(url, { hash: true });
  store.destroy();
  if (direct.status !== 200 || direct.sha !== sha) throw new Error(`direct download: ${direct.status}`);
  console.log(`download ${SIZE_MB} MiB straight from s3rver (presigned): ${rate(direct)}`);
}

await runBench(main);
