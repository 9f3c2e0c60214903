import { createHash } from 'node:crypto';

import { filesUnder, http, startTestServer, testModes, type TestProject, type TestServer } from '@stowage/testkit';

import { mavenFormat } from '../src';

// Hostile or broken bodies through the real listening server: each is a 4xx in GitLab's
// words, the connection answers rather than resets, and nothing is stored.

describe.each(testModes())('maven bad input (%s)', (mode) => {
  let s: TestServer;
  let project: TestProject;
  let base: string;
  const dir = 'acme/libs/core/1.0';
  const jar = Buffer.from('jar bytes '.repeat(50));

  const put = (path: string, opts: { body?: Buffer | string; chunks?: Buffer[] }) =>
    http(s.url, { method: 'PUT', path: `${base}/${path}`, token: s.rootToken, ...opts });
  const stored = () => filesUnder(s.storagePath);

  beforeAll(async () => {
    s = await startTestServer({ formats: [mavenFormat], mode, listen: true });
    project = await s.api.createProject('libs');
    base = `/api/v4/projects/${project.id}/packages/maven`;
    expect((await put(`${dir}/core-1.0.jar`, { body: jar })).status).toBe(200);
  });
  afterAll(() => s?.close());

  describe('a checksum body over 1 KiB is a 400, not a reset', () => {
    const sha1 = createHash('sha1').update(jar).digest('hex');
    const cases: [string, () => { body?: Buffer; chunks?: Buffer[] }][] = [
      ['2 KiB with Content-Length', () => ({ body: Buffer.from(`${sha1}${' '.repeat(2048)}`) })],
      ['2 KiB chunked', () => ({ chunks: [Buffer.from(sha1), Buffer.alloc(2048, 0x20)] })],
      ['1 MiB with Content-Length', () => ({ body: Buffer.alloc(1024 * 1024, 0x61) })],
      ['1 MiB chunked', () => ({ chunks: Array.from({ length: 16 }, () => Buffer.alloc(64 * 1024, 0x61)) })],
    ];
    it.each(cases)('%s', async (_name, body) => {
      const before = await stored();
      const res = await put(`${dir}/core-1.0.jar.sha1`, body());
      expect([res.status, res.json().message]).toEqual([400, '400 Bad request - File is too large']);
      expect(await stored()).toEqual(before);
      // The same server still takes the correct checksum.
      expect((await put(`${dir}/core-1.0.jar.sha1`, { body: sha1 })).status).toBe(204);
    });
  });
});
