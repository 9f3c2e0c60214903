import { writeFile } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { join } from 'node:path';

import {
  createPipVenv,
  type FaultProxy,
  type PypiUpstreamTree,
  pypiUpstreamTree,
  startFaultProxy,
  startStaticHttp,
  startTestServer,
  type StaticHttp,
  type TestServer,
  type TestUser,
} from '@stowage/testkit';

import { pypiFormat } from '../src';
import { buildProject, type BuiltProject, cleanEnv, sh, tempDir } from './pypi.clients';

// Real pip and twine against Stowage whose only upstream is a PEP 503 tree of real wheels and
// sdists (python3 -m http.server) behind a fault proxy that counts what reaches it.
describe('pypi remote registry with real pip', () => {
  let tree: PypiUpstreamTree;
  let upstream: StaticHttp;
  let proxy: FaultProxy;
  let s: TestServer;
  let work: Awaited<ReturnType<typeof tempDir>>;
  let app: BuiltProject;
  let localBeta: BuiltProject;
  let dev: TestUser;
  let group: { id: number };
  let venvPython: string;
  const requests: string[] = [];

  const index = () => `http://__token__:${dev.token}@${new URL(s.url).host}/api/v4/groups/${group.id}/-/packages/pypi/simple`;
  const env = () => cleanEnv(work.path);
  const pip = (args: string[]) =>
    sh(venvPython, ['-m', 'pip', '--no-cache-dir', '--disable-pip-version-check', 'install', '--index-url', index(), ...args], {
      env: env(),
      cwd: work.path,
    });
  const installed = (out: { stdout: string }) => /Successfully installed (.*)/.exec(out.stdout)?.[1].split(' ').sort();
  const runIn = (target: string | null, code: string) =>
    sh(venvPython, ['-c', code], { env: cleanEnv(work.path, target ? { PYTHONPATH: target } : {}) });

  async function twine(project: { id: number }, files: string[]) {
    const out = await sh(
      'twine',
      ['upload', '--non-interactive', '--repository-url', `${s.url}/api/v4/projects/${project.id}/packages/pypi`, ...files],
      { env: cleanEnv(work.path, { TWINE_USERNAME: '__token__', TWINE_PASSWORD: dev.token }) },
    );
    if (out.code !== 0) throw new Error(`twine upload failed: ${out.stderr}${out.stdout}`);
  }

  beforeAll(async () => {
    work = await tempDir('pypi-remote-e2e-');
    tree = await pypiUpstreamTree();
    upstream = await startStaticHttp(tree.root);
    proxy = await startFaultProxy(upstream.url);
    let venv;
    [s, app, localBeta, venv] = await Promise.all([
      startTestServer({
        formats: [pypiFormat],
        mode: 'postgres',
        listen: true,
        // Every page read revalidates with the upstream, so stopping it shows at once.
        config: { formats: { pypi: { package_requests_forwarding: true, upstream: { url: `${proxy.url}/simple/`, metadata_ttl: 0 } } } },
      }),
      buildProject(work.path, {
        name: 'stowage-app',
        module: 'stowage_app',
        version: '1.0',
        // Not 1.1: Debian's pip (23.0.1) discards its wheel, whose metadata spells the name `up_Alpha`
        // ("inconsistent Name", straight from the upstream too), and would build the sdist instead.
        deps: ['up-alpha>=1,<1.1'],
        body: 'import up_alpha, up_beta\n\ndef main():\n    return f"app on up_alpha {up_alpha.VERSION} and up_beta {up_beta.VERSION}"\n',
      }),
      // A private package that happens to share its name with one on the upstream.
      buildProject(work.path, { name: 'up-beta', module: 'up_beta', version: '5.0', body: 'VERSION = "5.0, ours"\n' }),
      // A fresh venv without the system's packages: everything it gets comes through Stowage.
      createPipVenv(join(work.path, 'venv')),
    ]);
    venvPython = venv.python;
    s.app.getHttpServer().on('request', (req: IncomingMessage, res: ServerResponse) => {
      res.on('finish', () => requests.push(`${req.method} ${req.url} ${res.statusCode}`));
    });
    dev = await s.api.createUser('dev');
    group = await s.api.createGroup('acme');
    await s.api.addMember({ group: group.id }, dev.id, 30);
    const libs = await s.api.createProject('libs', { namespaceId: group.id });
    await twine(libs, [app.wheel, app.sdist]);
  }, 240_000);

  afterAll(async () => {
    await s?.close();
    await proxy?.close();
    await upstream?.stop();
    await work?.remove();
  });

  it('installs a local package and its upstream dependencies from the group index alone', async () => {
    const out = await pip(['stowage-app']);
    expect(out.stderr).not.toMatch(/ERROR/);
    // up-beta 2.0 declares Requires-Python <3: the escaped data-requires-python made pip skip it.
    expect(installed(out)).toEqual(['stowage-app-1.0', 'up-alpha-1.0', 'up-beta-1.0']);
    const ran = await runIn(null, 'import stowage_app; print(stowage_app.main())');
    expect(ran.stdout.trim()).toBe('app on up_alpha 1.0 and up_beta 1.0');
    // Each upstream file was fetched once, through Stowage's remote route.
    for (const f of [tree.file('up-alpha', '1.0', 'wheel'), tree.file('up-beta', '1.0', 'wheel')]) {
      expect(proxy.count(`/${f.path}`)).toBe(1);
      expect(requests.some((r) => r.includes(`/remote/${f.project}/${f.sha256}/${f.filename} `))).toBe(true);
    }
  });

  it('passes hash-checking mode with the upstream’s own hashes', async () => {
    const hash = (name: string, version: string) => `--hash=sha256:${tree.file(name, version, 'wheel').sha256}`;
    const appSha = (await sh('sha256sum', [app.wheel])).stdout.split(' ')[0];
    const requirements = join(work.path, 'requirements.txt');
    await writeFile(
      requirements,
      [
        `stowage-app==1.0 --hash=sha256:${appSha}`,
        `up-alpha==1.0 ${hash('up-alpha', '1.0')}`,
        `up-beta==1.0 ${hash('up-beta', '1.0')}`,
        '',
      ].join('\n'),
    );
    const target = join(work.path, 'hashed');
    const out = await pip(['--require-hashes', '-r', requirements, '--target', target]);
    expect(out.stderr).not.toMatch(/ERROR/);
    expect(installed(out)).toEqual(['stowage-app-1.0', 'up-alpha-1.0', 'up-beta-1.0']);
  });

  it('installs again from Stowage’s cache with the upstream stopped, and fails clearly for what it never fetched', async () => {
    await upstream.stop();
    try {
      requests.length = 0;
      const target = join(work.path, 'offline');
      const out = await pip(['stowage-app', '--target', target]);
      expect(out.stderr).not.toMatch(/ERROR/);
      expect(installed(out)).toEqual(['stowage-app-1.0', 'up-alpha-1.0', 'up-beta-1.0']);
      expect((await runIn(target, 'import stowage_app; print(stowage_app.main())')).stdout.trim()).toBe(
        'app on up_alpha 1.0 and up_beta 1.0',
      );
      const page = await fetch(`${s.url}/api/v4/groups/${group.id}/-/packages/pypi/simple/up-alpha/`, {
        headers: { authorization: `Basic ${Buffer.from(`__token__:${dev.token}`).toString('base64')}` },
      });
      expect(page.status).toBe(200);
      expect(page.headers.get('warning')).toBe('111 stowage "Revalidation Failed"');

      const never = await pip(['never-fetched', '--target', join(work.path, 'never')]);
      expect(never.code).not.toBe(0);
      expect(never.stderr).toMatch(/No matching distribution found for never-fetched/);
      expect(requests).toContain(`GET /api/v4/groups/${group.id}/-/packages/pypi/simple/never-fetched/ 502`);
      expect(requests.filter((r) => / 500$/.test(r))).toEqual([]);
    } finally {
      await upstream.restart();
    }
  });

  it('resolves a local name that also exists upstream to the local one only, never asking the upstream', async () => {
    const forks = await s.api.createProject('forks', { namespaceId: group.id });
    await twine(forks, [localBeta.wheel]);
    proxy.clearLog();
    const target = join(work.path, 'local-first');
    const out = await pip(['stowage-app', '--target', target]);
    expect(out.stderr).not.toMatch(/ERROR/);
    expect(installed(out)).toEqual(['stowage-app-1.0', 'up-alpha-1.0', 'up-beta-5.0']);
    expect((await runIn(target, 'import up_beta; print(up_beta.VERSION)')).stdout.trim()).toBe('5.0, ours');
    expect(proxy.requests.filter((r) => /up[-_]beta/i.test(r.path))).toEqual([]);
  });
});
