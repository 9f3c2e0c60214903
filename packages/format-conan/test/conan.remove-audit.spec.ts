import { startTestServer, testModes, type TestServer } from '@stowage/testkit';

import { conanFormat } from '../src';
import { send } from './conan.replay';

// The audit log of `conan remove` (issue 19, item 8): removing a binary package deletes files
// of the recipe's package (`package_file_deleted`), removing the recipe deletes the package
// (`package_deleted`); each names the user, where the call came from, and the project.

const RREV = 'a'.repeat(32);
const PREV = 'b'.repeat(32);
const PKGID = 'cb054d0b3e1ca595dc66bc2339d40f1f8f04ab31';
const basic = (user: string, secret: string) => `Basic ${Buffer.from(`${user}:${secret}`).toString('base64')}`;

interface AuditEventJson {
  author_id: number;
  entity_id: number;
  event_name: string;
  details: Record<string, unknown>;
}

describe('conan remove in the audit log', () => {
  let s: TestServer;

  beforeAll(async () => {
    s = await startTestServer({ formats: [conanFormat], mode: testModes()[0], listen: true });
  });
  afterAll(() => s?.close());

  it('records a removed binary package and a removed recipe, by whom and from where', async () => {
    const maintainer = await s.api.createUser('maint');
    const project = await s.api.createProject('recipes');
    await s.api.addMember({ project: project.id }, maintainer.id, 40);
    const v2 = `/api/v4/projects/${project.id}/packages/conan/v2`;
    const auth = { authorization: basic('maint', maintainer.token), 'user-agent': 'Conan/2.0.17 (Python 3.11.2)' };
    const recipe = `${v2}/conans/hello/0.1/_/_/revisions/${RREV}`;
    const upload = async (path: string, body: string) => expect((await send(s.url, 'PUT', path, auth, Buffer.from(body))).status).toBe(200);
    await upload(`${recipe}/files/conanfile.py`, 'from conan import ConanFile\n');
    await upload(`${recipe}/packages/${PKGID}/revisions/${PREV}/files/conaninfo.txt`, '[settings]\nos=Linux\n');
    await upload(`${recipe}/packages/${PKGID}/revisions/${PREV}/files/conanmanifest.txt`, '1700000000\nconaninfo.txt: 0123\n');

    expect((await send(s.url, 'DELETE', `${recipe}/packages/${PKGID}`, auth, Buffer.alloc(0))).status).toBe(200);
    expect((await send(s.url, 'DELETE', `${v2}/conans/hello/0.1/_/_`, auth, Buffer.alloc(0))).status).toBe(200);

    const events = (await s.api.root<AuditEventJson[]>('GET', `/api/v4/projects/${project.id}/audit_events`)).filter((e) =>
      e.event_name.startsWith('package_'),
    );
    const common = {
      author_id: maintainer.id,
      entity_id: project.id,
      details: expect.objectContaining({
        author_username: 'maint',
        package_type: 'conan',
        package_name: 'hello',
        ip_address: '127.0.0.1',
        user_agent: 'Conan/2.0.17 (Python 3.11.2)',
      }),
    };
    // Newest first.
    expect(events.map((e) => e.event_name)).toEqual(['package_deleted', 'package_file_deleted']);
    expect(events[0]).toMatchObject(common);
    expect(events[1]).toMatchObject(common);
    expect([...(events[1].details.file_names as string[])].sort()).toEqual(['conaninfo.txt', 'conanmanifest.txt']);
  });
});
