import { createHash } from 'node:crypto';
import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';

import { startTestServer, testModes, type TestServer } from '@stowage/testkit';

import { npmFormat } from '../src';
import { ClientSandbox, expectOk, writePackage, yarnClassic } from './npm.clients';

// Real clients against a running server, in the first configured mode: npm.api.spec.ts covers
// both modes over HTTP.
describe('npm client against Stowage', () => {
  let s: TestServer;
  let sb: ClientSandbox;
  let projectId: number;
  let groupId: number;
  let token: string;
  let hostKey: string;
  let projectRegistry: string;
  const widgetIndex = `module.exports = 'widget ${Date.now()}';\n`;

  beforeAll(async () => {
    s = await startTestServer({ formats: [npmFormat], mode: testModes()[0], listen: true });
    sb = await ClientSandbox.create();
    const user = await s.api.createUser('alice');
    token = user.token;
    const group = await s.api.createGroup('acme');
    groupId = group.id;
    const project = await s.api.createProject('lib', { namespaceId: group.id });
    projectId = project.id;
    await s.api.addMember({ group: group.id }, user.id, 40);
    hostKey = s.url.replace(/^https?:/, '');
    projectRegistry = `${s.url}/api/v4/projects/${projectId}/packages/npm/`;
    // GitLab's documented form: the scope points at the project, the token is keyed on its path.
    await sb.writeNpmrc([`@acme:registry=${projectRegistry}`, `${projectRegistry.replace(/^https?:/, '')}:_authToken=${token}`]);
  });
  afterAll(async () => {
    await s?.close();
    await sb?.cleanup();
  });

  async function publish(manifest: Record<string, unknown>, files: Record<string, string>, extra: string[] = []) {
    const dir = await sb.dir(`src-${String(manifest.name).replace('/', '_')}-${String(manifest.version)}`);
    await writePackage(dir, manifest, files);
    return sb.npm(['publish', '--registry', projectRegistry, ...extra], dir);
  }

  it('publishes scoped and unscoped packages with a token from .npmrc', async () => {
    expectOk(await publish({ name: '@acme/widget', version: '1.0.0', main: 'index.js' }, { 'index.js': widgetIndex }), 'publish 1.0.0');
    expectOk(
      await publish(
        { name: '@acme/widget', version: '1.1.0', main: 'index.js', dependencies: { 'plain-pkg': '^1.0.0' } },
        { 'index.js': `${widgetIndex}// 1.1\n` },
      ),
      'publish 1.1.0',
    );
    expectOk(await publish({ name: '@acme/widget', version: '2.0.0-beta.1' }, { 'index.js': 'beta' }, ['--tag', 'beta']), 'publish beta');
    // Unscoped: no scope mapping, so the registry comes from the command line.
    expectOk(
      await publish(
        { name: 'plain-pkg', version: '1.0.0', description: 'a plain package' },
        { 'index.js': 'plain', 'README.md': '# Plain\n\nA *plain* package.\n' },
      ),
      'publish plain',
    );
    // npm sends README.md with the publish: the web UI's package page shows it (packuments never carry it).
    const [plain] = (await s.api.inject({ url: `/api/v4/projects/${projectId}/packages?package_name=plain-pkg`, token: s.rootToken })).json<
      { id: number }[]
    >();
    const overview = await s.api.inject({ url: `/api/v4/projects/${projectId}/packages/${plain.id}/overview`, token: s.rootToken });
    expect(overview.json()).toMatchObject({
      readme: '# Plain\n\nA *plain* package.\n',
      metadata: [{ label: 'Description', value: 'a plain package' }, expect.anything()],
    });

    const again = await publish({ name: '@acme/widget', version: '1.0.0' }, { 'index.js': 'other bytes' });
    expect(again.code).not.toBe(0);
    // npm 11 refuses locally from the packument; the server's own 403 is in npm.api.spec.ts.
    expect(again.stderr).toContain('You cannot publish over the previously published versions: 1.0.0');
  });

  it('installs into a clean directory with the published bytes, and npm ci verifies the lockfile', async () => {
    const app = await sb.dir('app');
    await writePackage(app, { name: 'app', version: '1.0.0', private: true }, {});
    expectOk(await sb.npm(['install', '@acme/widget@1.1.0', '--registry', projectRegistry], app), 'install');
    expect(await readFile(join(app, 'node_modules/@acme/widget/index.js'), 'utf8')).toBe(`${widgetIndex}// 1.1\n`);
    expect(await readFile(join(app, 'node_modules/plain-pkg/index.js'), 'utf8')).toBe('plain');

    const lock = JSON.parse(await readFile(join(app, 'package-lock.json'), 'utf8'));
    const locked = lock.packages['node_modules/@acme/widget'];
    expect(locked.resolved).toBe(`${s.url}/api/v4/projects/${projectId}/packages/npm/@acme/widget/-/@acme/widget-1.1.0.tgz`);
    const tarball = await fetch(locked.resolved, { headers: { authorization: `Bearer ${token}` } });
    const bytes = Buffer.from(await tarball.arrayBuffer());
    expect(locked.integrity).toBe(`sha512-${createHash('sha512').update(bytes).digest('base64')}`);

    await rm(join(app, 'node_modules'), { recursive: true });
    expectOk(await sb.npm(['ci', '--registry', projectRegistry], app), 'npm ci');
    expect(await readFile(join(app, 'node_modules/@acme/widget/index.js'), 'utf8')).toBe(`${widgetIndex}// 1.1\n`);
  });

  it('manages dist-tags', async () => {
    const cwd = await sb.dir('tags');
    expectOk(await sb.npm(['dist-tag', 'add', '@acme/widget@1.0.0', 'stable'], cwd), 'dist-tag add');
    const ls = await sb.npm(['dist-tag', 'ls', '@acme/widget'], cwd);
    expectOk(ls, 'dist-tag ls');
    expect(ls.stdout.split('\n').filter(Boolean).sort()).toEqual(['beta: 2.0.0-beta.1', 'latest: 1.1.0', 'stable: 1.0.0']);
    expectOk(await sb.npm(['dist-tag', 'rm', '@acme/widget', 'stable'], cwd), 'dist-tag rm');
    const after = await sb.npm(['dist-tag', 'ls', '@acme/widget'], cwd);
    expect(after.stdout).not.toContain('stable');
  });

  it('deprecates a version and npm warns on install', async () => {
    const cwd = await sb.dir('deprecate');
    expectOk(await sb.npm(['deprecate', '@acme/widget@1.0.0', 'use 1.1.0 instead'], cwd), 'deprecate');
    const app = await sb.dir('app-deprecated');
    await writePackage(app, { name: 'app2', version: '1.0.0', private: true }, {});
    const install = await sb.npm(['install', '@acme/widget@1.0.0'], app);
    expectOk(install, 'install deprecated');
    expect(install.stderr).toContain('deprecated @acme/widget@1.0.0: use 1.1.0 instead');
    expect(await readFile(join(app, 'node_modules/@acme/widget/index.js'), 'utf8')).toBe(widgetIndex);
  });

  it('installs from group and instance scope with a host-wide token', async () => {
    for (const [label, registry] of [
      ['group', `${s.url}/api/v4/groups/${groupId}/-/packages/npm/`],
      ['instance', `${s.url}/api/v4/packages/npm/`],
    ] as const) {
      const scoped = await ClientSandbox.create();
      try {
        await scoped.writeNpmrc([`@acme:registry=${registry}`, `${hostKey}/:_authToken=${token}`]);
        const app = await scoped.dir('app');
        await writePackage(app, { name: 'app3', version: '1.0.0', private: true }, {});
        // plain-pkg (a dependency) is unscoped: it comes from the project registry given as the default.
        expectOk(await scoped.npm(['install', '@acme/widget@1.1.0', '--registry', projectRegistry], app), `${label} install`);
        expect(await readFile(join(app, 'node_modules/@acme/widget/index.js'), 'utf8')).toBe(`${widgetIndex}// 1.1\n`);
        // dist-tags work through the same scope URL.
        expectOk(await scoped.npm(['dist-tag', 'add', '@acme/widget@1.0.0', `via-${label}`], app), `${label} dist-tag add`);
        expect((await scoped.npm(['dist-tag', 'ls', '@acme/widget'], app)).stdout).toContain(`via-${label}: 1.0.0`);
        expectOk(await scoped.npm(['dist-tag', 'rm', '@acme/widget', `via-${label}`], app), `${label} dist-tag rm`);
      } finally {
        await scoped.cleanup();
      }
    }
  });

  it('answers npm view, npm search, whoami and ping', async () => {
    const cwd = await sb.dir('view');
    const whoami = await sb.npm(['whoami', '--registry', projectRegistry], cwd);
    expectOk(whoami, 'whoami');
    expect(whoami.stdout.trim()).toBe('alice');
    expectOk(await sb.npm(['ping', '--registry', projectRegistry], cwd), 'ping');
    const view = await sb.npm(['view', '@acme/widget', '--json'], cwd);
    expectOk(view, 'view');
    const doc = JSON.parse(view.stdout);
    expect(doc.versions).toEqual(['1.0.0', '1.1.0', '2.0.0-beta.1']);
    expect(doc['dist-tags']).toEqual({ latest: '1.1.0', beta: '2.0.0-beta.1' });
    const search = await sb.npm(['search', 'plain', '--json', '--registry', projectRegistry], cwd);
    expectOk(search, 'search');
    expect(JSON.parse(search.stdout).map((p: { name: string; description: string }) => [p.name, p.description])).toEqual([
      ['plain-pkg', 'a plain package'],
    ]);
  });

  it('unpublishes one version, then a whole package', async () => {
    const cwd = await sb.dir('unpublish');
    expectOk(await sb.npm(['unpublish', '@acme/widget@2.0.0-beta.1'], cwd), 'unpublish version');
    const view = await sb.npm(['view', '@acme/widget', '--json'], cwd);
    expect(JSON.parse(view.stdout).versions).toEqual(['1.0.0', '1.1.0']);
    expect(JSON.parse(view.stdout)['dist-tags']).toEqual({ latest: '1.1.0' });

    expectOk(await sb.npm(['unpublish', 'plain-pkg', '--force', '--registry', projectRegistry], cwd), 'unpublish package');
    const gone = await sb.npm(['view', 'plain-pkg', '--registry', projectRegistry], cwd);
    expect(gone.code).not.toBe(0);
    expect(gone.stderr).toContain('E404');
  });
});

