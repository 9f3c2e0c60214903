#!/usr/bin/env node
// The hot path, side by side in one run: authenticated file GETs of every kind (npm tarball,
// generic file, Maven jar, PyPI wheel) at 10 connections against Verdaccio's authenticated
// and anonymous tarball rate, Maven 404 probes at 20 connections (p99), npm publish over the
// wire at 1 and 4 connections against Verdaccio, and the embedded default's file GET rate
// against PostgreSQL mode's.
//
//   node bench/run.mjs hot-path [--seconds=10] [--before=<checkout>]
//
// The load comes from wrk (Debian's `wrk`), which costs the shared two cores far less than a
// Node client. With --before, a second checkout (built: `tsc -b`) is measured in the same run,
// so the table shows that build's figures beside this one's; without it, the "before"
// column shows the figures issue 17 recorded (2026-12, same machine kind), marked as such.
import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

import {
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
import { call } from '../lib/measure.cjs';
import { npmFixture, verdaccioBin } from '../lib/npm-fixtures.mjs';

const run = promisify(execFile);
const args = process.argv.slice(2);
const flag = (name, fallback) => args.find((a) => a.startsWith(`--${name}=`))?.split('=')[1] ?? fallback;
const SECONDS = Number(flag('seconds', 10));
const BEFORE = flag('before', '');

/** What issue 17 recorded for the build before it (same machine kind, one run). */
const RECORDED = {
  'npm tarball GET req/s': 840,
  'generic 9 KB GET req/s': 840,
  'npm publish 1 conn /s': 149,
  'npm publish 4 conns /s': 243,
  'embedded generic 9 KB GET req/s': 262,
};

requireBuild();
try {
  await run('wrk', ['--version']).catch((e) => (e.stdout?.includes('wrk') ? null : Promise.reject(e)));
} catch {
  console.error('wrk is missing: apt-get install wrk');
  process.exit(1);
}

/** wrk against one URL: { rps, p99 } (ms). A Lua script may make each request's path. */
async function wrk(url, { connections = 10, headers = {}, script } = {}) {
  const argv = ['-t', '2', '-c', String(connections), '-d', `${SECONDS}s`, '--latency'];
  for (const [k, v] of Object.entries(headers)) argv.push('-H', `${k}: ${v}`);
  if (script) argv.push('-s', script);
  const { stdout } = await run('wrk', [...argv, url], { maxBuffer: 1 << 20 });
  const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(stdout)?.[1]);
  const p99m = /99%\s+([\d.]+)(us|ms|s)\b/.exec(stdout);
  const p99 = p99m ? Number(p99m[1]) * { us: 0.001, ms: 1, s: 1000 }[p99m[2]] : NaN;
  const non2xx = Number(/Non-2xx or 3xx responses:\s+(\d+)/.exec(stdout)?.[1] ?? 0);
  return { rps, p99, non2xx };
}

async function must(url, opts, what) {
  const r = await call(url, opts);
  if (r.status >= 300) throw new Error(`${what}: ${r.status} ${r.body.toString().slice(0, 300)}`);
  return r;
}

// ---- fixtures --------------------------------------------------------------------------

const SMALL = randomBytes(9 * 1024);

function npmPublishBody(f, name, version) {
  return JSON.stringify({
    _id: name,
    name,
    'dist-tags': { latest: version },
    versions: {
      [version]: { ...f.manifest, name, version, _id: `${name}@${version}`, dist: { shasum: f.shasum, integrity: f.integrity } },
    },
    _attachments: {
      [`${name}-${version}.tgz`]: { content_type: 'application/octet-stream', data: f.bytes.toString('base64'), length: f.bytes.length },
    },
  });
}

async function wheel(dir) {
  const path = join(dir, 'hot_path-1.0-py3-none-any.whl');
  const py = [
    'import sys, zipfile',
    'z = zipfile.ZipFile(sys.argv[1], "w")',
    'z.writestr("hot_path/__init__.py", "X = 1\\n" * 1000)',
    'z.writestr("hot_path-1.0.dist-info/METADATA", "Metadata-Version: 2.1\\nName: hot-path\\nVersion: 1.0\\n\\n")',
    'z.close()',
  ].join('\n');
  await run('python3', ['-c', py, path]);
  return readFile(path);
}

function multipart(fields, file) {
  const b = `----hotpath${randomBytes(8).toString('hex')}`;
  const parts = Object.entries(fields).map(([k, v]) =>
    Buffer.from(`--${b}\r\ncontent-disposition: form-data; name="${k}"\r\n\r\n${v}\r\n`),
  );
  parts.push(
    Buffer.from(
      `--${b}\r\ncontent-disposition: form-data; name="content"; filename="${file.name}"\r\ncontent-type: application/octet-stream\r\n\r\n`,
    ),
    file.bytes,
    Buffer.from(`\r\n--${b}--\r\n`),
  );
  return { body: Buffer.concat(parts), type: `multipart/form-data; boundary=${b}` };
}

