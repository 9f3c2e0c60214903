import { readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

import { buildZip, startTestServer, type TestProject, type TestServer, type TestUser } from '@stowage/testkit';

import { nugetFormat } from '../src';
import { isolatedEnv, nugetExe, packWith, run, sha256File, tempDir, writeNugetConfig } from './nuget.clients';
import { portablePdb } from './nuget.fixtures';

// The real NuGet.exe 5.8 on mono against a running server: pack, push (chunked, Basic only
// after the 401 challenge; a sibling .snupkg goes to the symbol endpoint), install into a
// clean folder with -NoCache (dependencies resolved, bytes identical), install of the
// highest version without -Version, and delete. One mode: nuget.api.spec.ts covers both.

jest.setTimeout(85_000);

describe('NuGet.exe 5.8 against the v3 feed', () => {
  let s: TestServer;
  let dev: TestUser;
  let project: TestProject;
  let work: string;
  let env: NodeJS.ProcessEnv;
  let mono: string[];
  const nupkgs: Record<string, string> = {};

  const nuget = (args: string[], cwd = work) =>
    run(mono[0], [...mono.slice(1), ...args, '-NonInteractive', '-ConfigFile', join(work, 'nuget.config')], {
      cwd,
      env,
      timeoutMs: 60_000,
    });
  const listing = async () =>
    (await s.api.root<{ name: string; version: string }[]>('GET', `/api/v4/projects/${project.id}/packages`))
      .map((p) => `${p.name}@${p.version}`)
      .sort();

  beforeAll(async () => {
    s = await startTestServer({ formats: [nugetFormat], mode: 'postgres', listen: true });
    dev = await s.api.createUser('dev');
    project = await s.api.createProject('dotnet');
    await s.api.addMember({ project: project.id }, dev.id, 40);
    work = await tempDir('stowage-nuget-e2e-');
    env = await isolatedEnv(work);
    mono = ['mono', await nugetExe()];
    await writeNugetConfig(
      join(work, 'nuget.config'),
      `${s.url}/api/v4/projects/${project.id}/packages/nuget/index.json`,
      dev.username,
      dev.token,
    );
    const pack = (spec: Parameters<typeof packWith>[3]) => packWith(mono, work, env, spec);
    nupkgs.lib1 = await pack({ id: 'Acme.Lib', version: '1.0.0', files: { 'lib.txt': 'lib one\n' } });
    nupkgs.lib2 = await pack({ id: 'Acme.Lib', version: '1.1.0', files: { 'lib.txt': 'lib two\n' } });
    nupkgs.app = await pack({
      id: 'Acme.App',
      version: '1.0.0',
      dependencies: [{ id: 'Acme.Lib', version: '1.0.0' }],
      files: { 'app.txt': 'app\n' },
    });
  });

  afterAll(async () => {
    await s?.close();
    if (work) await rm(work, { recursive: true, force: true });
  });

  it('pushes packages (and a sibling symbol package) with a token given only after the challenge', async () => {
    // A .snupkg next to a .nupkg is pushed to SymbolPackagePublish by the client itself.
    const pdb = portablePdb('8f3c2d1e-0b4a-4c5d-9e6f-112233445566');
    await writeFile(
      join(work, 'Acme.Lib.1.1.0.snupkg'),
      buildZip({
        'Acme.Lib.nuspec': `<?xml version="1.0"?><package xmlns="http://schemas.microsoft.com/packaging/2012/06/nuspec.xsd"><metadata><id>Acme.Lib</id><version>1.1.0</version><authors>x</authors><description>symbols</description><packageTypes><packageType name="SymbolsPackage"/></packageTypes></metadata></package>`,
        'lib/netstandard2.0/Acme.Lib.pdb': pdb,
      }),
    );
    for (const f of ['Acme.Lib.1.0.0.nupkg', 'Acme.Lib.1.1.0.nupkg', 'Acme.App.1.0.0.nupkg']) {
      // A relative path: NuGet on mono looks an absolute one up under $PWD.
      const r = await nuget(['push', f, '-Source', 'stowage']);
      expect({ f, code: r.code, out: r.code ? r.stdout + r.stderr : '' }).toEqual({ f, code: 0, out: '' });
    }
    expect(await listing()).toEqual(['Acme.App@1.0.0', 'Acme.Lib@1.0.0', 'Acme.Lib@1.1.0']);
    const snupkg = await s.api.inject({
      url: `/api/v4/projects/${project.id}/packages/nuget/download/acme.lib/1.1.0/acme.lib.1.1.0.snupkg`,
      token: dev.token,
    });
    expect(snupkg.status).toBe(200);
    expect(snupkg.rawPayload.equals(await readFile(join(work, 'Acme.Lib.1.1.0.snupkg')))).toBe(true);
  });

  it('installs the dependent package and its dependency into a clean folder, bytes identical', async () => {
    const out = join(work, 'install-app');
    const r = await nuget([
      'install',
      'Acme.App',
      '-Version',
      '1.0.0',
      '-Source',
      'stowage',
      '-OutputDirectory',
      out,
      '-NoCache',
      '-DirectDownload',
    ]);
    expect({ code: r.code, out: r.code ? r.stdout + r.stderr : '' }).toEqual({ code: 0, out: '' });
    expect((await readdir(out)).sort()).toEqual(['Acme.App.1.0.0', 'Acme.Lib.1.0.0']);
    expect(await sha256File(join(out, 'Acme.App.1.0.0', 'Acme.App.1.0.0.nupkg'))).toBe(await sha256File(nupkgs.app));
    expect(await sha256File(join(out, 'Acme.Lib.1.0.0', 'Acme.Lib.1.0.0.nupkg'))).toBe(await sha256File(nupkgs.lib1));
    expect(await readFile(join(out, 'Acme.Lib.1.0.0', 'content', 'lib.txt'), 'utf8')).toBe('lib one\n');
  });

  it('installs the highest version without -Version, then deletes a version', async () => {
    const out = join(work, 'install-latest');
    const r = await nuget(['install', 'Acme.Lib', '-Source', 'stowage', '-OutputDirectory', out, '-NoCache', '-DirectDownload']);
    expect({ code: r.code, out: r.code ? r.stdout + r.stderr : '' }).toEqual({ code: 0, out: '' });
    expect(await readdir(out)).toEqual(['Acme.Lib.1.1.0']);
    expect(await sha256File(join(out, 'Acme.Lib.1.1.0', 'Acme.Lib.1.1.0.nupkg'))).toBe(await sha256File(nupkgs.lib2));

    const d = await nuget(['delete', 'Acme.Lib', '1.0.0', '-Source', 'stowage', '-ApiKey', dev.token]);
    expect({ code: d.code, out: d.code ? d.stdout + d.stderr : '' }).toEqual({ code: 0, out: '' });
    expect(await listing()).toEqual(['Acme.App@1.0.0', 'Acme.Lib@1.1.0']);
  });
});
