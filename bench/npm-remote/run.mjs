#!/usr/bin/env node
// npm through an upstream registry (remote registries): a project of 100 dependencies only
// the upstream holds, installed side by side in one run
//   - straight from the upstream (a Verdaccio with no uplinks: the reference for a cold cache),
//   - through Stowage with its cache emptied first (cold), and again (warm),
//   - through a second Verdaccio whose uplink is the upstream, its cache warm (the reference
//     for a warm cache), and through a new one each round, its cache cold (how far the usual
//     proxy is from the upstream itself).
// Every install has a fresh project directory and a fresh npm cache; the median of the rounds
// is reported.
//
//   node bench/run.mjs npm-remote [--postgres] [--deps=100] [--rounds=3] [--cpu-prof=<dir>]
//
// Stowage runs from apps/server/dist/main.js (build first: `tsc -b`).
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

import {
  apiCaller,
  atExit,
  benchToken,
  freePort,
  MAIN,
  requireBuild,
  runBench,
  serverEnv,
  spawnChild,
  stopChild,
  testServicesEnv,
  waitReady,
} from '../lib/harness.mjs';
import { quantile } from '../lib/measure.cjs';
import { npmFixture, startVerdaccio, writeVerdaccioStorage } from '../lib/npm-fixtures.mjs';

const run = promisify(execFile);
const args = process.argv.slice(2);
const flag = (name, fallback) => args.find((a) => a.startsWith(`--${name}=`))?.split('=')[1] ?? fallback;
const postgres = args.includes('--postgres');
const DEPS = Number(flag('deps', 100));
const ROUNDS = Number(flag('rounds', 3));

requireBuild();

/** `rdep-<i>`, in chains of ten: each needs the next one, as libraries need libraries. */
function generate() {
  const out = [];
  for (let i = 0; i < DEPS; i++) {
    const next = i % 10 !== 9 && i + 1 < DEPS ? { [`rdep-${i + 1}`]: '^1.0.0' } : {};
    out.push(npmFixture({ name: `rdep-${i}`, version: '1.0.0', main: 'index.js', license: 'MIT', dependencies: next }));
  }
  return out;
}

