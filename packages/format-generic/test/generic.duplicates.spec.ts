import { randomBytes } from 'node:crypto';

import { http, startTestServer, testModes, type TestProject, type TestServer, type TestUser } from '@stowage/testkit';

import { genericFormat } from '../src';
import { blobFiles, genericPath, listFiles, listPackages, projectState, sha256, tempFiles } from './generic.support';

const DUPLICATE = { message: '400 Bad request - Duplicate package is not allowed' };

describe.each(testModes())('generic duplicates (%s)', (mode) => {
  let s: TestServer;
  let dev: TestUser;
  let counter = 0;

  beforeAll(async () => {
    s = await startTestServer({ formats: [genericFormat], mode, listen: true });
    dev = await s.api.createUser('dup-dev');
  });
  afterAll(() => s?.close());

  async function newProject(opts: { namespaceId?: number } = {}): Promise<TestProject> {
    const p = await s.api.createProject(`dup-${++counter}`, opts);
    await s.api.addMember({ project: p.id }, dev.id, 30);
    return p;
  }

  const upload = (project: TestProject, rest: string, body: Buffer | string) =>
    http(s.url, { method: 'PUT', path: genericPath(project.id, rest), token: dev.token, body });
  const download = (project: TestProject, rest: string) => http(s.url, { path: genericPath(project.id, rest), token: dev.token });

  async function filesOf(project: TestProject, name: string, version: string) {
    const pkgs = (await listPackages(s, project.id)).filter((p) => p.name === name && p.version === version);
    const files = (await Promise.all(pkgs.map((p) => listFiles(s, project.id, p.id)))).flat();
    return { pkgs, files };
  }

  it('allowed by default: both files are kept and the download serves the newest', async () => {
    const project = await newProject();
    const first = randomBytes(200);
    const second = randomBytes(300);
    expect((await upload(project, 'app/1.0.0/app.bin', first)).status).toBe(201);
    expect((await upload(project, 'app/1.0.0/app.bin', second)).status).toBe(201);
    const { pkgs, files } = await filesOf(project, 'app', '1.0.0');
    expect(pkgs).toHaveLength(1);
    expect(files.map((f) => [f.file_name, f.file_sha256])).toEqual([
      ['app.bin', sha256(first)],
      ['app.bin', sha256(second)],
    ]);
    const res = await download(project, 'app/1.0.0/app.bin');
    expect(res.body.equals(second)).toBe(true);
    expect(res.headers['x-checksum-sha256']).toBe(sha256(second));
  });

  it('disallowed via project package_settings → 400, the first file stays, nothing new stored', async () => {
    const project = await newProject();
    await s.api.setPackageSettings({ project: project.id }, { generic_duplicates_allowed: false });
    const settings = await s.api.root('GET', `/api/v4/projects/${project.id}/package_settings`);
    expect(settings.generic_duplicates_allowed).toBe(false);
    const first = randomBytes(200);
    expect((await upload(project, 'app/1.0.0/app.bin', first)).status).toBe(201);
    // Another file in the same package is not a duplicate.
    expect((await upload(project, 'app/1.0.0/other.bin', 'other')).status).toBe(201);
    const blobs = await blobFiles(s);
    const res = await upload(project, 'app/1.0.0/app.bin', randomBytes(300));
    expect(res.status).toBe(400);
    expect(res.json()).toEqual(DUPLICATE);
    expect(await blobFiles(s)).toEqual(blobs);
    expect(await tempFiles(s)).toEqual([]);
    const { files } = await filesOf(project, 'app', '1.0.0');
    expect(files.map((f) => f.file_name)).toEqual(['app.bin', 'other.bin']);
    expect((await download(project, 'app/1.0.0/app.bin')).body.equals(first)).toBe(true);
    // Same bytes again are refused too (dedup of the blob must not make it "not a duplicate").
    expect((await upload(project, 'app/1.0.0/app.bin', first)).status).toBe(400);
    // Another version or another sub-directory is a different file.
    expect((await upload(project, 'app/1.0.1/app.bin', first)).status).toBe(201);
    expect((await upload(project, 'app/1.0.0/sub/app.bin', first)).status).toBe(201);
  });

  describe('exception regex: allowed = duplicates_allowed XOR regex matches name or version', () => {
    it.each([
      // [duplicates_allowed, regex, package, version, second upload status]
      [false, 'special-.*', 'special-app', '1.0.0', 201],
      [false, '1\\.0\\..*', 'plain-app', '1.0.0', 201],
      [false, 'other-.*', 'plain-app', '1.0.0', 400],
      [false, 'special', 'special-app', '1.0.0', 400], // anchored: a partial match is no match
      [true, 'special-.*', 'special-app', '1.0.0', 400],
      [true, '1\\.0\\.0', 'plain-app', '1.0.0', 400],
      [true, 'other-.*', 'plain-app', '1.0.0', 201],
      [true, '', 'plain-app', '1.0.0', 201],
      [false, '', 'plain-app', '1.0.0', 400],
    ] as const)('allowed=%s regex=%j %s@%s → %i', async (allowed, regex, name, version, expected) => {
      const project = await newProject();
      await s.api.setPackageSettings(
        { project: project.id },
        { generic_duplicates_allowed: allowed, generic_duplicate_exception_regex: regex },
      );
      expect((await upload(project, `${name}/${version}/f.bin`, 'one')).status).toBe(201);
      const res = await upload(project, `${name}/${version}/f.bin`, 'two');
      expect(res.status).toBe(expected);
      if (expected === 400) expect(res.json()).toEqual(DUPLICATE);
      const { files } = await filesOf(project, name, version);
      expect(files).toHaveLength(expected === 201 ? 2 : 1);
      expect((await download(project, `${name}/${version}/f.bin`)).text).toBe(expected === 201 ? 'two' : 'one');
    });

    it('an invalid regex is refused by the settings API', async () => {
      const project = await newProject();
      const res = await s.api.inject({
        method: 'PUT',
        url: `/api/v4/projects/${project.id}/package_settings`,
        token: s.rootToken,
        payload: { generic_duplicate_exception_regex: '(' },
      });
      expect(res.status).toBe(400);
      expect(res.json().error).toMatch(/^generic_duplicate_exception_regex /);
    });
  });

  it('group settings are inherited by projects in the group and its subgroups; a nearer setting wins', async () => {
    const group = await s.api.createGroup('dup-group');
    const sub = await s.api.createGroup('dup-sub', { parentId: group.id });
    await s.api.setPackageSettings(
      { group: group.id },
      { generic_duplicates_allowed: false, generic_duplicate_exception_regex: 'snap-.*' },
    );
    const inGroup = await newProject({ namespaceId: group.id });
    const inSub = await newProject({ namespaceId: sub.id });
    for (const project of [inGroup, inSub]) {
      expect((await upload(project, 'app/1.0.0/f.bin', 'one')).status).toBe(201);
      const dup = await upload(project, 'app/1.0.0/f.bin', 'two');
      expect(dup.status).toBe(400);
      expect(dup.json()).toEqual(DUPLICATE);
      expect((await upload(project, 'snap-app/1.0.0/f.bin', 'one')).status).toBe(201);
      expect((await upload(project, 'snap-app/1.0.0/f.bin', 'two')).status).toBe(201);
    }
    // The subgroup overrides its parent; its project follows the subgroup.
    await s.api.setPackageSettings({ group: sub.id }, { generic_duplicates_allowed: true, generic_duplicate_exception_regex: '' });
    expect((await upload(inSub, 'app/1.0.0/f.bin', 'three')).status).toBe(201);
    expect((await upload(inGroup, 'app/1.0.0/f.bin', 'three')).status).toBe(400);
    // Other formats' settings are separate.
    const settings = await s.api.root('GET', `/api/v4/groups/${group.id}/package_settings`);
    expect(settings).toMatchObject({ generic_duplicates_allowed: false, generic_duplicate_exception_regex: 'snap-.*' });
  });

  describe('concurrent uploads', () => {
    async function race(n: number, sameBytes: boolean) {
      const project = await newProject();
      await s.api.setPackageSettings({ project: project.id }, { generic_duplicates_allowed: false });
      const blobsBefore = await blobFiles(s);
      const shared = randomBytes(64 * 1024);
      const bodies = Array.from({ length: n }, () => (sameBytes ? shared : randomBytes(64 * 1024)));
      const results = await Promise.all(bodies.map((b) => upload(project, 'race/1.0.0/race.bin', b)));
      const statuses = results.map((r) => r.status).sort();
      expect(statuses).toEqual([201, ...Array(n - 1).fill(400)]);
      for (const r of results.filter((x) => x.status === 400)) expect(r.json()).toEqual(DUPLICATE);
      const state = await projectState(s, project.id);
      expect(state.packages.map((p) => [p.name, p.version])).toEqual([['race', '1.0.0']]);
      expect(state.files).toHaveLength(1);
      // Exactly one new blob on disk, holding the winner's bytes; the losers left nothing behind.
      expect((await blobFiles(s)).filter((f) => !blobsBefore.includes(f))).toHaveLength(1);
      expect(await tempFiles(s)).toEqual([]);
      const winner = bodies.find((b) => sha256(b) === state.files[0].file_sha256);
      expect(winner).toBeDefined();
      expect((await download(project, 'race/1.0.0/race.bin')).body.equals(winner!)).toBe(true);
    }

    it('two uploads of the same file (same bytes), duplicates disallowed: one 201, one 400', () => race(2, true));
    it('two uploads of the same file (different bytes), duplicates disallowed: one 201, one 400', () => race(2, false));
    it('ten uploads of the same file, duplicates disallowed: one 201, nine 400', () => race(10, false));
    it('ten uploads of the same bytes, duplicates disallowed: one 201, nine 400, the blob survives', () => race(10, true));

    it('concurrent first uploads of different files into a brand-new version: all 201, one package, N files', async () => {
      const project = await newProject();
      const n = 10;
      const bodies = Array.from({ length: n }, () => randomBytes(32 * 1024));
      const results = await Promise.all(bodies.map((b, i) => upload(project, `fresh/1.0.0/part-${i}.bin`, b)));
      expect(results.map((r) => r.status)).toEqual(Array(n).fill(201));
      const state = await projectState(s, project.id);
      expect(state.packages.map((p) => [p.name, p.version])).toEqual([['fresh', '1.0.0']]);
      expect(state.files.map((f) => f.file_name).sort()).toEqual(bodies.map((_, i) => `part-${i}.bin`).sort());
      const got = await Promise.all(bodies.map((_, i) => download(project, `fresh/1.0.0/part-${i}.bin`)));
      got.forEach((r, i) => expect(r.body.equals(bodies[i])).toBe(true));
    });

    it('concurrent duplicates allowed (default): every upload kept in one package', async () => {
      const project = await newProject();
      const n = 6;
      const bodies = Array.from({ length: n }, () => randomBytes(16 * 1024));
      const results = await Promise.all(bodies.map((b) => upload(project, 'many/1.0.0/same.bin', b)));
      expect(results.map((r) => r.status)).toEqual(Array(n).fill(201));
      const state = await projectState(s, project.id);
      expect(state.packages).toHaveLength(1);
      expect(state.files.map((f) => f.file_sha256).sort()).toEqual(bodies.map((b) => sha256(b)).sort());
    });
  });
});
