import { startTestServer, testModes, type TestProject, type TestServer } from '@stowage/testkit';

import { conanFormat } from '../src';
import { send } from './conan.replay';
import { blobFiles, conanPackages } from './conan.support';

const RREV = 'a'.repeat(32);
const PREV = 'b'.repeat(32);
const PKGID = 'cb054d0b3e1ca595dc66bc2339d40f1f8f04ab31';

// Hostile bodies through the listening server: a 400 the client prints, nothing stored.
describe.each(testModes())('conan bad input (%s)', (mode) => {
  let s: TestServer;
  let project: TestProject;
  let v1: string;
  let v2: string;

  const req = (method: string, path: string, body: string, headers: Record<string, string> = {}) =>
    send(s.url, method, path, { 'private-token': s.rootToken, ...headers }, Buffer.from(body));

  beforeAll(async () => {
    s = await startTestServer({ formats: [conanFormat], mode, listen: true });
    project = await s.api.createProject('conan-bad');
    v1 = `/api/v4/projects/${project.id}/packages/conan/v1`;
    v2 = `/api/v4/projects/${project.id}/packages/conan/v2`;
  });
  afterAll(() => s?.close());

  it('a conaninfo.txt with a NUL byte is a 400, not a jsonb 500 (v1 and v2)', async () => {
    const before = await blobFiles(s);
    const info = '[settings]\nos=Li\0nux\n[options]\nshared=False\n';
    for (const path of [
      `${v1}/files/pkg/1.0/_/_/0/package/${PKGID}/0/conaninfo.txt`,
      `${v2}/conans/pkg/1.0/_/_/revisions/${RREV}/packages/${PKGID}/revisions/${PREV}/files/conaninfo.txt`,
    ]) {
      const res = await req('PUT', path, info);
      expect([res.status, JSON.parse(res.body.toString())]).toEqual([
        400,
        { message: '400 Bad request - conaninfo.txt contains a NUL character' },
      ]);
    }
    expect(await conanPackages(s, project.id)).toEqual([]);
    expect(await blobFiles(s)).toEqual(before);
  });

  it('an upload_urls body nested past the bound, or with a NUL in a file name, is a 400', async () => {
    const json = { 'content-type': 'application/json' };
    const deep = await req('POST', `${v1}/conans/pkg/1.0/_/_/upload_urls`, `{"conanfile.py":${'['.repeat(5000)}${']'.repeat(5000)}}`, json);
    expect([deep.status, JSON.parse(deep.body.toString()).message]).toEqual([
      400,
      '400 Bad request - JSON nesting of 101 is too deep (at most 100)',
    ]);
    const nul = await req('POST', `${v1}/conans/pkg/1.0/_/_/upload_urls`, '{"conanfile.py\\u0000":10}', json);
    expect([nul.status, JSON.parse(nul.body.toString()).message]).toEqual([400, '400 Bad request - Null byte in request']);
    expect(await conanPackages(s, project.id)).toEqual([]);
  });
});
