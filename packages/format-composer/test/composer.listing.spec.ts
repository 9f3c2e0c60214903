import { multipart, startTestServer, testModes, type TestProject, type TestServer, type TestUser } from '@stowage/testkit';

import { composerFormat } from '../src';
import { packageZip, sha256 } from './composer.fixtures';

const COMPOSER1 = 'Composer/1.10.26 (Linux; 6.1; PHP 8.2.7)';
const COMPOSER2 = 'Composer/2.5.5 (Linux; 6.1; PHP 8.2.7; cURL 7.88.1)';

// A Guest of a non-public project may install a package it names but not list the project's
// packages (GitLab; the PyPI index and the Packages API answer it 403). The group repository's
// listings (`available-packages`, Composer 1's provider listing) leave such a project out,
// while a name's own file, which an install reads, still comes from it.
describe.each(testModes())('composer: a guest sees no name it may not list (%s)', (mode) => {
  let s: TestServer;
  let group: { id: number };
  let hidden: TestProject;
  let open: TestProject;
  let guest: TestUser;
  let groupGuest: TestUser;
  let reporter: TestUser;

  const read = (path: string, token: string, agent = COMPOSER2) =>
    s.api.inject({ url: `/api/v4/group/${group.id}/-/packages/composer/${path}`, headers: { 'user-agent': agent }, token });
  const upload = async (project: TestProject, name: string, version: string) => {
    const zip = packageZip({ name, type: 'library' }, { 'src/A.php': '<?php\n' });
    const { body, contentType } = multipart(
      [
        { name: 'version', value: version },
        { name: 'file', value: zip, fileName: 'pkg.zip' },
      ],
      { fileType: 'application/zip' },
    );
    const res = await s.api.inject({
      method: 'POST',
      url: `/api/v4/projects/${project.id}/packages/composer`,
      payload: body,
      headers: { 'content-type': contentType },
      token: s.rootToken,
    });
    expect([res.status, res.json()]).toEqual([201, { message: '201 Created' }]);
  };
  /** Composer 1's provider listing, reached as the client does: through packages.json's provider-includes hash. */
  const providers = async (token: string): Promise<Record<string, { sha256: string }>> => {
    const root = (await read('packages.json', token, COMPOSER1)).json();
    const hash = root['provider-includes']['p/%hash%.json'].sha256;
    return (await read(`p/${hash}.json`, token, COMPOSER1)).json().providers;
  };

  beforeAll(async () => {
    s = await startTestServer({ formats: [composerFormat], mode });
    ({ group, project: hidden, guest, groupGuest, reporter } = await s.api.guestListingAudience('hidden'));
    open = await s.api.createProject('open', { namespaceId: group.id, visibility: 'public' });
    await upload(hidden, 'team/secret', '1.0.0');
    await upload(open, 'team/open', '1.0.0');
  }, 120_000);
  afterAll(() => s?.close());

  it.each(['guest', 'groupGuest'] as const)(
    'a %s: no hidden name in packages.json or the provider listing, yet a name it knows installs',
    async (who) => {
      const token = { guest, groupGuest }[who].token;
      expect((await read('packages.json', token)).json()['available-packages']).toEqual(['team/open']);
      expect((await read('packages.json', token, COMPOSER1)).json()['available-packages']).toEqual(['team/open']);
      const listed = await providers(token);
      expect(Object.keys(listed)).toEqual(['team/open']);
      const file = await read(`team/open$${listed['team/open'].sha256}.json`, token, COMPOSER1);
      expect(sha256(file.rawPayload)).toBe(listed['team/open'].sha256);
      // What `composer require team/secret` reads: the name's own file, and the archive it points at.
      const secret = await read('p2/team/secret.json', token);
      expect(secret.status).toBe(200);
      const [version] = secret.json().packages['team/secret'];
      const dist = new URL(version.dist.url);
      expect((await s.api.inject({ url: dist.pathname + dist.search, token })).status).toBe(200);
    },
  );

  it('a Reporter lists every name', async () => {
    expect((await read('packages.json', reporter.token)).json()['available-packages']).toEqual(['team/open', 'team/secret']);
    expect(Object.keys(await providers(reporter.token))).toEqual(['team/open', 'team/secret']);
  });
});
