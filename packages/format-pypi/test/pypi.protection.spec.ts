import { startTestServer, storedBlobKeys, type TestServer } from '@stowage/testkit';

import { pypiFormat } from '../src';
import { buildProject, type BuiltProject, cleanEnv, sh, tempDir } from './pypi.clients';

// Package protection rules as twine meets them: a Developer's upload of a protected name is
// refused with `Forbidden - Package protected.` on twine's output (the reason phrase it
// shows) and stores nothing; a Maintainer's goes through, as does the Developer's other name.
describe('twine against protected packages', () => {
  let s: TestServer;
  let work: Awaited<ReturnType<typeof tempDir>>;
  let released: BuiltProject;
  let free: BuiltProject;
  let dotted: BuiltProject;
  let projectId: number;
  const tokens: Record<'developer' | 'maintainer', string> = {} as never;

  beforeAll(async () => {
    work = await tempDir('pypi-protection-');
    [s, released, free, dotted] = await Promise.all([
      startTestServer({ formats: [pypiFormat], mode: 'postgres', listen: true }),
      buildProject(work.path, { name: 'Release_Tool', module: 'release_tool', version: '1.0', body: 'VERSION = "1.0"\n' }),
      buildProject(work.path, { name: 'free-tool', module: 'free_tool', version: '1.0', body: 'VERSION = "1.0"\n' }),
      buildProject(work.path, { name: 'Acme.Core', module: 'acme_core', version: '2.0', body: 'VERSION = "2.0"\n' }),
    ]);
    projectId = (await s.api.createProject('py')).id;
    for (const [role, level] of [
      ['developer', 30],
      ['maintainer', 40],
    ] as const) {
      const user = await s.api.createUser(role);
      await s.api.addMember({ project: projectId }, user.id, level);
      tokens[role] = user.token;
    }
    await s.api.root('POST', `/api/v4/projects/${projectId}/packages/protection/rules`, {
      package_name_pattern: 'release-*',
      package_type: 'pypi',
      minimum_access_level_for_push: 'maintainer',
    });
    // Written with `_`: it must hold against every PEP 503 spelling of the name (twine sends `Acme-Core`).
    await s.api.root('POST', `/api/v4/projects/${projectId}/packages/protection/rules`, {
      package_name_pattern: 'acme_core',
      package_type: 'pypi',
      minimum_access_level_for_push: 'maintainer',
    });
  }, 120_000);

  afterAll(async () => {
    await s?.close();
    await work?.remove();
  });

  const twine = (as: keyof typeof tokens, files: string[]) =>
    sh('twine', ['upload', '--non-interactive', '--repository-url', `${s.url}/api/v4/projects/${projectId}/packages/pypi`, ...files], {
      env: cleanEnv(work.path, { TWINE_USERNAME: '__token__', TWINE_PASSWORD: tokens[as] }),
    });
  const names = async () =>
    (await s.api.root<{ name: string; version: string }[]>('GET', `/api/v4/projects/${projectId}/packages`)).map(
      (p) => `${p.name} ${p.version}`,
    );

  it('a Developer’s upload of a protected name fails in twine with 403 Package protected. and stores nothing', async () => {
    const blobs = (await storedBlobKeys(s)).length;
    const out = await twine('developer', [released.wheel]);
    expect(out.code).not.toBe(0);
    expect((out.stderr + out.stdout).replace(/\s+/g, ' ')).toMatch(/HTTPError: 403 Forbidden from \S+ Forbidden - Package protected\./);
    expect(await names()).toEqual([]);
    expect((await storedBlobKeys(s)).length).toBe(blobs);
  });

  it('a rule written as acme_core refuses Acme.Core: names match in their normalized spelling', async () => {
    const out = await twine('developer', [dotted.wheel]);
    expect(out.code).not.toBe(0);
    expect((out.stderr + out.stdout).replace(/\s+/g, ' ')).toMatch(/403 Forbidden from \S+ Forbidden - Package protected\./);
    expect(await names()).toEqual([]);
  });

  it('the Developer uploads a name no rule matches; a Maintainer uploads the protected one', async () => {
    expect((await twine('developer', [free.wheel, free.sdist])).code).toBe(0);
    const out = await twine('maintainer', [released.wheel]);
    expect(out.stderr).not.toMatch(/error/i);
    expect(out.code).toBe(0);
    expect((await names()).sort()).toEqual(['Release-Tool 1.0', 'free-tool 1.0']);
  });
});
