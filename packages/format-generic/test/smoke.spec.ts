import { startTestServer, type TestServer } from '@stowage/testkit';
import { genericFormat } from '../src';

describe('smoke', () => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer({ formats: [genericFormat], mode: (process.env.MODE as never) ?? 'postgres' });
  });
  afterAll(() => s?.close());

  it('uploads and downloads', async () => {
    const user = await s.api.createUser('alice');
    const project = await s.api.createProject('proj', { namespaceId: undefined });
    await s.api.addMember({ project: project.id }, user.id, 30);
    const put = await s.api.inject({ method: 'PUT', url: `/api/v4/projects/${project.id}/packages/generic/app/1.0.0/a/b.txt`, payload: 'hello', token: user.token });
    console.log(put.status, put.body);
    const get = await s.api.inject({ url: `/api/v4/projects/${encodeURIComponent(project.path_with_namespace)}/packages/generic/app/1.0.0/a/b.txt`, token: user.token });
    console.log(get.status, get.headers, get.body);
    const list = await s.api.inject({ url: `/api/v4/projects/${project.id}/packages`, token: user.token });
    console.log(list.status, list.headers, list.body);
  });
});
