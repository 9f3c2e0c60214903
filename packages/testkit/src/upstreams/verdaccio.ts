import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';

import { type ChildServer, startChildServer } from './child-server';
import { npmFreeEnv } from './npm-client';

const run = promisify(execFile);

export interface VerdaccioOptions {
  /** Where its config and storage go; a fresh temp dir (removed by dispose()) when absent. */
  dir?: string;
  /** Verdaccio's log level (its own log is kept in `output()`); default `warn`. */
  logLevel?: 'fatal' | 'error' | 'warn' | 'info' | 'http' | 'trace';
}

export interface Verdaccio extends ChildServer {
  /** Its storage directory: `<storage>/<name>/package.json` beside the tarballs. */
  storage: string;
  configPath: string;
  /** stop(), then removes the temp dir it made (a `dir` given in the options is left alone). */
  dispose(): Promise<void>;
}

/**
 * A real Verdaccio 6 (the @stowage/testkit devDependency) as a child process of this Node on
 * a free port of 127.0.0.1: its own storage, no uplinks (so it never reaches out), and
 * anonymous read and publish for every name. restart() keeps the port and the storage.
 */
export async function startVerdaccio(opts: VerdaccioOptions = {}): Promise<Verdaccio> {
  const dir = opts.dir ?? (await mkdtemp(join(tmpdir(), 'stowage-verdaccio-')));
  const storage = join(dir, 'storage');
  await mkdir(storage, { recursive: true });
  const configPath = join(dir, 'config.yaml');
  await writeFile(
    configPath,
    [
      `storage: ${JSON.stringify(storage)}`,
      'uplinks: {}',
      'packages:',
      "  '@*/*': { access: $all, publish: $all, unpublish: $all }",
      "  '**': { access: $all, publish: $all, unpublish: $all }",
      // No `middlewares: audit`: the audit plugin forwards to the public registry.
      'web: { enable: false }',
      `log: { type: stdout, format: json, level: ${opts.logLevel ?? 'warn'} }`,
      'max_body_size: 100mb',
      '',
    ].join('\n'),
  );
  const bin = join(dirname(require.resolve('verdaccio/package.json')), 'bin/verdaccio');
  const server = await startChildServer({
    name: 'verdaccio',
    command: process.execPath,
    args: (port) => [bin, '--config', configPath, '--listen', `127.0.0.1:${port}`],
    cwd: dir,
    env: npmFreeEnv(),
    readyPath: '/-/ping',
  });
  return {
    ...server,
    storage,
    configPath,
    dispose: async () => {
      await server.stop();
      if (!opts.dir) await rm(dir, { recursive: true, force: true });
    },
  };
}

export interface NpmPackageSpec {
  name: string;
  version: string;
  dependencies?: Record<string, string>;
  /** Files of the package besides package.json; default `index.js` exporting its name and version. */
  files?: Record<string, string | Buffer>;
  /** The dist-tag it is published under (npm's default: latest). */
  tag?: string;
  /** More package.json fields (description, bin, …). */
  manifest?: Record<string, unknown>;
}

export interface PublishedNpmPackage {
  name: string;
  version: string;
  /** As the upstream's packument records them. */
  integrity: string;
  shasum: string;
  tarball: string;
}

/**
 * A small graph of packages that depend on each other, published in this order: `up-a@1.0.0`
 * needs `up-b@^1` (1.0.0 and 1.1.0 exist, both needing `up-c@^1`), `up-d` needs `up-a` and the
 * scoped `@acme/util`, and `@acme/private-thing@9.9.9` is a scoped name a test can also
 * publish privately (dependency confusion).
 */
export const DEFAULT_NPM_UPSTREAM_PACKAGES: readonly NpmPackageSpec[] = [
  { name: 'up-c', version: '1.0.0' },
  { name: 'up-b', version: '1.0.0', dependencies: { 'up-c': '^1.0.0' } },
  { name: 'up-b', version: '1.1.0', dependencies: { 'up-c': '^1.0.0' } },
  { name: 'up-a', version: '1.0.0', dependencies: { 'up-b': '^1.0.0' } },
  { name: '@acme/util', version: '2.0.0' },
  { name: 'up-d', version: '3.0.0', dependencies: { 'up-a': '^1.0.0', '@acme/util': '^2.0.0' } },
  { name: '@acme/private-thing', version: '9.9.9', files: { 'index.js': "module.exports = 'the public impostor';\n" } },
];