// pnpm and yarn read the same .npmrc as npm (GitLab's documented setup for both).
describe('pnpm and yarn against Stowage', () => {
  let s: TestServer;
  let sb: ClientSandbox;
  let registry: string;
  let npmrc: string[];

  beforeAll(async () => {
    s = await startTestServer({ formats: [npmFormat], mode: testModes()[0], listen: true });
    sb = await ClientSandbox.create();
    const user = await s.api.createUser('bob');
    const group = await s.api.createGroup('tools');
    const project = await s.api.createProject('js', { namespaceId: group.id });
    await s.api.addMember({ project: project.id }, user.id, 30);
    registry = `${s.url}/api/v4/projects/${project.id}/packages/npm/`;
    npmrc = [`@tools:registry=${registry}`, `${registry.replace(/^https?:/, '')}:_authToken=${user.token}`];
    await sb.writeNpmrc(npmrc);
  });
  afterAll(async () => {
    await s?.close();
    await sb?.cleanup();
  });

  async function consumer(name: string, dependency: string): Promise<string> {
    const app = await sb.dir(name);
    await writePackage(
      app,
      { name, version: '1.0.0', private: true, dependencies: { [dependency]: '^1.0.0' } },
      { '.npmrc': `${npmrc.join('\n')}\n` },
    );
    return app;
  }

  it('publishes and installs with pnpm', async () => {
    const src = await sb.dir('pnpm-src');
    await writePackage(
      src,
      { name: '@tools/from-pnpm', version: '1.0.0', main: 'index.js' },
      { 'index.js': 'pnpm bytes\n', '.npmrc': `${npmrc.join('\n')}\n` },
    );
    const store = join(sb.root, 'pnpm-store');
    expectOk(await sb.exec('pnpm', ['publish', '--no-git-checks'], src), 'pnpm publish');

    const app = await consumer('pnpm-app', '@tools/from-pnpm');
    expectOk(await sb.exec('pnpm', ['install', '--store-dir', store], app), 'pnpm install');
    expect(await readFile(join(app, 'node_modules/@tools/from-pnpm/index.js'), 'utf8')).toBe('pnpm bytes\n');
    const lock = await readFile(join(app, 'pnpm-lock.yaml'), 'utf8');
    expect(lock).toMatch(/integrity: sha512-/);
  });

  it('publishes and installs with yarn classic', async () => {
    const yarn = await yarnClassic();
    if (!yarn) throw new Error('yarn@1 could not be installed from the npm registry');
    const src = await sb.dir('yarn-src');
    await writePackage(
      src,
      { name: '@tools/from-yarn', version: '1.0.0', main: 'index.js' },
      { 'index.js': 'yarn bytes\n', '.npmrc': `${npmrc.join('\n')}\n` },
    );
    const cache = join(sb.root, 'yarn-cache');
    expectOk(
      await sb.exec(
        'node',
        [yarn, 'publish', '--non-interactive', '--new-version', '1.0.0', '--no-git-tag-version', '--cache-folder', cache],
        src,
      ),
      'yarn publish',
    );

    const app = await consumer('yarn-app', '@tools/from-yarn');
    expectOk(await sb.exec('node', [yarn, 'install', '--non-interactive', '--cache-folder', cache], app), 'yarn install');
    expect(await readFile(join(app, 'node_modules/@tools/from-yarn/index.js'), 'utf8')).toBe('yarn bytes\n');
    expect(await readFile(join(app, 'yarn.lock'), 'utf8')).toMatch(/integrity sha512-/);
  });
});
