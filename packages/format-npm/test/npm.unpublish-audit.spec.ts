import { startTestServer, testModes, type TestServer, type TestUser } from '@stowage/testkit';

import { npmFormat } from '../src';
import { ClientSandbox, expectOk, writePackage } from './npm.clients';

// The audit log of npm unpublish (issue 19, item 8): the real npm client removes a version,
// then the whole package; each removed version is a `package_deleted` event naming the user,
// the token, the client's address and user agent, and the project.

interface AuditEventJson {
  author_id: number;
  entity_type: string;
  entity_id: number;
  event_name: string;
  details: Record<string, unknown>;
}

describe('npm unpublish in the audit log', () => {
  let s: TestServer;
  let sb: ClientSandbox;
  let alice: TestUser;
  let projectId: number;
  let registry: string;

  beforeAll(async () => {
    s = await startTestServer({ formats: [npmFormat], mode: testModes()[0], listen: true });
    sb = await ClientSandbox.create();
    alice = await s.api.createUser('alice');
    const group = await s.api.createGroup('acme');
    projectId = (await s.api.createProject('lib', { namespaceId: group.id })).id;
    await s.api.addMember({ group: group.id }, alice.id, 40);
    registry = `${s.url}/api/v4/projects/${projectId}/packages/npm/`;
    await sb.writeNpmrc([`@acme:registry=${registry}`, `${registry.replace(/^https?:/, '')}:_authToken=${alice.token}`]);
  });
  afterAll(async () => {
    await s?.close();
    await sb?.cleanup();
  });

  const deletions = async () =>
    (await s.api.root<AuditEventJson[]>('GET', `/api/v4/projects/${projectId}/audit_events?per_page=100`)).filter(
      (e) => e.event_name === 'package_deleted',
    );

  it('records each version npm unpublish removes, by whom and from where', async () => {
    for (const version of ['1.0.0', '1.1.0', '2.0.0']) {
      const dir = await sb.dir(`src-${version}`);
      await writePackage(dir, { name: '@acme/widget', version }, { 'index.js': `module.exports = '${version}';\n` });
      expectOk(await sb.npm(['publish', '--registry', registry], dir), `publish ${version}`);
    }
    const cwd = await sb.dir('unpublish');
    expectOk(await sb.npm(['unpublish', '@acme/widget@2.0.0'], cwd), 'unpublish a version');
    const [one, ...none] = await deletions();
    expect(none).toEqual([]);
    expect(one).toMatchObject({
      author_id: alice.id,
      entity_type: 'Project',
      entity_id: projectId,
      details: {
        author_username: 'alice',
        authenticated_with: 'personal',
        package_type: 'npm',
        target_details: '@acme/widget@2.0.0',
        entity_path: 'acme/lib',
        ip_address: '127.0.0.1',
      },
    });
    expect(String(one.details.user_agent)).toMatch(/^npm\//);

    expectOk(await sb.npm(['unpublish', '@acme/widget', '--force'], cwd), 'unpublish the package');
    const all = await deletions();
    expect(all.map((e) => e.details.target_details).sort()).toEqual(['@acme/widget@1.0.0', '@acme/widget@1.1.0', '@acme/widget@2.0.0']);
    expect(all.every((e) => e.author_id === alice.id && e.details.ip_address === '127.0.0.1')).toBe(true);
  });
});
