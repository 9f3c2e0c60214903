// npm packages the benchmarks generate, and Verdaccio's storage written straight from them:
// publishing thousands of versions through its API would take longer than the measuring.
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { join } from 'node:path';

import { root, spawnChild, waitReady } from './harness.mjs';

const { buildTar } = createRequire(join(root, 'packages/testkit/package.json'))('./dist/archives.js');

/** A package as a registry holds it: its manifest, tarball bytes and their digests. */
export function npmFixture(manifest) {
  const bytes = buildTar({
    'package/package.json': JSON.stringify(manifest, null, 2),
    'package/index.js': `module.exports = ${JSON.stringify(`${manifest.name}@${manifest.version}`)};\n`,
  });
  return {
    manifest,
    bytes,
    shasum: createHash('sha1').update(bytes).digest('hex'),
    integrity: `sha512-${createHash('sha512').update(bytes).digest('base64')}`,
  };
}

/** Verdaccio's local storage: `<storage>/<name>/package.json` (the packument) beside its tarballs. */
export async function writeVerdaccioStorage(storage, base, versions) {
  const byName = new Map();
  for (const f of versions) byName.set(f.manifest.name, [...(byName.get(f.manifest.name) ?? []), f]);
  for (const [name, list] of byName) {
    const dir = join(storage, name);
    await mkdir(dir, { recursive: true });
    const file = (f) => `${name.split('/').pop()}-${f.manifest.version}.tgz`;
    const now = new Date().toISOString();
    const doc = {
      name,
      versions: {},
      time: { created: now, modified: now },
      'dist-tags': { latest: list[list.length - 1].manifest.version },
      _uplinks: {},
      _distfiles: {},
      _attachments: {},
      _rev: `${list.length}-${randomBytes(8).toString('hex')}`,
    };
    for (const f of list) {
      doc.versions[f.manifest.version] = {
        ...f.manifest,
        _id: `${name}@${f.manifest.version}`,
        dist: { shasum: f.shasum, integrity: f.integrity, tarball: `${base}/${name}/-/${file(f)}` },
      };
      doc.time[f.manifest.version] = now;
      doc._attachments[file(f)] = { shasum: f.shasum, version: f.manifest.version };
      await writeFile(join(dir, file(f)), f.bytes);
    }
    await writeFile(join(dir, 'package.json'), JSON.stringify(doc, null, 2));
  }
}

/** Verdaccio's bin, from @stowage/testkit's devDependency. */
export function verdaccioBin() {
  const pkg = createRequire(join(root, 'packages/testkit/package.json')).resolve('verdaccio/package.json');
  return join(pkg, '..', 'bin/verdaccio');
}

/**
 * A Verdaccio on `port` over `storage`, anonymous read and publish; with `uplink` (a registry
 * URL) it proxies every name it does not hold there and caches what it fetches, as teams run it.
 */
export async function startVerdaccio(dir, { port, storage, uplink }) {
  const base = `http://127.0.0.1:${port}`;
  const config = join(dir, 'verdaccio.yaml');
  const proxy = uplink ? ', proxy: upstream' : '';
  await writeFile(
    config,
    [
      `storage: ${JSON.stringify(storage)}`,
      uplink ? `uplinks: { upstream: { url: ${JSON.stringify(uplink)}, maxage: 10m } }` : 'uplinks: {}',
      'packages:',
      `  '@*/*': { access: $all, publish: $all${proxy} }`,
      `  '**': { access: $all, publish: $all${proxy} }`,
      'web: { enable: false }',
      'log: { type: stdout, format: pretty, level: error }',
      'max_body_size: 100mb',
      '',
    ].join('\n'),
  );
  const server = spawnChild(process.execPath, [verdaccioBin(), '--config', config, '--listen', `127.0.0.1:${port}`], {
    cwd: dir,
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  await waitReady(server, `${base}/-/ping`);
  return { server, base, registry: `${base}/` };
}
