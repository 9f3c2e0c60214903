import { mkdir, rm } from 'node:fs/promises';
import { basename, join } from 'node:path';

import { startTestServer, storedBlobKeys, type TestServer } from '@stowage/testkit';

import { nugetFormat } from '../src';
import { isolatedEnv, nugetExe, packWith, run, tempDir, writeNugetConfig } from './nuget.clients';

// Package protection rules as NuGet.exe 5.8 (mono) meets them: a Developer's push of a
// protected id fails with the 403 and GitLab's words (NuGet shows the status line's reason
// phrase) and stores nothing; a Maintainer's push succeeds, and so does the Developer's other
// id; a delete rule holds the Maintainer's `nuget delete` back.

jest.setTimeout(85_000);

describe('NuGet.exe against protected packages', () => {
  let s: TestServer;
  let projectId: number;
  let work: string;
  let env: NodeJS.ProcessEnv;
  let mono: string[];
  const tokens: Record<'developer' | 'maintainer', string> = {} as never;
  const nupkgs: Record<string, string> = {};

  const nuget = (as: keyof typeof tokens, args: string[]) =>
    run(mono[0], [...mono.slice(1), ...args, '-NonInteractive', '-ConfigFile', join(work, as, 'nuget.config')], {
      cwd: work,
      env,
      timeoutMs: 60_000,
    });
  const listing = async () =>
    (await s.api.root<{ name: string; version: string }[]>('GET', `/api/v4/projects/${projectId}/packages`))
      .map((p) => `${p.name}@${p.version}`)
      .sort();

  beforeAll(async () => {
    s = await startTestServer({ formats: [nugetFormat], mode: 'postgres', listen: true });
    projectId = (await s.api.createProject('dotnet')).id;
    work = await tempDir('stowage-nuget-protection-');
    env = await isolatedEnv(work);
    mono = ['mono', await nugetExe()];
    for (const [role, level] of [
      ['developer', 30],
      ['maintainer', 40],
    ] as const) {
      const user = await s.api.createUser(role);
      await s.api.addMember({ project: projectId }, user.id, level);
      tokens[role] = user.token;
      await mkdir(join(work, role));
      await writeNugetConfig(
        join(work, role, 'nuget.config'),
        `${s.url}/api/v4/projects/${projectId}/packages/nuget/index.json`,
        user.username,
        user.token,
      );
    }
    await s.api.root('POST', `/api/v4/projects/${projectId}/packages/protection/rules`, {
      package_name_pattern: 'Acme.Release*',
      package_type: 'nuget',
      minimum_access_level_for_push: 'maintainer',
      minimum_access_level_for_delete: 'owner',
    });
    const pack = (id: string) => packWith(mono, work, env, { id, version: '1.0.0', files: { 'a.txt': `${id}\n` } });
    nupkgs.release = basename(await pack('Acme.Release.Core'));
    nupkgs.free = basename(await pack('Acme.Tools'));
  });

  afterAll(async () => {
    await s?.close();
    if (work) await rm(work, { recursive: true, force: true });
  });

  it('a Developer’s push of a protected id fails in NuGet with 403 Package protected. and stores nothing', async () => {
    const blobs = (await storedBlobKeys(s)).length;
    const r = await nuget('developer', ['push', nupkgs.release, '-Source', 'stowage']);
    expect(r.code).not.toBe(0);
    expect(r.stdout + r.stderr).toContain('403 (Forbidden - Package protected.)');
    expect(await listing()).toEqual([]);
    expect((await storedBlobKeys(s)).length).toBe(blobs);
  });

  it('the Developer pushes an id no rule matches; a Maintainer pushes the protected one', async () => {
    for (const [as, f] of [
      ['developer', nupkgs.free],
      ['maintainer', nupkgs.release],
    ] as const) {
      const r = await nuget(as, ['push', f, '-Source', 'stowage']);
      expect({ as, code: r.code, out: r.code ? r.stdout + r.stderr : '' }).toEqual({ as, code: 0, out: '' });
    }
    expect(await listing()).toEqual(['Acme.Release.Core@1.0.0', 'Acme.Tools@1.0.0']);
  });

  it('a delete rule holds the Maintainer’s nuget delete back with 403 Package is deletion protected.', async () => {
    const refused = await nuget('maintainer', ['delete', 'Acme.Release.Core', '1.0.0', '-Source', 'stowage', '-ApiKey', tokens.maintainer]);
    expect(refused.code).not.toBe(0);
    expect(refused.stdout + refused.stderr).toContain('403 (Forbidden - Package is deletion protected.)');
    const free = await nuget('maintainer', ['delete', 'Acme.Tools', '1.0.0', '-Source', 'stowage', '-ApiKey', tokens.maintainer]);
    expect({ code: free.code, out: free.code ? free.stdout + free.stderr : '' }).toEqual({ code: 0, out: '' });
    expect(await listing()).toEqual(['Acme.Release.Core@1.0.0']);
  });
});