/**
 * Publishes `packages` to the registry at `url` with the real npm CLI (`npm publish` packs a
 * real tarball from a directory), anonymously: npm insists on a token, so it gets a
 * placeholder that Verdaccio ignores. Versions of one name go in the order given, names two
 * at a time. Returns what the registry then records for each (integrity, shasum, tarball URL).
 */
export async function seedVerdaccio(
  url: string,
  packages: readonly NpmPackageSpec[] = DEFAULT_NPM_UPSTREAM_PACKAGES,
): Promise<PublishedNpmPackage[]> {
  const work = await mkdtemp(join(tmpdir(), 'stowage-npm-seed-'));
  const registry = url.endsWith('/') ? url : `${url}/`;
  try {
    const npmrc = join(work, 'npmrc');
    await writeFile(npmrc, `registry=${registry}\n//${new URL(registry).host}/:_authToken=anonymous\n`);
    const env = npmFreeEnv({ npm_config_userconfig: npmrc, npm_config_cache: join(work, 'cache') });
    const byName = new Map<string, NpmPackageSpec[]>();
    for (const p of packages) byName.set(p.name, [...(byName.get(p.name) ?? []), p]);
    const queue = [...byName.values()];
    const publishAll = async () => {
      for (let list = queue.shift(); list; list = queue.shift()) {
        for (const spec of list) await publishOne(work, spec, env, registry);
      }
    };
    await Promise.all([publishAll(), publishAll()]);
    return await Promise.all(packages.map((p) => publishedDist(registry, p)));
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

async function publishOne(work: string, spec: NpmPackageSpec, env: NodeJS.ProcessEnv, registry: string) {
  const dir = join(work, `${spec.name.replace('/', '+')}@${spec.version}`);
  await mkdir(dir, { recursive: true });
  const files = spec.files ?? { 'index.js': `module.exports = ${JSON.stringify(`${spec.name}@${spec.version}`)};\n` };
  const manifest = { name: spec.name, version: spec.version, main: 'index.js', license: 'MIT', ...spec.manifest };
  if (spec.dependencies) Object.assign(manifest, { dependencies: spec.dependencies });
  await writeFile(join(dir, 'package.json'), JSON.stringify(manifest, null, 2));
  for (const [name, data] of Object.entries(files)) {
    await mkdir(dirname(join(dir, name)), { recursive: true });
    await writeFile(join(dir, name), data);
  }
  const args = ['publish', dir, '--registry', registry, '--access', 'public', '--ignore-scripts', '--loglevel', 'error'];
  if (spec.tag) args.push('--tag', spec.tag);
  try {
    await run('npm', args, { cwd: work, env, timeout: 60_000 });
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string; message: string };
    throw new Error(`npm publish ${spec.name}@${spec.version} to ${registry} failed: ${e.message}\n${e.stdout ?? ''}${e.stderr ?? ''}`);
  }
}

async function publishedDist(registry: string, spec: NpmPackageSpec): Promise<PublishedNpmPackage> {
  const res = await fetch(`${registry}${spec.name.replace('/', '%2f')}`, { headers: { accept: 'application/json' } });
  if (!res.ok) throw new Error(`${spec.name}: the registry answered ${res.status} after publishing`);
  const doc = (await res.json()) as { versions?: Record<string, { dist: { integrity: string; shasum: string; tarball: string } }> };
  const dist = doc.versions?.[spec.version]?.dist;
  if (!dist) throw new Error(`${spec.name}@${spec.version} is not in the registry's packument after publishing`);
  return { name: spec.name, version: spec.version, integrity: dist.integrity, shasum: dist.shasum, tarball: dist.tarball };
}
