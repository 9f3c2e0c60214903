import {
  filesUnder,
  type FormPart,
  http,
  multipart,
  startTestServer,
  testModes,
  type TestProject,
  type TestServer,
} from '@stowage/testkit';

import { composerFormat } from '../src';
import { packageZip } from './composer.fixtures';

// Hostile composer.json and form fields through the listening server: a 4xx in GitLab's
// words (422 for a manifest it cannot read, 400 for a field), and nothing stored.

describe.each(testModes())('composer bad input (%s)', (mode) => {
  let s: TestServer;
  let lib: TestProject;

  const publish = (parts: FormPart[]) => {
    const { body, contentType } = multipart(parts, { fileType: 'application/zip' });
    return http(s.url, {
      method: 'POST',
      path: `/api/v4/projects/${lib.id}/packages/composer`,
      token: s.rootToken,
      body,
      headers: { 'content-type': contentType },
    });
  };
  const upload = (composerJson: string, fields: Record<string, string> = { version: '1.0.0' }) =>
    publish([
      ...Object.entries(fields).map(([name, value]) => ({ name, value })),
      { name: 'file', value: packageZip(composerJson), fileName: 'pkg.zip' },
    ]);
  const stored = () => filesUnder(s.storagePath);
  const versions = async () =>
    (await s.api.root<{ version: string }[]>('GET', `/api/v4/projects/${lib.id}/packages`)).map((p) => p.version);

  beforeAll(async () => {
    s = await startTestServer({ formats: [composerFormat], mode, listen: true });
    lib = await s.api.createProject('lib');
  });
  afterAll(() => s?.close());

  it('a composer.json nested 10,000 deep is a 422, not a 500', async () => {
    const deep = `${'['.repeat(10_000)}${']'.repeat(10_000)}`;
    const res = await upload(`{"name":"acme/deep","extra":${deep}}`);
    expect([res.status, res.json()]).toEqual([
      422,
      { message: 'Could not parse composer.json file. Refused: nesting of 101 is too deep (at most 100)' },
    ]);
    expect(await stored()).toEqual([]);
    expect(await versions()).toEqual([]);
  });

  it('a NUL in a composer.json key or string is a 422', async () => {
    for (const json of ['{"name":"acme/nul","description":"a\\u0000b"}', '{"name":"acme/nul","extra":{"k\\u0000":1}}']) {
      const res = await upload(json);
      expect([res.status, res.json()]).toEqual([
        422,
        { message: 'Could not parse composer.json file. Refused: a NUL character (\\u0000) is not allowed' },
      ]);
    }
    expect(await stored()).toEqual([]);
  });

  it('half of a surrogate pair in composer.json is a 422', async () => {
    const res = await upload('{"name":"acme/half","description":"\\ud800"}');
    expect([res.status, res.json()]).toEqual([
      422,
      { message: 'Could not parse composer.json file. Refused: an unpaired UTF-16 surrogate (\\ud800-\\udfff) is not allowed' },
    ]);
    expect(await versions()).toEqual([]);
  });

  it('a NUL in a form field is a 400', async () => {
    for (const field of ['version', 'tag', 'branch']) {
      const res = await upload('{"name":"acme/fields"}', { [field]: 'v1.0\u0000' });
      expect(res.status).toBe(400);
    }
    expect(await stored()).toEqual([]);
    expect(await versions()).toEqual([]);
  });

  it('a manifest nested 100 deep is still published', async () => {
    const ok = `${'['.repeat(99)}${']'.repeat(99)}`;
    expect((await upload(`{"name":"acme/ok","extra":${ok}}`)).status).toBe(201);
    expect(await versions()).toEqual(['1.0.0']);
  });
});
