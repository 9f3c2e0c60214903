#!/usr/bin/env node
// npm read path, Stowage beside Verdaccio on the same data and the same machine:
// packument requests/s and p99 (full and abbreviated) of a 3,000-version package, tarball
// requests/s, and the wall time of a cold `npm install` of a project with 100 dependencies.
//
//   node bench/run.mjs npm [--postgres] [--versions=3000] [--small=200]
//        [--deps=100] [--seconds=10] [--concurrency=10]
//
// Stowage runs from apps/server/dist/main.js (build first: `tsc -b`), on the embedded
// default or, with --postgres, on a fresh database of the test PostgreSQL and Redis.
// Verdaccio 6 is @stowage/testkit's devDependency.
// Both get the same generated tarballs: Stowage through `npm publish`'s HTTP request,
// Verdaccio written straight into its storage (publishing 3,000 versions one by one
// would take it far longer than the measurement itself). Requests send
// `Accept-Encoding: gzip` as npm does; the load generator shares the machine's cores.
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { Agent } from 'node:http';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

import {
  atExit,
  benchToken,
  freePort,
  MAIN,
  requireBuild,
  root,
  runBench,
  serverEnv,
  spawnChild,
  stopChild,
  testServicesEnv,
  waitReady,
} from '../lib/harness.mjs';
import { call as send, inParallel, quantile } from '../lib/measure.cjs';
import { npmFixture, startVerdaccio as startVerdaccioServer, writeVerdaccioStorage } from '../lib/npm-fixtures.mjs';

const run = promisify(execFile);
const args = process.argv.slice(2);
const flag = (name, fallback) => args.find((a) => a.startsWith(`--${name}=`))?.split('=')[1] ?? fallback;
const postgres = args.includes('--postgres');
const VERSIONS = Number(flag('versions', 3000));
const SMALL = Number(flag('small', 200));
const DEPS = Math.min(Number(flag('deps', 100)), SMALL);
const SECONDS = Number(flag('seconds', 10));
const CONCURRENCY = Number(flag('concurrency', 10));
const BIG = '@bench/big';
const CORGI = 'application/vnd.npm.install-v1+json; q=1.0, application/json; q=0.8, */*';

requireBuild();

const agent = new Agent({ keepAlive: true, maxSockets: CONCURRENCY * 2 });

atExit(async () => agent.destroy());

const call = (url, opts = {}) => send(url, { ...opts, agent });

async function mustCall(url, opts, what) {
  const r = await call(url, opts);
  if (r.status >= 300) throw new Error(`${what}: ${r.status} ${r.body.toString().slice(0, 300)}`);
  return r;
}

// ---- fixtures --------------------------------------------------------------------------

/** A manifest shaped like a real library's: a description, keywords, (optionally) dependencies. */
function manifest(name, version, i, withDependencies) {
  return {
    name,
    version,
    description: `Benchmark package ${name}, build ${i}`,
    main: 'index.js',
    license: 'MIT',
    keywords: ['bench', 'stowage', 'npm'],
    repository: { type: 'git', url: 'https://example.com/bench.git' },
    dependencies: withDependencies ? { 'left-pad': '^1.3.0', lodash: `^4.17.${i % 21}` } : {},
    engines: { node: '>=18' },
    scripts: { test: 'node test.js' },
  };
}

function fixture(name, version, i, withDependencies = false) {
  return npmFixture(manifest(name, version, i, withDependencies));
}

function generate() {
  const big = [];
  // The big package's dependencies are only metadata (it is never installed); the small
  // ones have none, so the install needs no registry but the one measured.
  for (let i = 0; i < VERSIONS; i++) big.push(fixture(BIG, `1.${Math.floor(i / 100)}.${i % 100}`, i, true));
  const small = [];
  for (let i = 0; i < SMALL; i++) small.push(fixture(`@bench/small-${i}`, '1.0.0', i));
  return { big, small };
}

function publishBody(f, fileName) {
  const { name, version } = f.manifest;
  return JSON.stringify({
    _id: name,
    name,
    'dist-tags': { latest: version },
    versions: { [version]: { ...f.manifest, _id: `${name}@${version}`, dist: { shasum: f.shasum, integrity: f.integrity } } },
    _attachments: { [fileName]: { content_type: 'application/octet-stream', data: f.bytes.toString('base64'), length: f.bytes.length } },
  });
}

