import { Readable } from 'node:stream';

import { BlobNotFoundError, type BlobStore, defineStoragePlugin } from '@stowage/core';
import { buildZip, multipart, startTestServer, type TestServer, type TestUser } from '@stowage/testkit';

import { nugetFormat } from '../src';
import { nuspecXml } from './nuget.fixtures';

// Object storage without proxy_download: other formats answer downloads with a 302 to a
// presigned URL, but NuGet clients do not follow it (GitLab turns direct downloads off for
// NuGet), so the feed streams the bytes itself. The object store here is an in-memory one.

async function collect(body: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of body) chunks.push(Buffer.from(c));
  return Buffer.concat(chunks);
}

function memoryStore(): BlobStore {
  const objects = new Map<string, Buffer>();
  return {
    kind: 'object',
    async put(key, body) {
      objects.set(key, await collect(body));
    },
    async get(key, range) {
      const b = objects.get(key);
      if (!b) throw new BlobNotFoundError(key);
      return Readable.from([range ? b.subarray(range.start, range.end + 1) : b]);
    },
    async stat(key) {
      const b = objects.get(key);
      return b ? { size: b.length } : null;
    },
    async delete(key) {
      objects.delete(key);
    },
    async presignedGetUrl(key) {
      return `https://objects.example.com/${key}?signed`;
    },
    async check() {},
  };
}

describe('NuGet downloads from object storage without proxy_download', () => {
  let s: TestServer;
  let dev: TestUser;

  beforeAll(async () => {
    s = await startTestServer({
      formats: [nugetFormat],
      storages: [defineStoragePlugin({ name: 'memory', kind: 'object', create: memoryStore })],
      mode: 'embedded',
      config: { packages: { object_store: { enabled: true, direct_upload: true, background_upload: false, proxy_download: false } } },
    });
    dev = await s.api.createUser('dev');
  });
  afterAll(() => s?.close());

  it('streams the .nupkg (and the .nuspec) instead of redirecting', async () => {
    const project = await s.api.createProject('lib');
    await s.api.addMember({ project: project.id }, dev.id, 30);
    const base = `/api/v4/projects/${project.id}/packages/nuget`;
    const bytes = buildZip({ 'Os.Pkg.nuspec': nuspecXml('Os.Pkg', '1.0.0'), 'content/a.txt': 'a\n' });
    const { body, contentType } = multipart([{ name: 'package', value: bytes, fileName: 'package.nupkg' }]);
    const put = await s.api.inject({
      method: 'PUT',
      url: `${base}/`,
      payload: body,
      headers: { 'content-type': contentType, 'x-nuget-apikey': dev.token },
    });
    expect(put.status).toBe(201);

    const r = await s.api.inject({ url: `${base}/download/os.pkg/1.0.0/os.pkg.1.0.0.nupkg`, token: dev.token });
    expect(r.status).toBe(200);
    expect(r.headers.location).toBeUndefined();
    expect(r.rawPayload.equals(bytes)).toBe(true);
    const nuspec = await s.api.inject({ url: `${base}/download/os.pkg/1.0.0/os.pkg.nuspec`, token: dev.token });
    expect(nuspec.body).toBe(nuspecXml('Os.Pkg', '1.0.0'));
  });
});
