import { startTestServer, testModes, type TestProject, type TestServer, type TestUser } from '@stowage/testkit';

import { conanFormat } from '../src';
import { loadTranscript, Replay } from './conan.replay';
import { conanFiles, conanPackages } from './conan.support';

// The revisions protocol (v2 routes) replayed from the recordings: Conan 2.8 and Conan 1.65
// with `general.revisions_enabled=1`, at project scope (the only scope GitLab serves v2 at).
describe.each(testModes())('conan v2 replay (%s)', (mode) => {
  let s: TestServer;
  let demo: TestUser;
  let group: { id: number };

  beforeAll(async () => {
    s = await startTestServer({ formats: [conanFormat], mode, listen: true });
    demo = await s.api.createUser('demo');
    group = await s.api.createGroup('conan-v2', { visibility: 'public' });
    await s.api.addMember({ group: group.id }, demo.id, 40);
  });
  afterAll(async () => {
    await s?.close();
  });

  const replayFor = (project: TestProject) =>
    new Replay({
      server: s.url,
      base: `/api/v4/projects/${project.id}/packages/conan`,
      username: 'demo',
      password: demo.token,
      capabilities: ['revisions'],
    });

  it('Conan 2: login, upload, search, list, install, skip re-upload, new revision, env re-login, remove binary / revision / recipe', async () => {
    // Public: the recording's server lets the logged-out client read anonymously (#77-#80);
    // a private project would answer those 401 and the client would log in first (conan.api.spec).
    const project = await s.api.createProject('v2-flow', { namespaceId: group.id, visibility: 'public' });
    const replay = replayFor(project);
    let rest = await replay.runUntil(loadTranscript('v2.jsonl'), 'conan search "hel*"');
    expect(replay.problems).toEqual([]);
    const [pkg] = await conanPackages(s, project.id);
    expect(pkg).toMatchObject({ name: 'hello', version: '0.1@demo/stable' });
    expect(await conanFiles(s, project.id, pkg.id)).toHaveLength(7);

    rest = await replay.runUntil(rest, 'conan remote logout');
    expect(replay.problems).toEqual([]);
    // Two recipe revisions with one binary each.
    expect(await conanFiles(s, project.id, pkg.id)).toHaveLength(14);

    await replay.run(rest);
    expect(replay.problems).toEqual([]);
    expect(await conanPackages(s, project.id)).toEqual([]);
    expect(replay.exchanges).toBeGreaterThan(90);
  });

  it('Conan 1 with revisions: v1 ping and login, everything else on v2', async () => {
    const project = await s.api.createProject('v1rev-flow', { namespaceId: group.id });
    const replay = replayFor(project);
    await replay.run(loadTranscript('v1-revisions.jsonl'));
    expect(replay.problems).toEqual([]);
    expect(await conanPackages(s, project.id)).toEqual([]);
  });

  it.each([['probes-b-conan1-revisions.jsonl'], ['probes-c-conan2.jsonl']])('checksum probes on v2 file routes (%s)', async (file) => {
    const project = await s.api.createProject(`probes-${file.slice(7, 8)}`, { namespaceId: group.id });
    const replay = replayFor(project);
    await replay.run(loadTranscript(file));
    expect(replay.problems).toEqual([]);
    const [pkg] = await conanPackages(s, project.id);
    expect(await conanFiles(s, project.id, pkg.id)).toHaveLength(7);
  });
});
