import { createHash } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { basename, join } from 'node:path';

import { objectStoreMode, startTestServer, type TestServer, type TestUser } from '@stowage/testkit';

import { pypiFormat } from '../src';
import { buildProject, type BuiltProject, cleanEnv, PYTHON, sh, tempDir } from './pypi.clients';

/** What a file download answers in the request log: bytes, or a redirect to object storage. */
const served = objectStoreMode() ? 302 : 200;

// Real twine and pip against a running server. One mode: pypi.api.spec.ts covers both at the HTTP level.
describe('pypi with real twine and pip', () => {
  let s: TestServer;
  let work: Awaited<ReturnType<typeof tempDir>>;
  let helper: BuiltProject;
  let demo: BuiltProject;
  let user: TestUser;
  let group: { id: number; full_path: string };
  let libs: { id: number };
  let apps: { id: number };
  let venvPython: string;
  const requests: string[] = [];

  const base = () => new URL(s.url);
  const index = (path: string) => `http://__token__:${user.token}@${base().host}/api/v4/${path}/packages/pypi/simple`;
  const env = () => cleanEnv(work.path);

  async function pip(args: string[]) {
    return sh(venvPython, ['-m', 'pip', '--no-cache-dir', '--disable-pip-version-check', ...args], { env: env(), cwd: work.path });
  }

  beforeAll(async () => {
    work = await tempDir('pypi-e2e-');
    const [server, built1, built2, venv] = await Promise.all([
      startTestServer({ formats: [pypiFormat], mode: 'postgres', listen: true }),
      buildProject(work.path, {
        name: 'stowage-helper',
        module: 'stowage_helper',
        version: '1.0',
        body: 'def greet():\n    return "hello from helper"\n',
      }),
      buildProject(work.path, {
        name: 'stowage_demo',
        module: 'stowage_demo',
        version: '1.0.0',
        deps: ['stowage-helper>=1.0'],
        body: 'from stowage_helper import greet\n\ndef main():\n    return greet() + " via demo"\n',
      }),
      sh(PYTHON, ['-m', 'venv', '--system-site-packages', join(work.path, 'venv')], { env: cleanEnv(work.path) }),
    ]);
    s = server;
    helper = built1;
    demo = built2;
    if (venv.code !== 0) throw new Error(venv.stderr);
    venvPython = join(work.path, 'venv', 'bin', 'python');
    // The server's request log: method, path and final status of every request.
    s.app.getHttpServer().on('request', (req: IncomingMessage, res: ServerResponse) => {
      res.on('finish', () => requests.push(`${req.method} ${req.url} ${res.statusCode}`));
    });

    user = await s.api.createUser('pydev');
    group = await s.api.createGroup('pyteam');
    libs = await s.api.createProject('libs', { namespaceId: group.id });
    apps = await s.api.createProject('apps', { namespaceId: group.id });
    await s.api.addMember({ group: group.id }, user.id, 30);
  }, 120_000);

  afterAll(async () => {
    await s?.close();
    await work?.remove();
  });

  it('twine uploads a wheel and an sdist with a .pypirc', async () => {
    const pypirc = join(work.path, '.pypirc');
    await writeFile(
      pypirc,
      `[distutils]\nindex-servers =\n    stowage\n\n[stowage]\nrepository = ${s.url}/api/v4/projects/${libs.id}/packages/pypi\nusername = __token__\npassword = ${user.token}\n`,
    );
    const out = await sh(
      'twine',
      ['upload', '--non-interactive', '--config-file', pypirc, '--repository', 'stowage', helper.wheel, helper.sdist],
      { env: env() },
    );
    expect(out.stderr + out.stdout).not.toMatch(/error/i);
    expect(out.code).toBe(0);
    const list = await s.api.inject({ url: `/api/v4/projects/${libs.id}/packages`, token: user.token });
    expect(list.json().map((p: { name: string; version: string }) => `${p.name} ${p.version}`)).toEqual(['stowage-helper 1.0']);
  });

  it('twine uploads with --repository-url and token environment variables', async () => {
    const out = await sh(
      'twine',
      [
        'upload',
        '--non-interactive',
        '--repository-url',
        `${s.url}/api/v4/projects/${encodeURIComponent(`pyteam/apps`)}/packages/pypi`,
        demo.wheel,
        demo.sdist,
      ],
      {
        env: cleanEnv(work.path, { TWINE_USERNAME: '__token__', TWINE_PASSWORD: user.token }),
      },
    );
    expect(out.code).toBe(0);
  });

  it('twine shows why a duplicate is refused, and --skip-existing skips it', async () => {
    const args = ['upload', '--non-interactive', '--repository-url', `${s.url}/api/v4/projects/${apps.id}/packages/pypi`];
    const envWithToken = cleanEnv(work.path, { TWINE_USERNAME: '__token__', TWINE_PASSWORD: user.token });
    const again = await sh('twine', [...args, demo.wheel], { env: envWithToken });
    expect(again.code).not.toBe(0);
    const shown = (again.stderr + again.stdout).replace(/\s+/g, ' ');
    expect(shown).toMatch(/HTTPError: 400 Bad Request from/);
    expect(shown).toContain('Validation failed: File name has already been taken');
    const skip = await sh('twine', [...args, '--skip-existing', demo.wheel], { env: envWithToken });
    expect(skip.code).toBe(0);
    expect((skip.stderr + skip.stdout).replace(/\s+/g, ' ')).toMatch(
      /Skipping stowage_demo-1\.0\.0-py3-none-any\.whl because it appears to already exist/,
    );
  });

  it('twine is refused with a wrong token', async () => {
    const out = await sh(
      'twine',
      ['upload', '--non-interactive', '--repository-url', `${s.url}/api/v4/projects/${apps.id}/packages/pypi`, demo.sdist],
      {
        env: cleanEnv(work.path, { TWINE_USERNAME: '__token__', TWINE_PASSWORD: 'wrong' }),
      },
    );
    expect(out.code).not.toBe(0);
    expect(out.stderr + out.stdout).toMatch(/403|401/);
  });

  it('pip resolves with PEP 658 metadata from the group index, without downloading the wheels', async () => {
    requests.length = 0;
    const out = await pip(['install', '--dry-run', '--index-url', index(`groups/${group.id}/-`), 'stowage-demo']);
    expect(out.stderr).not.toMatch(/error/i);
    expect(out.stdout).toMatch(
      /Would install stowage-demo-1\.0\.0 stowage-helper-1\.0|Would install stowage_demo-1\.0\.0 stowage-helper-1\.0/,
    );
    const metadata = requests.filter((r) => new RegExp(` \\S+\\.whl\\.metadata ${served}$`).test(r));
    expect(metadata).toHaveLength(2);
    // Resolving (both project pages and both metadata files) finished before any wheel was fetched.
    const firstWheel = requests.findIndex((r) => new RegExp(` \\S+\\.whl ${served}$`).test(r));
    const lastResolveStep = Math.max(...requests.map((r, i) => (/\/simple\/|\.metadata /.test(r) ? i : -1)));
    expect(requests.filter((r) => r.includes('/simple/'))).toHaveLength(2);
    if (firstWheel >= 0) expect(firstWheel).toBeGreaterThan(lastResolveStep);
  });

  it('pip installs from the group index and the installed module runs', async () => {
    const target = join(work.path, 'group-install');
    const out = await pip(['install', '--target', target, '--index-url', index(`groups/${group.id}/-`), 'stowage-demo']);
    expect(out.code).toBe(0);
    const runIt = await sh(venvPython, ['-c', 'import stowage_demo; print(stowage_demo.main())'], {
      env: cleanEnv(work.path, { PYTHONPATH: target }),
    });
    expect(runIt.stdout.trim()).toBe('hello from helper via demo');
  });

  it('pip installs from a project index with --extra-index-url for the dependency', async () => {
    const target = join(work.path, 'project-install');
    const out = await pip([
      'install',
      '--target',
      target,
      '--index-url',
      index(`projects/${apps.id}`),
      '--extra-index-url',
      index(`projects/${libs.id}`),
      'stowage-demo==1.0',
    ]);
    expect(out.code).toBe(0);
    const runIt = await sh(venvPython, ['-c', 'import stowage_demo; print(stowage_demo.main())'], {
      env: cleanEnv(work.path, { PYTHONPATH: target }),
    });
    expect(runIt.stdout.trim()).toBe('hello from helper via demo');
  });

  it('pip installs the sdist (no build dependencies needed beyond the venv)', async () => {
    const target = join(work.path, 'sdist-install');
    const out = await pip([
      'install',
      '--target',
      target,
      '--no-deps',
      '--no-binary',
      ':all:',
      '--no-build-isolation',
      '--index-url',
      index(`projects/${libs.id}`),
      'stowage-helper',
    ]);
    expect(out.stderr).not.toMatch(/ERROR/);
    expect(requests.some((r) => new RegExp(` \\S+/stowage-helper-1\\.0\\.tar\\.gz ${served}$`).test(r))).toBe(true);
    const runIt = await sh(venvPython, ['-c', 'import stowage_helper; print(stowage_helper.greet())'], {
      env: cleanEnv(work.path, { PYTHONPATH: target }),
    });
    expect(runIt.stdout.trim()).toBe('hello from helper');
  });

  it('pip download fetches the exact uploaded bytes', async () => {
    const dest = join(work.path, 'downloads');
    const out = await pip([
      'download',
      '--no-deps',
      '--only-binary',
      ':all:',
      '-d',
      dest,
      '--index-url',
      index(`projects/${libs.id}`),
      'stowage-helper',
    ]);
    expect(out.code).toBe(0);
    const sha = async (p: string) =>
      createHash('sha256')
        .update(await readFile(p))
        .digest('hex');
    expect(await sha(join(dest, basename(helper.wheel)))).toBe(await sha(helper.wheel));
  });

  it('pip without credentials is challenged and fails clearly on a private index', async () => {
    requests.length = 0;
    const out = await pip([
      'download',
      '--no-deps',
      '-d',
      join(work.path, 'anon'),
      '--index-url',
      `${s.url}/api/v4/projects/${libs.id}/packages/pypi/simple`,
      'stowage-helper',
    ]);
    expect(out.code).not.toBe(0);
    expect(out.stderr).toMatch(/No matching distribution found for stowage-helper/);
    expect(requests).toContain(`GET /api/v4/projects/${libs.id}/packages/pypi/simple/stowage-helper/ 401`);
  });
});