// ---- servers ---------------------------------------------------------------------------

/** A Stowage from `main` (a built server), seeded with one file of each kind in a private project. */
async function startStowage(label, main, dir, { postgres }) {
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const root = benchToken();
  const env = serverEnv(port, root, { STOWAGE_SERVER__EXTERNAL_URL: base, ...(postgres ? await testServicesEnv() : {}) });
  await mkdir(dir, { recursive: true });
  const started = Date.now();
  const server = spawnChild(process.execPath, [main, 'serve'], { cwd: dir, env, stdio: ['ignore', 'ignore', 'inherit'] });
  await waitReady(server, `${base}/-/readiness`);
  const startSeconds = (Date.now() - started) / 1000;
  const json = { 'private-token': root, 'content-type': 'application/json' };
  const post = async (path, body) =>
    JSON.parse((await must(`${base}${path}`, { method: 'POST', headers: json, body: JSON.stringify(body) }, path)).body);
  const user = await post('/api/v4/users', { username: 'bench', name: 'bench', admin: false });
  const { token } = await post(`/api/v4/users/${user.id}/personal_access_tokens`, { name: 'bench', scopes: ['api'] });
  const group = await post('/api/v4/groups', { name: 'hot', path: 'hot', visibility: 'private' });
  const project = await post('/api/v4/projects', { name: 'files', path: 'files', namespace_id: group.id, visibility: 'private' });
  await post(`/api/v4/projects/${project.id}/members`, { user_id: user.id, access_level: 30 });
  const api = `${base}/api/v4/projects/${project.id}/packages`;
  const auth = { 'private-token': token };

  const npm = npmFixture({ name: '@hot/pkg', version: '1.0.0', description: 'hot path', main: 'index.js' });
  await must(
    `${api}/npm/@hot%2fpkg`,
    {
      method: 'PUT',
      headers: { ...auth, 'content-type': 'application/json', 'npm-command': 'publish' },
      body: npmPublishBody(npm, '@hot/pkg', '1.0.0'),
    },
    'npm publish',
  );
  await must(`${api}/generic/hot/1.0.0/file.bin`, { method: 'PUT', headers: auth, body: SMALL }, 'generic upload');
  await must(`${api}/maven/org/hot/lib/1.0/lib-1.0.jar`, { method: 'PUT', headers: auth, body: SMALL }, 'maven upload');
  const whl = await wheel(dir);
  const form = multipart(
    {
      ':action': 'file_upload',
      name: 'hot-path',
      version: '1.0',
      filetype: 'bdist_wheel',
      sha256_digest: createHash('sha256').update(whl).digest('hex'),
    },
    { name: 'hot_path-1.0-py3-none-any.whl', bytes: whl },
  );
  await must(`${api}/pypi`, { method: 'POST', headers: { ...auth, 'content-type': form.type }, body: form.body }, 'pypi upload');
  const sha = createHash('sha256').update(whl).digest('hex');
  return {
    label,
    server,
    startSeconds,
    auth,
    api,
    npmFixture: npm,
    urls: {
      npm: `${api}/npm/@hot/pkg/-/@hot/pkg-1.0.0.tgz`,
      generic: `${api}/generic/hot/1.0.0/file.bin`,
      maven: `${api}/maven/org/hot/lib/1.0/lib-1.0.jar`,
      pypi: `${api}/pypi/files/${sha}/hot_path-1.0-py3-none-any.whl`,
    },
  };
}