async function startStowage(dir, upstream) {
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const token = benchToken();
  const env = serverEnv(port, token, { STOWAGE_SERVER__EXTERNAL_URL: base, ...(postgres ? await testServicesEnv() : {}) });
  const config = join(dir, 'stowage.yml');
  await writeFile(
    config,
    [
      `data_dir: ${JSON.stringify(join(dir, 'data'))}`,
      'formats:',
      '  npm:',
      '    package_requests_forwarding: true',
      `    upstream: { url: ${JSON.stringify(upstream)}, mode: cache }`,
      '',
    ].join('\n'),
  );
  // --cpu-prof=<dir>: the server writes a CPU profile there when it stops.
  const profile = flag('cpu-prof', undefined);
  const node = profile ? ['--cpu-prof', `--cpu-prof-dir=${profile}`] : [];
  const server = spawnChild(process.execPath, [...node, MAIN, '--config', config, 'serve'], {
    cwd: dir,
    env,
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  await waitReady(server, `${base}/-/readiness`);
  const api = apiCaller(base, token);
  const json = { 'content-type': 'application/json' };
  const group = JSON.parse(
    (await api('POST', '/api/v4/groups', { headers: json, body: JSON.stringify({ name: 'bench', path: 'bench', visibility: 'public' }) }))
      .body,
  );
  const project = JSON.parse(
    (
      await api('POST', '/api/v4/projects', {
        headers: json,
        body: JSON.stringify({ name: 'app', path: 'app', namespace_id: group.id, visibility: 'public' }),
      })
    ).body,
  );
  return {
    server,
    registry: `${base}/api/v4/projects/${project.id}/packages/npm/`,
    /** Empties the upstream cache (files and packuments): the next install is cold. */
    empty: async () => {
      const r = await api('DELETE', '/api/v4/packages/remote_files?package_type=npm');
      if (r.status !== 200) throw new Error(`emptying the cache: ${r.status} ${r.body}`);
    },
  };
}

let installs = 0;
async function install(dir, registry, fixtures) {
  const app = join(dir, `install-${++installs}`);
  await mkdir(app, { recursive: true });
  const dependencies = Object.fromEntries(fixtures.map((f) => [f.manifest.name, '^1.0.0']));
  await writeFile(join(app, 'package.json'), JSON.stringify({ name: 'bench-app', version: '1.0.0', private: true, dependencies }));
  await writeFile(join(app, '.npmrc'), `registry=${registry}\n`);
  const env = { PATH: process.env.PATH, HOME: app, npm_config_userconfig: join(app, '.npmrc') };
  const started = process.hrtime.bigint();
  await run('npm', ['install', '--cache', join(app, 'cache'), '--no-audit', '--no-fund', '--registry', registry], {
    cwd: app,
    env,
    timeout: 600_000,
  });
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  await rm(app, { recursive: true, force: true });
  return seconds;
}

async function main() {
  const dir = await mkdtemp(join(tmpdir(), 'stowage-npm-remote-bench-'));
  atExit(() => rm(dir, { recursive: true, force: true }));
  const fixtures = generate();

  const originPort = await freePort();
  const storage = join(dir, 'origin-storage');
  await writeVerdaccioStorage(storage, `http://127.0.0.1:${originPort}`, fixtures);
  const origin = await startVerdaccio(await mkdtemp(join(dir, 'origin-')), { port: originPort, storage });
  const proxy = await startVerdaccio(await mkdtemp(join(dir, 'proxy-')), {
    port: await freePort(),
    storage: join(dir, 'proxy-storage'),
    uplink: origin.registry,
  });
  const stowage = await startStowage(await mkdtemp(join(dir, 'stowage-')), origin.registry);

  await install(dir, proxy.registry, fixtures); // warms Verdaccio's uplink cache
  const t = { direct: [], cold: [], warm: [], verdaccio: [], verdaccioCold: [] };
  for (let round = 0; round < ROUNDS; round++) {
    t.direct.push(await install(dir, origin.registry, fixtures));
    // Verdaccio's own cold cache: a new one over an empty storage each round.
    const fresh = await startVerdaccio(await mkdtemp(join(dir, 'fresh-')), {
      port: await freePort(),
      storage: join(dir, `fresh-storage-${round}`),
      uplink: origin.registry,
    });
    t.verdaccioCold.push(await install(dir, fresh.registry, fixtures));
    await stopChild(fresh.server);
    await stowage.empty();
    t.cold.push(await install(dir, stowage.registry, fixtures));
    t.warm.push(await install(dir, stowage.registry, fixtures));
    t.verdaccio.push(await install(dir, proxy.registry, fixtures));
  }
  const med = (xs) => quantile(xs, 0.5);
  const s = (x) => `${x.toFixed(2)} s`;
  console.log(
    `\nnpm install of ${DEPS} dependencies only the upstream holds, median of ${ROUNDS} rounds, ${postgres ? 'PostgreSQL' : 'embedded'} Stowage`,
  );
  console.log(
    `load average at the end: ${loadavg()
      .map((l) => l.toFixed(1))
      .join(' ')}\n`,
  );
  console.log('| install | Stowage | reference | ratio | target |');
  console.log('|---|---|---|---|---|');
  console.log(
    `| cold cache vs straight from the upstream | ${s(med(t.cold))} | ${s(med(t.direct))} | ${(med(t.cold) / med(t.direct)).toFixed(2)}× | ≤ 1.3× |`,
  );
  console.log(
    `| (Verdaccio's cold cache vs straight from the upstream) | ${s(med(t.verdaccioCold))} | ${s(med(t.direct))} | ${(med(t.verdaccioCold) / med(t.direct)).toFixed(2)}× | |`,
  );
  console.log(
    `| warm cache vs Verdaccio with its uplink cache warm | ${s(med(t.warm))} | ${s(med(t.verdaccio))} | ${(med(t.warm) / med(t.verdaccio)).toFixed(2)}× | ≤ 1.0× |`,
  );
  await stopChild(stowage.server); // before the run's cleanup kills it, so a --cpu-prof profile is written
  console.log(
    `\nall rounds (s): ${JSON.stringify(Object.fromEntries(Object.entries(t).map(([k, v]) => [k, v.map((x) => +x.toFixed(2))])))}`,
  );
}

await runBench(main);
