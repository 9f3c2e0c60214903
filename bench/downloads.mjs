#!/usr/bin/env node
// Download throughput: Stowage's generic-package GET against plain Node serving the same
// stored file (fs.createReadStream(file).pipe(res)), one stream and four at once, in the
// same run, interleaved, medians of the rounds (see lib/downloads.mjs).
//
//   node bench/downloads.mjs [--postgres] [--sizes-mb=100,1024] [--rounds=5]
//
// Starts apps/server/dist/main.js (build first: `tsc -b`) in a temp dir, on the embedded
// default or with --postgres on a fresh database of the test PostgreSQL and Redis.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { measureDownloads, printRows } from './lib/downloads.mjs';
import {
  atExit,
  benchToken,
  freePort,
  MAIN,
  MiB,
  requireBuild,
  runBench,
  serverEnv,
  spawnChild,
  stopChild,
  testServicesEnv,
  waitReady,
} from './lib/harness.mjs';

const args = process.argv.slice(2);
const arg = (name, dflt) => args.find((a) => a.startsWith(`--${name}=`))?.split('=')[1] ?? dflt;
const postgres = args.includes('--postgres');
const sizes = arg('sizes-mb', '100,1024')
  .split(',')
  .map((s) => Number(s) * MiB);
const rounds = Number(arg('rounds', 5));
const cpuProf = args.includes('--cpu-prof');

requireBuild();

async function main() {
  const dir = await mkdtemp(join(tmpdir(), 'stowage-bench-'));
  atExit(() => rm(dir, { recursive: true, force: true }));
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const token = benchToken();
  const env = serverEnv(port, token, postgres ? await testServicesEnv() : {});
  const nodeArgs = cpuProf ? ['--cpu-prof', `--cpu-prof-dir=${process.cwd()}`] : [];
  const server = spawnChild(process.execPath, [...nodeArgs, MAIN, 'serve'], { cwd: dir, env, stdio: ['ignore', 'ignore', 'inherit'] });
  await waitReady(server, `${url}/-/readiness`);

  const rows = await measureDownloads({
    url,
    headers: { 'private-token': token },
    storageDir: join(dir, 'data/packages'),
    pid: server.pid,
    sizes,
    rounds,
  });
  const exit = await stopChild(server);
  printRows(
    `generic package downloads, ${postgres ? 'PostgreSQL + Redis' : 'embedded'}, median of ${rounds} interleaved rounds, curl, node ${process.version}`,
    rows,
  );
  return exit.code === 0 ? 0 : 1;
}

await runBench(main);
