import { buildZip, http, startTestServer, testModes, type TestProject, type TestServer, type TestUser } from '@stowage/testkit';

import { pypiFormat } from '../src';

const B = 'stowage-listing';
const FILE = 'demo_pkg-1.0-py3-none-any.whl';
const wheel = buildZip({
  'demo_pkg.py': 'X = 1\n',
  'demo_pkg-1.0.dist-info/METADATA': 'Metadata-Version: 2.1\nName: demo_pkg\nVersion: 1.0\n\nbody\n',
  'demo_pkg-1.0.dist-info/RECORD': '',
});
const form = Buffer.concat([
  ...[
    [':action', 'file_upload'],
    ['name', 'demo-pkg'],
    ['version', '1.0'],
  ].map(([k, v]) => Buffer.from(`--${B}\r\nContent-Disposition: form-data; name="${k}"\r\n\r\n${v}\r\n`)),
  Buffer.from(
    `--${B}\r\nContent-Disposition: form-data; name="content"; filename="${FILE}"\r\nContent-Type: application/octet-stream\r\n\r\n`,
  ),
  wheel,
  Buffer.from(`\r\n--${B}--\r\n`),
]);

// GitLab lets a Guest of a non-public project download a file it names but not list the
// project's packages (its PyPI index answers 403). The group index and the Packages API must
// not list them either, while a Reporter sees the same through all three.
describe.each(testModes())('pypi: what a guest may not list, no other endpoint lists (%s)', (mode) => {
  let s: TestServer;
  let group: { id: number };
  let project: TestProject;
  let guest: TestUser;
  let groupGuest: TestUser;
  let reporter: TestUser;
  let fileUrl: string;

  const get = (path: string, token: string) => http(s.url, { path, token });
  const projectIndex = () => `/api/v4/projects/${project.id}/packages/pypi/simple/demo-pkg/`;
  const groupIndex = (page = 'demo-pkg/') => `/api/v4/groups/${group.id}/-/packages/pypi/simple/${page}`;

  beforeAll(async () => {
    s = await startTestServer({ formats: [pypiFormat], mode, listen: true });
    ({ group, project, guest, groupGuest, reporter } = await s.api.guestListingAudience('py'));
    await s.api.createProject('other', { namespaceId: group.id, visibility: 'public' });
    const res = await http(s.url, {
      method: 'POST',
      path: `/api/v4/projects/${project.id}/packages/pypi`,
      token: s.rootToken,
      body: form,
      headers: { 'content-type': `multipart/form-data; boundary=${B}` },
    });
    expect(res.status).toBe(201);
    const page = await get(projectIndex(), s.rootToken);
    fileUrl = new URL(/href="([^"#]+)/.exec(page.text)![1]).pathname;
  });
  afterAll(() => s?.close());

  it.each(['guest', 'groupGuest'] as const)(
    'a %s: 403 on the project index and the Packages API, absent from the group index and group list',
    async (who) => {
      const token = { guest, groupGuest }[who].token;
      expect((await get(projectIndex(), token)).status).toBe(403);
      const list = await get(`/api/v4/projects/${project.id}/packages`, token);
      expect([list.status, list.json()]).toEqual([403, { message: '403 Forbidden' }]);
      const [pkg] = (await get(`/api/v4/projects/${project.id}/packages`, s.rootToken)).json();
      expect((await get(`/api/v4/projects/${project.id}/packages/${pkg.id}`, token)).status).toBe(403);
      expect((await get(`/api/v4/projects/${project.id}/packages/${pkg.id}/package_files`, token)).status).toBe(403);
      const groupList = await get(`/api/v4/groups/${group.id}/packages`, token);
      expect([groupList.status, groupList.json()]).toEqual([200, []]);
      expect((await get(groupIndex(), token)).status).toBe(404);
      const root = await get(groupIndex(''), token);
      expect(root.status).toBe(200);
      expect(root.text).not.toContain('demo-pkg');
      // A file it names still downloads, at project and group scope (GitLab's guest asymmetry).
      expect((await get(fileUrl, token)).status).toBe(200);
      expect((await get(fileUrl.replace(`/projects/${project.id}/packages`, `/groups/${group.id}/-/packages`), token)).status).toBe(200);
    },
  );

  it('a Reporter lists the same package through all of them', async () => {
    const token = reporter.token;
    expect((await get(projectIndex(), token)).status).toBe(200);
    expect((await get(`/api/v4/projects/${project.id}/packages`, token)).json().map((p: { name: string }) => p.name)).toEqual(['demo-pkg']);
    expect((await get(`/api/v4/groups/${group.id}/packages`, token)).json().map((p: { name: string }) => p.name)).toEqual(['demo-pkg']);
    expect((await get(groupIndex(), token)).status).toBe(200);
    expect((await get(groupIndex(''), token)).text).toContain('demo-pkg');
  });

  it("the Packages API's Link header carries no credential, however the parameter is spelled", async () => {
    for (const param of ['private_token', 'private%5Ftoken', 'PRIVATE_TOKEN', 'job_token']) {
      const res = await http(s.url, {
        path: `/api/v4/groups/${group.id}/packages?per_page=1&${param}=${s.rootToken}&sort=desc`,
        token: s.rootToken,
      });
      expect(res.status).toBe(200);
      expect(String(res.headers.link)).not.toContain(s.rootToken);
      expect(String(res.headers.link)).toContain('sort=desc');
    }
  });
});
