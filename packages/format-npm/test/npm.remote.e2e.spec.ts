import { lstat, readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';

import {
  type FaultProxy,
  type PublishedNpmPackage,
  seedVerdaccio,
  startFaultProxy,
  startTestServer,
  startVerdaccio,
  testModes,
  type TestServer,
  type Verdaccio,
} from '@stowage/testkit';

import { npmFormat } from '../src';
import { ClientSandbox, expectOk, writePackage, yarnClassic } from './npm.clients';

const PRIVATE_INDEX = "module.exports = 'the private one';\n";
const WIDGET_INDEX = "module.exports = require('up-a');\n";
/** What every install below must put on disk: name@version → index.js. */
const EXPECTED: Record<string, string> = {
  '@acme/widget@1.0.0': WIDGET_INDEX,
  '@acme/private-thing@1.0.0': PRIVATE_INDEX,
  'up-a@1.0.0': 'module.exports = "up-a@1.0.0";\n',
  'up-b@1.1.0': 'module.exports = "up-b@1.1.0";\n',
  'up-c@1.0.0': 'module.exports = "up-c@1.0.0";\n',
  'up-d@3.0.0': 'module.exports = "up-d@3.0.0";\n',
  '@acme/util@2.0.0': 'module.exports = "@acme/util@2.0.0";\n',
};

/** Every package a client installed (npm and yarn hoist, pnpm keeps them under .pnpm), by name@version, with its index.js. */
async function installed(app: string): Promise<Record<string, string>> {
  const found: Record<string, string> = {};
  const visit = async (dir: string): Promise<void> => {
    const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
    if (entries.some((e) => e.name === 'package.json') && dir !== app) {
      const manifest = JSON.parse(await readFile(join(dir, 'package.json'), 'utf8'));
      found[`${manifest.name}@${manifest.version}`] = await readFile(join(dir, 'index.js'), 'utf8');
      return visit(join(dir, 'node_modules'));
    }
    for (const e of entries) {
      // pnpm links its top-level packages into .pnpm: the real directories are visited there.
      if (!e.isDirectory() || (await lstat(join(dir, e.name))).isSymbolicLink() || e.name === '.bin' || e.name === '.cache') continue;
      await visit(join(dir, e.name));
    }
  };
  await visit(join(app, 'node_modules'));
  return found;
}

// npm, pnpm and yarn 1 with Stowage's group endpoint (yarn: the project's) as their only registry: a package published
// to Stowage, its dependencies and others only on the upstream (a real Verdaccio behind a
// FaultProxy), and a private name that the upstream also has. Then the same with the upstream
// stopped. One mode: npm.remote.spec.ts covers both at the HTTP level.
describe('npm, pnpm and yarn with Stowage as their only registry, proxying Verdaccio', () => {
  let verdaccio: Verdaccio;
  let proxy: FaultProxy;
  let s: TestServer;
  let sb: ClientSandbox;
  let published: PublishedNpmPackage[];
  let npmrc: string;
  let yarnrc: string;
  let yarn: string;

  beforeAll(async () => {
    verdaccio = await startVerdaccio();
    published = await seedVerdaccio(verdaccio.url);
    proxy = await startFaultProxy(verdaccio.url);
    // TTL 0: every packument is revalidated, so the installs with the upstream stopped are served stale copies.
    s = await startTestServer({
      formats: [npmFormat],
      mode: testModes()[0],
      listen: true,
      config: { formats: { npm: { package_requests_forwarding: true, upstream: { url: proxy.url, metadata_ttl: 0, timeout: 5 } } } },
    });
    sb = await ClientSandbox.create();
    const yarnBin = await yarnClassic();
    if (!yarnBin) throw new Error('yarn@1 could not be installed from the npm registry');
    yarn = yarnBin;

    const user = await s.api.createUser('alice');
    const acme = await s.api.createGroup('acme');
    const lib = await s.api.createProject('lib', { namespaceId: acme.id });
    await s.api.addMember({ group: acme.id }, user.id, 40);
    const registry = `${s.url}/api/v4/groups/${acme.id}/-/packages/npm/`;
    const projectRegistry = `${s.url}/api/v4/projects/${lib.id}/packages/npm/`;
    // The token keyed on the host (sent for the group's and the project's URLs alike), and on the project for npm publish.
    const tokens = [s.url, projectRegistry].map((url) => `${url.replace(/^https?:/, '').replace(/\/?$/, '/')}:_authToken=${user.token}`);
    npmrc = [`registry=${registry}`, ...tokens, ''].join('\n');
    // yarn 1 sends a token only to URLs under its registry's path (and for unscoped names only with
    // always-auth), so the group's project-level tarball URLs would go without it: yarn uses the project's.
    yarnrc = [`registry=${projectRegistry}`, ...tokens, 'always-auth=true', ''].join('\n');
    await sb.writeNpmrc(npmrc.split('\n'));

    for (const [manifest, index] of [
      [{ name: '@acme/widget', version: '1.0.0', main: 'index.js', dependencies: { 'up-a': '^1.0.0' } }, WIDGET_INDEX],
      [{ name: '@acme/private-thing', version: '1.0.0', main: 'index.js' }, PRIVATE_INDEX],
    ] as const) {
      const dir = await sb.dir(`src-${manifest.name.replace('/', '_')}`);
      await writePackage(dir, manifest, { 'index.js': index });
      expectOk(await sb.npm(['publish', '--registry', projectRegistry], dir), `publish ${manifest.name}`);
    }
  }, 180_000);
  afterAll(async () => {
    await s?.close();
    await proxy?.close();
    await verdaccio?.dispose();
    await sb?.cleanup();
  });

  /** A project needing the local packages and upstream ones, the newest private-thing included (the upstream's is 9.9.9). */
  async function app(name: string, client: string): Promise<string> {
    const dir = await sb.dir(name);
    const dependencies = { '@acme/widget': '^1.0.0', 'up-d': '^3.0.0', '@acme/private-thing': '*' };
    await writePackage(dir, { name, version: '1.0.0', private: true, dependencies }, { '.npmrc': client === 'yarn' ? yarnrc : npmrc });
    return dir;
  }

  const clients: Record<string, (dir: string) => Promise<{ lockfile: string }>> = {
    npm: async (dir) => {
      expectOk(await sb.npm(['install'], dir), 'npm install');
      return { lockfile: 'package-lock.json' };
    },
    pnpm: async (dir) => {
      const store = await sb.dir(`pnpm-store-${Date.now()}`);
      expectOk(
        await sb.exec('pnpm', ['install', '--store-dir', store, '--config.minimum-release-age=0'], dir, {
          XDG_CACHE_HOME: join(store, 'cache'),
        }),
        'pnpm install',
      );
      return { lockfile: 'pnpm-lock.yaml' };
    },
    yarn: async (dir) => {
      const cache = await sb.dir(`yarn-cache-${Date.now()}`);
      expectOk(await sb.exec('node', [yarn, 'install', '--non-interactive', '--cache-folder', cache], dir), 'yarn install');
      return { lockfile: 'yarn.lock' };
    },
  };

  async function expectInstall(client: string, dir: string) {
    const { lockfile } = await clients[client](dir);
    expect({ client, installed: await installed(dir) }).toEqual({ client, installed: EXPECTED });
    const lock = await readFile(join(dir, lockfile), 'utf8');
    for (const p of published.filter((p) => `${p.name}@${p.version}` in EXPECTED)) {
      expect({ client, package: p.name, locked: lock.includes(p.integrity) }).toEqual({ client, package: p.name, locked: true });
    }
  }

  it.each(Object.keys(clients))('%s installs local and upstream packages, the local private name over the upstream’s', async (client) => {
    await expectInstall(client, await app(`${client}-online`, client));
    expect(proxy.count((path) => /private-thing|widget/.test(path))).toBe(0);
  });

  it('records each upstream tarball once in the cache', async () => {
    const files = (
      await s.api.inject({ url: '/api/v4/packages/remote_files?package_type=npm', headers: { authorization: `Bearer ${s.rootToken}` } })
    ).json();
    expect(files.map((f: { package_name: string; version: string }) => `${f.package_name}@${f.version}`).sort()).toEqual([
      '@acme/util@2.0.0',
      'up-a@1.0.0',
      'up-b@1.1.0',
      'up-c@1.0.0',
      'up-d@3.0.0',
    ]);
    for (const f of files) expect(proxy.count(new URL(f.upstream_url).pathname)).toBe(1);
  });

  it.each(Object.keys(clients))('%s installs the same again from Stowage alone, with the upstream stopped', async (client) => {
    await verdaccio.stop();
    const before = proxy.requests.length;
    await expectInstall(client, await app(`${client}-offline`, client));
    // Stowage did try (TTL 0) and got no answer: what was installed came from its cache.
    expect(proxy.requests.slice(before).every((r) => r.status === 0)).toBe(true);
    expect(proxy.count((path) => /private-thing|widget/.test(path))).toBe(0);
  });
});
