import { buildZip, multipart, startTestServer, testModes, type TestServer } from '@stowage/testkit';

import { nugetFormat } from '../src';
import { nuspecXml } from './nuget.fixtures';

// The audit log of a NuGet delete (`nuget delete` / `dotnet nuget delete`, issue 19 item 8):
// a `package_deleted` event naming the user, the key it used and where the call came from.

describe('NuGet delete in the audit log', () => {
  let s: TestServer;

  beforeAll(async () => {
    s = await startTestServer({ formats: [nugetFormat], mode: testModes()[0], listen: false });
  });
  afterAll(() => s?.close());

  it('records the deleted version, by whom and from where', async () => {
    const maintainer = await s.api.createUser('maintainer');
    const project = await s.api.createProject('feed');
    await s.api.addMember({ project: project.id }, maintainer.id, 40);
    const base = `/api/v4/projects/${project.id}/packages/nuget`;
    const { body, contentType } = multipart([
      {
        name: 'package',
        value: buildZip({ 'Acme.Core.nuspec': nuspecXml('Acme.Core', '1.0.0', ''), 'content/a.txt': 'a\n' }),
        fileName: 'package.nupkg',
      },
    ]);
    const pushed = await s.api.inject({
      method: 'PUT',
      url: `${base}/`,
      payload: body,
      headers: { 'content-type': contentType, 'x-nuget-apikey': maintainer.token },
    });
    expect(pushed.status).toBe(201);
    const deleted = await s.app.inject({
      method: 'DELETE',
      url: `${base}/Acme.Core/1.0.0`,
      headers: { 'x-nuget-apikey': maintainer.token, 'user-agent': 'NuGet Command Line/6.8.0', 'x-request-id': 'nuget-delete-1' },
      remoteAddress: '198.51.100.20',
    });
    expect(deleted.statusCode).toBe(204);
    const events = await s.api.root<{ event_name: string; author_id: number; entity_id: number; details: Record<string, unknown> }[]>(
      'GET',
      `/api/v4/projects/${project.id}/audit_events`,
    );
    expect(events.filter((e) => e.event_name === 'package_deleted')).toEqual([
      expect.objectContaining({
        author_id: maintainer.id,
        entity_id: project.id,
        details: expect.objectContaining({
          author_username: 'maintainer',
          package_type: 'nuget',
          target_details: 'Acme.Core@1.0.0',
          ip_address: '198.51.100.20',
          request_id: 'nuget-delete-1',
          user_agent: 'NuGet Command Line/6.8.0',
        }),
      }),
    ]);
  });
});