async function startVerdaccio(dir) {
  await mkdir(dir, { recursive: true });
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const config = join(dir, 'verdaccio.yaml');
  await writeFile(
    config,
    [
      `storage: ${JSON.stringify(join(dir, 'storage'))}`,
      `auth: { htpasswd: { file: ${JSON.stringify(join(dir, 'htpasswd'))}, max_users: 100 } }`,
      'uplinks: {}',
      'packages:',
      "  '@anon/*': { access: $all, publish: $authenticated }",
      "  '**': { access: $authenticated, publish: $authenticated }",
      // JWT tokens: each request verifies a signature. Verdaccio's default (legacy) token
      // carries the password, checked against htpasswd's bcrypt on every request (~13 req/s).
      'security: { api: { jwt: { sign: { expiresIn: 7d } } } }',
      'web: { enable: false }',
      'log: { type: stdout, format: pretty, level: error }',
      '',
    ].join('\n'),
  );
  const server = spawnChild(process.execPath, [verdaccioBin(), '--config', config, '--listen', `127.0.0.1:${port}`], {
    cwd: dir,
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  await waitReady(server, `${base}/-/ping`);
  const user = await must(
    `${base}/-/user/org.couchdb.user:bench`,
    { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name: 'bench', password: 'bench-password' }) },
    'verdaccio adduser',
  );
  const auth = { authorization: `Bearer ${JSON.parse(user.body).token}` };
  const npm = npmFixture({ name: '@hot/pkg', version: '1.0.0', description: 'hot path', main: 'index.js' });
  for (const name of ['@hot/pkg', '@anon/pkg']) {
    await must(
      `${base}/${name.replace('/', '%2f')}`,
      { method: 'PUT', headers: { ...auth, 'content-type': 'application/json' }, body: npmPublishBody(npm, name, '1.0.0') },
      `verdaccio publish ${name}`,
    );
  }
  return {
    server,
    base,
    auth,
    npmFixture: npm,
    urls: { auth: `${base}/@hot/pkg/-/pkg-1.0.0.tgz`, anon: `${base}/@anon/pkg/-/pkg-1.0.0.tgz` },
  };
}

// ---- measurements ----------------------------------------------------------------------

/** Versions to publish, made before the clock starts (each tarball's package.json names its version). */
const publishFixtures = (name, prefix, count) =>
  Array.from({ length: count }, (_, i) => npmFixture({ name, version: `${prefix}.0.${i}`, description: 'hot path', main: 'index.js' }));

/** Publishes new versions of one name from `connections` clients for SECONDS: publishes per second. */
async function publishRate(url, headers, name, connections) {
  const fixtures = publishFixtures(name, `${connections}${Date.now() % 100000}`, SECONDS * 500);
  let n = 0;
  let errors = 0;
  const until = Date.now() + SECONDS * 1000;
  await Promise.all(
    Array.from({ length: connections }, async () => {
      while (Date.now() < until && n < fixtures.length) {
        const f = fixtures[n++];
        const body = npmPublishBody(f, name, f.manifest.version);
        const r = await call(url, {
          method: 'PUT',
          headers: { ...headers, 'content-type': 'application/json', 'npm-command': 'publish' },
          body,
        });
        if (r.status >= 300 && !errors++) console.error(`${url}: ${r.status} ${r.body.toString().slice(0, 200)}`);
      }
    }),
  );
  if (errors) throw new Error(`${url}: ${errors} publishes failed`);
  if (n >= fixtures.length) throw new Error(`${url}: ran out of prepared versions; raise their count`);
  return n / SECONDS;
}

async function measureStowage(s, dir) {
  const r = {};
  for (const [kind, url] of Object.entries(s.urls)) {
    const bytes = (await must(url, { headers: s.auth }, `${s.label} ${kind}`)).body;
    if (!bytes.length) throw new Error(`${s.label} ${kind}: empty`);
    r[kind] = await wrk(url, { headers: s.auth });
  }
  const probe = join(dir, 'probe.lua');
  const prefix = new URL(`${s.api}/maven/org/absent/`).pathname;
  await writeFile(
    probe,
    `local n = 0\nrequest = function()\n  n = n + 1\n  return wrk.format(nil, "${prefix}a" .. n .. "/1.0/a" .. n .. "-1.0.pom")\nend\n`,
  );
  r.maven404 = await wrk(s.urls.maven, { connections: 20, headers: s.auth, script: probe });
  const registry = `${s.api}/npm/@hot%2fpub`;
  r.publish1 = await publishRate(registry, s.auth, '@hot/pub', 1);
  r.publish4 = await publishRate(registry, s.auth, '@hot/pub', 4);
  return r;
}

