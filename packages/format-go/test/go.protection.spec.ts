import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { curl, projectMembers, protectPackages, startTestServer, storedBlobKeys, type TestServer, type TestUser } from '@stowage/testkit';

import { goFormat } from '../src';
import { moduleZip } from './go.fixtures';

// Package protection rules on Go's publish, which the go command does not do: curl -T as the
// README shows it. A Developer's upload of a protected module answers 403 with GitLab's words
// as Go's plain-text error and stores nothing; a Maintainer's goes through, as does the
// Developer's other module. Rules name Go packages `golang`, as GitLab does.
describe('go module upload (curl) against protected packages', () => {
  let s: TestServer;
  let work: string;
  let projectId: number;
  let users: Record<'developer' | 'maintainer', TestUser>;

  beforeAll(async () => {
    s = await startTestServer({ formats: [goFormat], mode: 'postgres', listen: true });
    work = await mkdtemp(join(tmpdir(), 'stowage-go-protection-'));
    projectId = (await s.api.createProject('mods')).id;
    users = await projectMembers(s.api, projectId, { developer: 30, maintainer: 40 });
    await protectPackages(s.api, projectId, {
      package_name_pattern: 'example.com/release/*',
      package_type: 'golang',
      minimum_access_level_for_push: 'maintainer',
    });
  });
  afterAll(async () => {
    await s?.close();
    if (work) await rm(work, { recursive: true, force: true });
  });

  async function upload(as: keyof typeof users, module: string) {
    const zip = join(work, `${module.replace(/\//g, '_')}-${as}.zip`);
    await writeFile(zip, moduleZip(module, 'v1.0.0', { 'go.mod': `module ${module}\n`, 'greet.go': 'package greet\n' }));
    return curl([
      '-H',
      `PRIVATE-TOKEN: ${users[as].token}`,
      '-T',
      zip,
      `${s.url}/api/v4/projects/${projectId}/packages/go/${module}/@v/v1.0.0.zip`,
    ]);
  }
  const names = async () =>
    (await s.api.root<{ name: string }[]>('GET', `/api/v4/projects/${projectId}/packages`)).map((p) => p.name).sort();

  it('a Developer’s upload of a protected module is refused with 403 Package protected. and stores nothing', async () => {
    const blobs = (await storedBlobKeys(s)).length;
    const refused = await upload('developer', 'example.com/release/greet');
    expect(refused.code).toBe(22);
    expect(refused.output).toContain('403 Forbidden - Package protected.\n');
    expect(refused.output).toContain('The requested URL returned error: 403');
    expect(await names()).toEqual([]);
    expect((await storedBlobKeys(s)).length).toBe(blobs);
  });

  it('the Developer uploads a module no rule matches; a Maintainer uploads the protected one', async () => {
    expect(await upload('developer', 'example.com/tools')).toMatchObject({ code: 0 });
    expect(await upload('maintainer', 'example.com/release/greet')).toMatchObject({ code: 0 });
    expect(await names()).toEqual(['example.com/release/greet', 'example.com/tools']);
  });
});
