#!/usr/bin/env node
// Download throughput, in the same run, interleaved, medians of the rounds (lib/downloads.mjs):
// - Stowage's generic-package GET against plain Node serving the same stored file
//   (fs.createReadStream(file).pipe(res)), one stream and four at once, with each server's
//   CPU seconds per GiB;
// - then, Stowage restarted with packages.local_download_offload, the same files through
//   nginx configured as docs/configuration.md says, against that nginx serving them itself.
//
//   node bench/downloads.mjs [--postgres] [--sizes-mb=100,1024] [--rounds=5] [--no-nginx]
//
// Starts apps/server/dist/main.js (build first: `tsc -b`) in a temp dir, on the embedded
// default or with --postgres on a fresh database of the test PostgreSQL and Redis.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { measureDownloads, measureNginxOffload, printRows, publishFiles } from './lib/downloads.mjs';
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
const withNginx = !args.includes('--no-nginx');

requireBuild([MAIN, join(MAIN, '../../../../packages/testkit/dist/nginx.js')]);
if (sizes.some((s) => !Number.isInteger(s) || s < 1) || !(rounds >= 1)) {
  console.error('--sizes-mb takes positive integers, --rounds a positive number');
  process.exit(2);
}

async function main() {
  const dir = await mkdtemp(join(tmpdir(), 'stowage-bench-'));
  atExit(() => rm(dir, { recursive: true, force: true }));
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const token = benchToken();
  const headers = { 'private-token': token };
  const storageDir = join(dir, 'data/packages');
  const env = serverEnv(port, token, postgres ? await testServicesEnv() : {});
  const start = async (extra = {}) => {
    const server = spawnChild(process.execPath, [MAIN, 'serve'], {
      cwd: dir,
      env: { ...env, ...extra },
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    await waitReady(server, `${url}/-/readiness`);
    return server;
  };
  const where = `${postgres ? 'PostgreSQL + Redis' : 'embedded'}, median of ${rounds} interleaved rounds, curl, node ${process.version}`;

  let server = await start();
  const files = await publishFiles({ url, headers, storageDir, sizes });
  const rows = await measureDownloads({ url, headers, storageDir, pid: server.pid, files, rounds });
  let exit = await stopChild(server);
  printRows(`generic package downloads against plain Node, ${where}`, rows);
  if (exit.code !== 0) return 1;
  if (!withNginx) return 0;

  server = await start({ STOWAGE_PACKAGES__LOCAL_DOWNLOAD_OFFLOAD__ENABLED: 'true' });
  const offload = await measureNginxOffload({ url, headers, storageDir, files, rounds });
  exit = await stopChild(server);
  printRows(`through nginx with local_download_offload against nginx serving the file, ${where}`, offload, 'offload', 'nginx');
  return exit.code === 0 ? 0 : 1;
}

await runBench(main);
