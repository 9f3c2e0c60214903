import { startTestServer, testModes, type TestProject, type TestServer, type TestUser } from '@stowage/testkit';

import { conanFormat } from '../src';
import { loadTranscript, Replay } from './conan.replay';
import { conanFiles, conanPackages } from './conan.support';

// Conan 1.65 on the v1 API (no revisions), replayed from the recordings: the client's own
// requests, each answer checked as the client needs it.
describe.each(testModes())('conan v1 replay (%s)', (mode) => {
  let s: TestServer;
  let demo: TestUser;
  let group: { id: number; full_path: string };

  beforeAll(async () => {
    s = await startTestServer({ formats: [conanFormat], mode, listen: true });
    demo = await s.api.createUser('demo');
    group = await s.api.createGroup('conan-group');
    await s.api.addMember({ group: group.id }, demo.id, 40);
  });
  afterAll(async () => {
    await s?.close();
  });

  const replayFor = (project: TestProject, o: Partial<ConstructorParameters<typeof Replay>[0]> = {}) =>
    new Replay({ server: s.url, base: `/api/v4/projects/${project.id}/packages/conan`, username: 'demo', password: demo.token, ...o });

  it('v1 without revisions, project remote: login, upload, search, install, re-upload, changed upload, 401 re-login, remove', async () => {
    const project = await s.api.createProject('v1-flow', { namespaceId: group.id });
    const replay = replayFor(project);
    let rest = await replay.runUntil(loadTranscript('v1-no-revisions.jsonl'), 'conan search -r ref');
    expect(replay.problems).toEqual([]);

    const [pkg, ...others] = await conanPackages(s, project.id);
    expect(others).toEqual([]);
    expect(pkg).toMatchObject({ name: 'hello', version: '0.1@demo/stable', package_type: 'conan' });
    const names = (await conanFiles(s, project.id, pkg.id)).map((f) => f.file_name).sort();
    expect(names).toEqual([
      'conan_export.tgz',
      'conan_package.tgz',
      'conan_sources.tgz',
      'conanfile.py',
      'conaninfo.txt',
      'conanmanifest.txt',
      'conanmanifest.txt',
    ]);

    rest = await replay.runUntil(rest, 'conan remove hello/0.1@demo/stable -r ref -f (recipe)');
    expect(replay.problems).toEqual([]);
    // `conan remove -p` took the binary; the recipe stays.
    const after = await conanPackages(s, project.id);
    expect((await conanFiles(s, project.id, after[0].id)).map((f) => f.file_name).sort()).toEqual([
      'conan_export.tgz',
      'conan_sources.tgz',
      'conanfile.py',
      'conanmanifest.txt',
    ]);

    await replay.run(rest);
    expect(replay.problems).toEqual([]);
    expect(await conanPackages(s, project.id)).toEqual([]);
    expect(replay.exchanges).toBeGreaterThan(90);
  });

  it('v1 with GitLab-shaped URLs: checksum probes answer 200 (send it) and 201 (already stored, skip)', async () => {
    const project = await s.api.createProject('v1-probes', { namespaceId: group.id });
    const replay = replayFor(project);
    await replay.run(loadTranscript('probes-a-v1-gitlab-urls.jsonl'));
    expect(replay.problems).toEqual([]);
    const [pkg] = await conanPackages(s, project.id);
    // The forced re-upload was skipped by the 201s: still one row per file.
    expect(await conanFiles(s, project.id, pkg.id)).toHaveLength(7);
  });

  it('v1 at instance scope: the recipe user is the project path with + for /', async () => {
    const project = await s.api.createProject('inst-proj', { namespaceId: group.id });
    const user = project.path_with_namespace.replace(/\//g, '+');
    const replay = replayFor(project, {
      base: '/api/v4/packages/conan',
      rewritePath: (p) => p.replace(/\/hello\/0\.1\/demo\/stable/g, `/hello/0.1/${user}/stable`),
      rewriteText: (t) =>
        t.replace(/@demo\/stable/g, `@${user}/stable`).replace(/\/hello\/0\.1\/demo\/stable/g, `/hello/0.1/${user}/stable`),
    });
    const rest = await replay.runUntil(loadTranscript('v1-no-revisions.jsonl'), 'conan search -r ref');
    expect(replay.problems).toEqual([]);
    expect(await conanPackages(s, project.id)).toMatchObject([{ name: 'hello', version: `0.1@${user}/stable` }]);
    await replay.run(rest);
    expect(replay.problems).toEqual([]);
    expect(await conanPackages(s, project.id)).toEqual([]);
  });
});
