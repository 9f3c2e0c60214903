import { startTestServer, storedBlobKeys, testModes, type TestServer } from '@stowage/testkit';

import { npmFormat } from '../src';
import { type ClientResult, ClientSandbox, expectOk, writePackage } from './npm.clients';

// Package protection rules (GitLab's API, core's enforcement) as the real npm client meets
// them: a Developer's publish, dist-tag and a Maintainer's unpublish of protected names fail
// with GitLab's words in npm's output and change nothing; the rest goes through.
describe('npm client against protected packages', () => {
  let s: TestServer;
  let projectId: number;
  let registry: string;
  const sandboxes: Record<'developer' | 'maintainer', ClientSandbox> = {} as never;

  beforeAll(async () => {
    s = await startTestServer({ formats: [npmFormat], mode: testModes()[0], listen: true });
    const group = await s.api.createGroup('acme');
    projectId = (await s.api.createProject('lib', { namespaceId: group.id })).id;
    registry = `${s.url}/api/v4/projects/${projectId}/packages/npm/`;
    for (const [role, level] of [
      ['developer', 30],
      ['maintainer', 40],
    ] as const) {
      const user = await s.api.createUser(role);
      await s.api.addMember({ project: projectId }, user.id, level);
      sandboxes[role] = await ClientSandbox.create();
      await sandboxes[role].writeNpmrc([`@acme:registry=${registry}`, `${registry.replace(/^https?:/, '')}:_authToken=${user.token}`]);
    }
    const rules = `/api/v4/projects/${projectId}/packages/protection/rules`;
    await s.api.root('POST', rules, {
      package_name_pattern: '@acme/release-*',
      package_type: 'npm',
      minimum_access_level_for_push: 'maintainer',
    });
    await s.api.root('POST', rules, { package_name_pattern: '@acme/kept', package_type: 'npm', minimum_access_level_for_delete: 'owner' });
  });
  afterAll(async () => {
    await s?.close();
    for (const sb of Object.values(sandboxes)) await sb?.cleanup();
  });

  async function publish(as: keyof typeof sandboxes, name: string, version: string): Promise<ClientResult> {
    const sb = sandboxes[as];
    const dir = await sb.dir(`src-${as}-${name.replace('/', '_')}-${version}`);
    await writePackage(dir, { name, version, main: 'index.js' }, { 'index.js': `module.exports = '${name}@${version}';\n` });
    return sb.npm(['publish', '--registry', registry], dir);
  }

  const versions = async (name: string) =>
    (await s.api.root<{ version: string }[]>('GET', `/api/v4/projects/${projectId}/packages?package_name=${encodeURIComponent(name)}`)).map(
      (p) => p.version,
    );

  it('a Developer’s publish of a protected name fails in npm with 403 Package protected. and stores nothing', async () => {
    const blobs = (await storedBlobKeys(s)).length;
    const refused = await publish('developer', '@acme/release-app', '1.0.0');
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toMatch(/403 Forbidden - PUT .* - Package protected\./);
    expect(await versions('@acme/release-app')).toEqual([]);
    expect((await storedBlobKeys(s)).length).toBe(blobs);
  });

  it('the Developer still publishes a name no rule matches, and a Maintainer publishes the protected one', async () => {
    expectOk(await publish('developer', '@acme/feature', '1.0.0'), 'developer publish @acme/feature');
    expectOk(await publish('maintainer', '@acme/release-app', '1.0.0'), 'maintainer publish @acme/release-app');
    expect(await versions('@acme/feature')).toEqual(['1.0.0']);
    expect(await versions('@acme/release-app')).toEqual(['1.0.0']);
  });

  it('a Developer’s dist-tag on a protected name is refused too', async () => {
    const cwd = await sandboxes.developer.dir('tags');
    const refused = await sandboxes.developer.npm(['dist-tag', 'add', '@acme/release-app@1.0.0', 'stable'], cwd);
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toContain('Package protected.');
    const ls = await sandboxes.maintainer.npm(['dist-tag', 'ls', '@acme/release-app'], cwd);
    expect(ls.stdout).not.toContain('stable');
  });

  it('a delete rule holds a Maintainer’s npm unpublish back: 403 Package is deletion protected. and the version stays', async () => {
    expectOk(await publish('maintainer', '@acme/kept', '1.0.0'), 'publish @acme/kept 1.0.0');
    expectOk(await publish('maintainer', '@acme/kept', '1.1.0'), 'publish @acme/kept 1.1.0');
    const cwd = await sandboxes.maintainer.dir('unpublish');
    const one = await sandboxes.maintainer.npm(['unpublish', '@acme/kept@1.0.0', '--force'], cwd);
    expect(one.code).not.toBe(0);
    expect(one.stderr).toContain('Package is deletion protected.');
    const all = await sandboxes.maintainer.npm(['unpublish', '@acme/kept', '--force'], cwd);
    expect(all.code).not.toBe(0);
    expect(all.stderr).toContain('Package is deletion protected.');
    expect((await versions('@acme/kept')).sort()).toEqual(['1.0.0', '1.1.0']);
    // Unprotected names still unpublish.
    expectOk(await sandboxes.maintainer.npm(['unpublish', '@acme/feature@1.0.0', '--force'], cwd), 'unpublish @acme/feature');
    expect(await versions('@acme/feature')).toEqual([]);
  });
});
