import { readdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';

import { startTestServer, type TestProject, type TestServer, type TestUser } from '@stowage/testkit';

import { nugetFormat } from '../src';
import { isolatedEnv, packWith, run, sha256File, tempDir, writeNugetConfig } from './nuget.clients';

// Debian's NuGet 2.8.7 (NuGet.Core 2.x on mono) against the v2 OData feed: pack, push with
// an API key, install with -Version into a clean folder (bytes identical), and a clean
// failure for an unknown package. One mode: nuget.api.spec.ts covers both.

jest.setTimeout(85_000);

describe('NuGet 2.8.7 against the v2 feed', () => {
  let s: TestServer;
  let dev: TestUser;
  let project: TestProject;
  let work: string;
  let env: NodeJS.ProcessEnv;
  let pkg: string;
  let feed: string;

  const nuget = (args: string[]) => run('nuget', [...args, '-NonInteractive'], { cwd: work, env, timeoutMs: 60_000 });

  beforeAll(async () => {
    s = await startTestServer({ formats: [nugetFormat], mode: 'postgres', listen: true });
    dev = await s.api.createUser('dev');
    project = await s.api.createProject('legacy');
    await s.api.addMember({ project: project.id }, dev.id, 30);
    work = await tempDir('stowage-nuget-v2-');
    env = await isolatedEnv(work);
    feed = `${s.url}/api/v4/projects/${project.id}/packages/nuget/v2`;
    await writeNugetConfig(join(work, 'nuget.config'), feed, dev.username, dev.token);
    pkg = await packWith(['nuget'], work, env, { id: 'Old.Tool', version: '1.0.0', files: { 'tool.txt': 'old tool\n' } });
  });

  afterAll(async () => {
    await s?.close();
    if (work) await rm(work, { recursive: true, force: true });
  });

  it('pushes with an API key', async () => {
    const r = await nuget([
      'push',
      'Old.Tool.1.0.0.nupkg',
      '-Source',
      feed,
      '-ApiKey',
      dev.token,
      '-ConfigFile',
      join(work, 'nuget.config'),
    ]);
    expect({ code: r.code, out: r.code ? r.stdout + r.stderr : '' }).toEqual({ code: 0, out: '' });
    const listing = await s.api.root<{ name: string; version: string }[]>('GET', `/api/v4/projects/${project.id}/packages`);
    expect(listing.map((p) => `${p.name}@${p.version}`)).toEqual(['Old.Tool@1.0.0']);
  });

  it('installs with -Version into a clean folder, bytes identical', async () => {
    const out = join(work, 'out');
    const r = await nuget([
      'install',
      'Old.Tool',
      '-Version',
      '1.0',
      '-Source',
      'stowage',
      '-ConfigFile',
      join(work, 'nuget.config'),
      '-OutputDirectory',
      out,
      '-NoCache',
    ]);
    expect({ code: r.code, out: r.code ? r.stdout + r.stderr : '' }).toEqual({ code: 0, out: '' });
    expect(await readdir(out)).toEqual(['Old.Tool.1.0.0']);
    expect(await sha256File(join(out, 'Old.Tool.1.0.0', 'Old.Tool.1.0.0.nupkg'))).toBe(await sha256File(pkg));
    expect(await readFile(join(out, 'Old.Tool.1.0.0', 'content', 'tool.txt'), 'utf8')).toBe('old tool\n');
  });

  it('installs the highest version without -Version', async () => {
    const seen: string[] = [];
    s.app.getHttpServer().on('request', (req: { url: string }) => seen.push(req.url));
    await packWith(['nuget'], work, env, { id: 'Old.Tool', version: '1.1.0', files: { 'tool.txt': 'newer tool\n' } });
    const p = await nuget([
      'push',
      'Old.Tool.1.1.0.nupkg',
      '-Source',
      feed,
      '-ApiKey',
      dev.token,
      '-ConfigFile',
      join(work, 'nuget.config'),
    ]);
    expect(p.code).toBe(0);
    const out = join(work, 'out-latest');
    const r = await nuget([
      'install',
      'Old.Tool',
      '-Source',
      'stowage',
      '-ConfigFile',
      join(work, 'nuget.config'),
      '-OutputDirectory',
      out,
      '-NoCache',
    ]);
    expect({ code: r.code, out: r.code ? r.stdout + r.stderr : '' }).toEqual({ code: 0, out: '' });
    expect(await readdir(out)).toEqual(['Old.Tool.1.1.0']);
    // What the client asked: the latest version through FindPackagesById() with query options.
    // (`nuget list` reads `…/v2/Packages`, served as a feed, but 2.8.7 on mono never exits without a terminal.)
    expect(seen).toContainEqual(expect.stringMatching(/\/v2\/FindPackagesById\(\)\?.*IsLatestVersion.*\$top=1/));
  });

  it('fails cleanly for an unknown package', async () => {
    const out = join(work, 'out-missing');
    const r = await nuget([
      'install',
      'No.Such.Tool',
      '-Version',
      '1.0.0',
      '-Source',
      'stowage',
      '-ConfigFile',
      join(work, 'nuget.config'),
      '-OutputDirectory',
      out,
      '-NoCache',
    ]);
    expect(r.code).not.toBe(0);
    expect(r.stdout + r.stderr).toMatch(/Unable to find version '1\.0\.0' of package 'No\.Such\.Tool'/);
    expect(await readdir(out).catch(() => [])).toEqual([]);
  });
});
