import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { curl, projectMembers, protectPackages, startTestServer, storedBlobKeys, type TestServer, type TestUser } from '@stowage/testkit';

import { composerFormat } from '../src';
import { packageZip } from './composer.fixtures';

// Package protection rules on Composer's publish, which has no client of its own: curl as the
// README shows it. A Developer's publish of a protected name answers 403 `Package protected.`
// (curl prints the body) and stores nothing; a Maintainer's goes through, as does the
// Developer's publish of another name.
describe('composer publish (curl) against protected packages', () => {
  let s: TestServer;
  let work: string;
  let projectId: number;
  let users: Record<'developer' | 'maintainer', TestUser>;

  beforeAll(async () => {
    s = await startTestServer({ formats: [composerFormat], mode: 'postgres', listen: true });
    work = await mkdtemp(join(tmpdir(), 'stowage-composer-protection-'));
    projectId = (await s.api.createProject('php')).id;
    users = await projectMembers(s.api, projectId, { developer: 30, maintainer: 40 });
    await protectPackages(s.api, projectId, {
      package_name_pattern: 'acme/release-*',
      package_type: 'composer',
      minimum_access_level_for_push: 'maintainer',
    });
  });
  afterAll(async () => {
    await s?.close();
    if (work) await rm(work, { recursive: true, force: true });
  });

  async function publish(as: keyof typeof users, name: string) {
    const zip = join(work, `${name.replace('/', '_')}-${as}.zip`);
    await writeFile(zip, packageZip({ name, type: 'library' }, { 'src/A.php': '<?php\n' }));
    return curl([
      '-H',
      `PRIVATE-TOKEN: ${users[as].token}`,
      '--form',
      `file=@${zip}`,
      '--form',
      'version=1.0.0',
      `${s.url}/api/v4/projects/${projectId}/packages/composer`,
    ]);
  }
  const names = async () =>
    (await s.api.root<{ name: string }[]>('GET', `/api/v4/projects/${projectId}/packages`)).map((p) => p.name).sort();

  it('a Developer’s publish of a protected name is refused with 403 Package protected. and stores nothing', async () => {
    const blobs = (await storedBlobKeys(s)).length;
    const refused = await publish('developer', 'acme/release-kit');
    expect(refused.code).toBe(22);
    expect(refused.output).toContain('{"message":"403 Forbidden - Package protected."}');
    expect(refused.output).toContain('The requested URL returned error: 403');
    expect(await names()).toEqual([]);
    expect((await storedBlobKeys(s)).length).toBe(blobs);
  });

  it('the Developer publishes a name no rule matches; a Maintainer publishes the protected one', async () => {
    expect(await publish('developer', 'acme/tools')).toMatchObject({ code: 0 });
    expect(await publish('maintainer', 'acme/release-kit')).toMatchObject({ code: 0 });
    expect(await names()).toEqual(['acme/release-kit', 'acme/tools']);
  });
});
