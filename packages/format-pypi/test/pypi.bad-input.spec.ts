import { createHash } from 'node:crypto';

import { buildZip, filesUnder, http, startTestServer, testModes, type TestProject, type TestServer } from '@stowage/testkit';

import { pypiFormat } from '../src';

const B = 'stowage-bad-input';

function form(fields: [string, string][], file: { name: string; bytes: Buffer }): Buffer {
  const parts: Buffer[] = [];
  for (const [k, v] of fields) parts.push(Buffer.from(`--${B}\r\nContent-Disposition: form-data; name="${k}"\r\n\r\n${v}\r\n`));
  // A name with `%` is sent RFC 5987-encoded (`filename*=`), as it may be.
  const fileName = file.name.includes('%') ? `filename*=utf-8''${file.name}` : `filename="${file.name}"`;
  parts.push(
    Buffer.from(`--${B}\r\nContent-Disposition: form-data; name="content"; ${fileName}\r\nContent-Type: application/octet-stream\r\n\r\n`),
    file.bytes,
    Buffer.from('\r\n'),
  );
  parts.push(Buffer.from(`--${B}--\r\n`));
  return Buffer.concat(parts);
}

const wheel = buildZip({
  'demo_pkg.py': 'X = 1\n',
  'demo_pkg-1.0.dist-info/METADATA': 'Metadata-Version: 2.1\nName: demo_pkg\nVersion: 1.0\n\nbody\n',
  'demo_pkg-1.0.dist-info/RECORD': '',
});

// Hostile form fields through the listening server: a 400 twine prints, nothing stored.
describe.each(testModes())('pypi bad input (%s)', (mode) => {
  let s: TestServer;
  let project: TestProject;

  const upload = (fields: [string, string][], fileName = 'demo_pkg-1.0-py3-none-any.whl') =>
    http(s.url, {
      method: 'POST',
      path: `/api/v4/projects/${project.id}/packages/pypi`,
      token: s.rootToken,
      headers: { 'content-type': `multipart/form-data; boundary=${B}` },
      body: form([[':action', 'file_upload'], ['name', 'demo-pkg'], ['version', '1.0'], ['filetype', 'bdist_wheel'], ...fields], {
        name: fileName,
        bytes: wheel,
      }),
    });
  const stored = () => filesUnder(s.storagePath);
  const versions = async () =>
    (await s.api.root<{ version: string }[]>('GET', `/api/v4/projects/${project.id}/packages`)).map((p) => p.version);

  beforeAll(async () => {
    s = await startTestServer({ formats: [pypiFormat], mode, listen: true });
    project = await s.api.createProject('py');
  });
  afterAll(() => s?.close());

  it.each(['summary', 'description', 'keywords', 'requires_python', 'author_email'])(
    'a NUL in the %s field is a 400, not a jsonb 500',
    async (field) => {
      const before = await stored();
      const res = await upload([[field, 'a\0b']]);
      expect([res.status, res.json()]).toEqual([
        400,
        { message: `400 Bad request - Invalid multipart body: field ${field} contains a NUL character` },
      ]);
      expect(await stored()).toEqual(before);
      expect(await versions()).toEqual([]);
    },
  );

  it.each(['summary', 'description', 'requires_python'])(
    'half of a surrogate pair in the %s field (sent as UTF-16) is a 400, not a jsonb 500',
    async (field) => {
      const before = await stored();
      // busboy decodes a part by its charset: the bytes 00 D8 in UTF-16LE are a lone \ud800.
      const utf16 = Buffer.concat([
        Buffer.from(`--${B}\r\nContent-Disposition: form-data; name="${field}"\r\nContent-Type: text/plain; charset=utf-16le\r\n\r\n`),
        Buffer.from([0x61, 0x00, 0x00, 0xd8]),
        Buffer.from('\r\n'),
      ]);
      const res = await http(s.url, {
        method: 'POST',
        path: `/api/v4/projects/${project.id}/packages/pypi`,
        token: s.rootToken,
        headers: { 'content-type': `multipart/form-data; boundary=${B}` },
        body: Buffer.concat([
          utf16,
          form(
            [
              [':action', 'file_upload'],
              ['name', 'demo-pkg'],
              ['version', '1.0'],
            ],
            { name: 'demo_pkg-1.0-py3-none-any.whl', bytes: wheel },
          ),
        ]),
      });
      expect([res.status, res.json()]).toEqual([
        400,
        { message: `400 Bad request - Invalid multipart body: field ${field} contains an unpaired UTF-16 surrogate (\\ud800-\\udfff)` },
      ]);
      expect(await stored()).toEqual(before);
      expect(await versions()).toEqual([]);
    },
  );

  it('a NUL in the file name, raw or percent-encoded, is a 400', async () => {
    const raw = await upload([], 'demo_pkg-1.0-py3-none-any.whl\0.whl');
    expect([raw.status, raw.json().message]).toEqual([400, expect.stringMatching(/^400 Bad request - Invalid multipart body: /)]);
    const encoded = await upload([], 'demo_pkg-1.0-py3-none-any.whl%00.whl');
    expect([encoded.status, encoded.json()]).toEqual([
      400,
      { message: '400 Bad request - Invalid multipart body: part headers contain a NUL character' },
    ]);
    expect(await versions()).toEqual([]);
  });

  it('the same upload without the NUL is stored', async () => {
    const res = await upload([
      ['summary', 'a b'],
      ['sha256_digest', createHash('sha256').update(wheel).digest('hex')],
    ]);
    expect(res.status).toBe(201);
    expect(await versions()).toEqual(['1.0']);
  });
});