// ---- servers ---------------------------------------------------------------------------

async function startStowage(dir, fixtures) {
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const token = benchToken();
  const env = serverEnv(port, token, { STOWAGE_SERVER__EXTERNAL_URL: base, ...(postgres ? await testServicesEnv() : {}) });
  // The npm format loads as a plugin unless the server already ships it.
  const builtin = await import(join(root, 'apps/server/dist/plugins.js'));
  const shipsNpm = builtin.BUILTIN_FORMATS.some((f) => f.name === 'npm');
  const config = join(dir, 'stowage.yml');
  await writeFile(config, `data_dir: ${JSON.stringify(join(dir, 'data'))}\nplugins: [${shipsNpm ? '' : "'@stowage/format-npm'"}]\n`);
  const server = spawnChild(process.execPath, [MAIN, '--config', config, 'serve'], {
    cwd: dir,
    env,
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  await waitReady(server, `${base}/-/readiness`);

  const admin = { 'private-token': token, 'content-type': 'application/json' };
  const group = JSON.parse(
    (
      await mustCall(
        `${base}/api/v4/groups`,
        { method: 'POST', headers: admin, body: JSON.stringify({ name: 'bench', path: 'bench', visibility: 'public' }) },
        'create group',
      )
    ).body,
  );
  const project = JSON.parse(
    (
      await mustCall(
        `${base}/api/v4/projects`,
        {
          method: 'POST',
          headers: admin,
          body: JSON.stringify({ name: 'registry', path: 'registry', namespace_id: group.id, visibility: 'public' }),
        },
        'create project',
      )
    ).body,
  );
  const registry = `${base}/api/v4/projects/${project.id}/packages/npm/`;
  const started = Date.now();
  const all = [...fixtures.small, ...fixtures.big];
  await inParallel(4, { count: all.length }, (i) => {
    const f = all[i];
    return mustCall(
      `${registry}${f.manifest.name.replace('/', '%2f')}`,
      {
        method: 'PUT',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', 'npm-command': 'publish' },
        body: publishBody(f, `${f.manifest.name}-${f.manifest.version}.tgz`),
      },
      `publish ${f.manifest.name}@${f.manifest.version}`,
    );
  });
  console.log(
    `stowage: published ${fixtures.big.length + fixtures.small.length} versions in ${((Date.now() - started) / 1000).toFixed(1)} s`,
  );
  return {
    name: 'Stowage',
    server,
    registry,
    packument: (name) => `${registry}${name.replace('/', '%2f')}`,
    tarball: (f) => `${registry}${f.manifest.name}/-/${f.manifest.name}-${f.manifest.version}.tgz`,
  };
}

async function startVerdaccio(dir, fixtures) {
  const port = await freePort();
  const storage = join(dir, 'storage');
  await writeVerdaccioStorage(storage, `http://127.0.0.1:${port}`, [...fixtures.small, ...fixtures.big]);
  const { server, base } = await startVerdaccioServer(dir, { port, storage });
  return {
    name: 'Verdaccio',
    server,
    registry: `${base}/`,
    packument: (name) => `${base}/${name.replace('/', '%2f')}`,
    tarball: (f) => `${base}/${f.manifest.name}/-/${f.manifest.name.split('/').pop()}-${f.manifest.version}.tgz`,
  };
}

// ---- measurements ----------------------------------------------------------------------

/** CONCURRENCY clients in a closed loop for SECONDS; each response is read in full. */
async function load(urls, headers) {
  const latencies = [];
  let errors = 0;
  await inParallel(CONCURRENCY, { until: Date.now() + SECONDS * 1000 }, async (i) => {
    const url = urls[i % urls.length];
    const t = process.hrtime.bigint();
    const r = await call(url, { headers }).catch(() => ({ status: 0 }));
    latencies.push(Number(process.hrtime.bigint() - t) / 1e6);
    if (r.status !== 200) errors++;
  });
  return { rps: latencies.length / SECONDS, p50: quantile(latencies, 0.5), p99: quantile(latencies, 0.99), errors };
}

async function coldInstall(target, small, dir) {
  const app = join(dir, `install-${target.name}`);
  await mkdir(app, { recursive: true });
  const dependencies = Object.fromEntries(small.slice(0, DEPS).map((f) => [f.manifest.name, `^${f.manifest.version}`]));
  await writeFile(join(app, 'package.json'), JSON.stringify({ name: 'bench-app', version: '1.0.0', private: true, dependencies }));
  const home = join(app, 'home');
  await mkdir(home, { recursive: true });
  await writeFile(join(home, '.npmrc'), `registry=${target.registry}\n`);
  const env = { PATH: process.env.PATH, HOME: home, npm_config_userconfig: join(home, '.npmrc') };
  const started = Date.now();
  await run(
    'npm',
    ['install', '--cache', join(app, 'cache'), '--no-audit', '--no-fund', '--prefer-online', '--registry', target.registry],
    { cwd: app, env, timeout: 600_000 },
  );
  return (Date.now() - started) / 1000;
}

async function measure(target, fixtures, dir) {
  // Verify before timing: both answer the same document and bytes.
  const doc = JSON.parse(
    (await mustCall(target.packument(BIG), { headers: { accept: 'application/json' } }, `${target.name} packument`)).body,
  );
  if (Object.keys(doc.versions).length !== fixtures.big.length)
    throw new Error(`${target.name}: ${Object.keys(doc.versions).length} versions`);
  const sample = fixtures.small[0];
  const bytes = (await mustCall(target.tarball(sample), {}, `${target.name} tarball`)).body;
  if (!bytes.equals(sample.bytes)) throw new Error(`${target.name}: tarball bytes differ`);

  // The install first, on a quiet server; then the load phases.
  const install = await coldInstall(target, fixtures.small, dir);
  const gzip = { 'accept-encoding': 'gzip' };
  const full = await load([target.packument(BIG)], { ...gzip, accept: 'application/json' });
  const abbreviated = await load([target.packument(BIG)], { ...gzip, accept: CORGI });
  const tarballs = await load(fixtures.small.map(target.tarball), {});
  return { full, abbreviated, tarballs, install, size: Buffer.byteLength(JSON.stringify(doc)) };
}

function report(results) {
  const fmt = (n, d = 0) => (Number.isFinite(n) ? n.toFixed(d) : '-');
  const rows = [
    ['full packument req/s', (r) => fmt(r.full.rps)],
    ['full packument p99 ms', (r) => fmt(r.full.p99, 1)],
    ['abbreviated packument req/s', (r) => fmt(r.abbreviated.rps)],
    ['abbreviated packument p99 ms', (r) => fmt(r.abbreviated.p99, 1)],
    ['tarball req/s', (r) => fmt(r.tarballs.rps)],
    ['tarball p99 ms', (r) => fmt(r.tarballs.p99, 1)],
    [`cold npm install (${DEPS} deps) s`, (r) => fmt(r.install, 1)],
    ['errors (non-200)', (r) => String(r.full.errors + r.abbreviated.errors + r.tarballs.errors)],
  ];
  const names = results.map((r) => r.name);
  console.log(
    `\n${VERSIONS}-version packument (${fmt(results[0].size / 1024 ** 2, 1)} MB uncompressed), ${CONCURRENCY} concurrent clients, ${SECONDS} s per figure, ${postgres ? 'PostgreSQL' : 'embedded'} Stowage`,
  );
  // Other work on the machine moves these figures a lot; say how busy it was.
  console.log(
    `load average at the end: ${loadavg()
      .map((l) => l.toFixed(1))
      .join(' ')}\n`,
  );
  console.log(`| | ${names.join(' | ')} | ratio |`);
  console.log(`|---|${names.map(() => '---').join('|')}|---|`);
  for (const [label, get] of rows) {
    const values = results.map(get);
    const ratio = Number(values[0]) / Number(values[1]);
    console.log(`| ${label} | ${values.join(' | ')} | ${Number.isFinite(ratio) ? `${ratio.toFixed(2)}×` : ''} |`);
  }
}

async function main() {
  const dir = await mkdtemp(join(tmpdir(), 'stowage-npm-bench-'));
  atExit(() => rm(dir, { recursive: true, force: true }));
  const fixtures = generate();
  const results = [];
  for (const start of [startStowage, startVerdaccio]) {
    const sub = await mkdtemp(join(dir, 'srv-'));
    const target = await start(sub, fixtures);
    results.push({ name: target.name, ...(await measure(target, fixtures, sub)) });
    await stopChild(target.server);
  }
  report(results);
}

await runBench(main);