async function main() {
  const dir = await mkdtemp(join(tmpdir(), 'stowage-hot-path-'));
  atExit(() => rm(dir, { recursive: true, force: true }));
  const builds = [{ label: 'now', main: MAIN }, ...(BEFORE ? [{ label: 'before', main: join(BEFORE, 'apps/server/dist/main.js') }] : [])];
  const results = {};
  for (const b of builds) {
    for (const postgres of [true, false]) {
      const key = `${b.label}-${postgres ? 'pg' : 'embedded'}`;
      const s = await startStowage(key, b.main, join(dir, key), { postgres });
      results[key] = postgres ? await measureStowage(s, join(dir, key)) : { generic: await wrk(s.urls.generic, { headers: s.auth }) };
      results[key].startSeconds = s.startSeconds;
      await stopChild(s.server);
    }
  }
  const v = await startVerdaccio(join(dir, 'verdaccio'));
  for (const [kind, url] of Object.entries(v.urls)) {
    const bytes = (await must(url, { headers: kind === 'auth' ? v.auth : {} }, `Verdaccio ${kind}`)).body;
    if (!bytes.equals(v.npmFixture.bytes)) throw new Error(`Verdaccio ${kind}: the tarball's bytes differ`);
  }
  if ((await call(v.urls.auth)).status < 400)
    throw new Error('Verdaccio serves @hot/pkg anonymously: the authenticated figure would not be one');
  const verdaccio = {
    auth: await wrk(v.urls.auth, { headers: v.auth }),
    anon: await wrk(v.urls.anon),
    publish1: await publishRate(`${v.base}/@hot%2fpub`, v.auth, '@hot/pub', 1),
    publish4: await publishRate(`${v.base}/@hot%2fpub`, v.auth, '@hot/pub', 4),
  };
  await stopChild(v.server);

  const now = results['now-pg'];
  const before = results['before-pg'];
  const fmt = (n, d = 0) => (Number.isFinite(n) ? n.toFixed(d) : '-');
  const was = (label, get) => (before ? fmt(get(before)) : RECORDED[label] !== undefined ? `${RECORDED[label]} (recorded)` : '-');
  const rows = [
    [
      'npm tarball GET req/s',
      now.npm.rps,
      (x) => x.npm.rps,
      `Verdaccio auth ${fmt(verdaccio.auth.rps)} / anon ${fmt(verdaccio.anon.rps)}`,
      now.npm.rps / verdaccio.auth.rps,
      '≥ 2× auth, ≥ anon',
    ],
    [
      'generic 9 KB GET req/s',
      now.generic.rps,
      (x) => x.generic.rps,
      `Verdaccio auth ${fmt(verdaccio.auth.rps)}`,
      now.generic.rps / verdaccio.auth.rps,
      '≥ 2×',
    ],
    [
      'Maven jar GET req/s',
      now.maven.rps,
      (x) => x.maven.rps,
      `Verdaccio auth ${fmt(verdaccio.auth.rps)}`,
      now.maven.rps / verdaccio.auth.rps,
      '≥ 2×',
    ],
    [
      'PyPI wheel GET req/s',
      now.pypi.rps,
      (x) => x.pypi.rps,
      `Verdaccio auth ${fmt(verdaccio.auth.rps)}`,
      now.pypi.rps / verdaccio.auth.rps,
      '≥ 2×',
    ],
    ['Maven 404 probe p99 ms (20 conns)', now.maven404.p99, (x) => x.maven404.p99, '-', NaN, '< 20 ms'],
    [
      'npm publish 1 conn /s',
      now.publish1,
      (x) => x.publish1,
      `Verdaccio ${fmt(verdaccio.publish1)}`,
      now.publish1 / verdaccio.publish1,
      '≥ 1.5×',
    ],
    [
      'npm publish 4 conns /s',
      now.publish4,
      (x) => x.publish4,
      `Verdaccio ${fmt(verdaccio.publish4)}`,
      now.publish4 / verdaccio.publish4,
      '≥ 1.5×',
    ],
    [
      'embedded generic 9 KB GET req/s',
      results['now-embedded'].generic.rps,
      (_x) => results['before-embedded']?.generic.rps,
      `PostgreSQL mode ${fmt(now.generic.rps)}`,
      results['now-embedded'].generic.rps / now.generic.rps,
      '≥ 0.7×',
    ],
    [
      'embedded start s (fresh data dir)',
      results['now-embedded'].startSeconds,
      (_x) => results['before-embedded']?.startSeconds,
      '-',
      NaN,
      '≤ 3 s',
    ],
  ];
  console.log(
    `\nhot path, ${SECONDS} s per figure, wrk -t2, 10 connections unless said; load average ${loadavg()
      .map((l) => l.toFixed(1))
      .join(' ')}\n`,
  );
  console.log('| measure | before | now | reference (same run) | ratio | target |');
  console.log('|---|---|---|---|---|---|');
  for (const [label, value, get, ref, ratio, target] of rows) {
    const d = label.includes('p99') || label.includes(' s ') ? 1 : 0;
    console.log(
      `| ${label} | ${was(label, get)} | ${fmt(value, d)} | ${ref} | ${Number.isFinite(ratio) ? `${ratio.toFixed(2)}×` : ''} | ${target} |`,
    );
  }
  const errors = Object.values(results).flatMap((r) =>
    Object.entries(r)
      .filter(([k, x]) => k !== 'maven404' && x?.non2xx)
      .map(([, x]) => x),
  );
  if (errors.length) console.log(`\nnon-2xx answers seen: ${errors.map((e) => e.non2xx).join(', ')}`);
}

await runBench(main);
