import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { curl, projectMembers, protectPackages, startTestServer, storedBlobKeys, type TestServer, type TestUser } from '@stowage/testkit';

import { genericFormat } from '../src';

// Package protection rules on generic packages, published with curl as GitLab documents it: a
// Developer's upload of a protected name answers 403 `Package protected.` and stores nothing; a
// Maintainer's goes through, as does the Developer's other name; a delete rule holds the
// Maintainer's DELETE through the Packages API back. Core's protection-rules-api.spec.ts holds
// the rest (deploy and job tokens, admins, patterns).
describe('generic upload (curl) against protected packages', () => {
  let s: TestServer;
  let work: string;
  let projectId: number;
  let users: Record<'developer' | 'maintainer' | 'owner', TestUser>;

  beforeAll(async () => {
    s = await startTestServer({ formats: [genericFormat], mode: 'postgres', listen: true });
    work = await mkdtemp(join(tmpdir(), 'stowage-generic-protection-'));
    await writeFile(join(work, 'app.tar.gz'), 'release bytes');
    projectId = (await s.api.createProject('bin')).id;
    users = await projectMembers(s.api, projectId, { developer: 30, maintainer: 40, owner: 50 });
    await protectPackages(s.api, projectId, {
      package_name_pattern: 'release-*',
      package_type: 'generic',
      minimum_access_level_for_push: 'maintainer',
      minimum_access_level_for_delete: 'owner',
    });
  });
  afterAll(async () => {
    await s?.close();
    if (work) await rm(work, { recursive: true, force: true });
  });

  const upload = (as: keyof typeof users, name: string) =>
    curl([
      '-H',
      `PRIVATE-TOKEN: ${users[as].token}`,
      '--upload-file',
      join(work, 'app.tar.gz'),
      `${s.url}/api/v4/projects/${projectId}/packages/generic/${name}/1.0.0/app.tar.gz`,
    ]);
  const packages = () => s.api.root<{ id: number; name: string }[]>('GET', `/api/v4/projects/${projectId}/packages`);

  it('a Developer’s upload of a protected name is refused with 403 Package protected. and stores nothing', async () => {
    const blobs = (await storedBlobKeys(s)).length;
    const refused = await upload('developer', 'release-app');
    expect(refused.code).toBe(22);
    expect(refused.output).toContain('{"message":"403 Forbidden - Package protected."}');
    expect(refused.output).toContain('The requested URL returned error: 403');
    expect(await packages()).toEqual([]);
    expect((await storedBlobKeys(s)).length).toBe(blobs);
  });

  it('the Developer uploads a name no rule matches; a Maintainer uploads the protected one', async () => {
    expect(await upload('developer', 'tools')).toMatchObject({ code: 0 });
    expect(await upload('maintainer', 'release-app')).toMatchObject({ code: 0 });
    expect((await packages()).map((p) => p.name).sort()).toEqual(['release-app', 'tools']);
  });

  it('a delete rule holds the Maintainer’s DELETE back (403 Package is deletion protected.); an Owner deletes', async () => {
    const pkg = (await packages()).find((p) => p.name === 'release-app')!;
    const url = `${s.url}/api/v4/projects/${projectId}/packages/${pkg.id}`;
    const refused = await curl(['-X', 'DELETE', '-H', `PRIVATE-TOKEN: ${users.maintainer.token}`, url]);
    expect(refused.code).toBe(22);
    expect(refused.output).toContain('{"message":"403 Forbidden - Package is deletion protected."}');
    expect(await curl(['-X', 'DELETE', '-H', `PRIVATE-TOKEN: ${users.owner.token}`, url])).toMatchObject({ code: 0 });
    expect((await packages()).map((p) => p.name)).toEqual(['tools']);
  });
});
