import { randomBytes } from 'node:crypto';

import { BlobCollector, FileStorage } from '@stowage/core';
import { testModes, type TestServer } from '@stowage/testkit';

import {
  download,
  genericPath,
  localFiles,
  objectKeys,
  type ObjectStoreSettings,
  sha256,
  startObjectStoreServer,
  upload,
  useS3rver,
  waitFor,
} from './support';

const s3 = useS3rver();

const COMBINATIONS: [string, ObjectStoreSettings, 'object' | 'local'][] = [
  ['direct upload, proxy download', { direct_upload: true, background_upload: false, proxy_download: true }, 'object'],
  ['direct upload, redirect download', { direct_upload: true, background_upload: false, proxy_download: false }, 'object'],
  ['background upload, redirect download', { direct_upload: false, background_upload: true, proxy_download: false }, 'object'],
  [
    'local upload without background upload, proxy download',
    { direct_upload: false, background_upload: false, proxy_download: true },
    'local',
  ],
];

describe.each(testModes())('object storage (%s)', (mode) => {
  describe.each(COMBINATIONS)('%s', (_label, settings, finalStore) => {
    let server: TestServer;
    let projectId: number;

    beforeAll(async () => {
      server = await startObjectStoreServer(s3(), mode, settings);
      projectId = (await server.api.createProject('objects')).id;
    });
    afterAll(async () => {
      await server?.close();
    });

    it('uploads, downloads (whole, ranged, HEAD) and deletes a file', async () => {
      const bytes = randomBytes(300_000);
      const path = genericPath(projectId, 'pkg', '1.0.0', 'file.bin');
      const up = await upload(server, path, bytes);
      expect(up.status).toBe(200);
      const file = (await up.json()) as { package_id: number; file_sha256: string };
      expect(file.file_sha256).toBe(sha256(bytes));

      const storage = server.app.get(FileStorage);
      if (settings.background_upload && !settings.direct_upload) {
        // The move to object storage runs in the background and may already be done: wait
        // for it rather than asserting a state it may have left (where an upload lands first
        // is checked by the faults test, which keeps S3 down while it uploads).
        await server.drainJobs();
        await waitFor('the background upload', async () => (await storage.blob(sha256(bytes)))?.store === 'object');
      } else {
        expect((await storage.blob(sha256(bytes)))?.store).toBe(finalStore);
      }
      const row = (await storage.blob(sha256(bytes)))!;
      expect(row.store).toBe(finalStore);
      if (finalStore === 'object') {
        expect(await objectKeys(server)).toEqual([row.storage_key]);
        expect(await localFiles(server)).toEqual([]); // the local copy is gone after the move
      } else {
        expect(await objectKeys(server)).toEqual([]);
        expect(await localFiles(server)).toEqual([row.storage_key]);
      }

      const redirects = finalStore === 'object' && !settings.proxy_download;
      const manual = await download(server, path, { redirect: 'manual' });
      if (redirects) {
        expect(manual.res.status).toBe(302);
        const location = manual.res.headers.get('location')!;
        expect(location.startsWith(s3().endpoint)).toBe(true);
        expect(location).toContain('X-Amz-Expires=300');
        const direct = await fetch(location);
        expect(direct.status).toBe(200);
        expect(direct.headers.get('content-disposition')).toBe(`attachment; filename="file.bin"; filename*=UTF-8''file.bin`);
        expect(sha256(Buffer.from(await direct.arrayBuffer()))).toBe(sha256(bytes));
      } else {
        expect(manual.res.status).toBe(200);
        expect(manual.res.headers.get('etag')).toBe(`"${sha256(bytes)}"`);
        expect(sha256(manual.body)).toBe(sha256(bytes));
      }

      // Followed like curl -L / fetch: the right bytes either way, and Range still works.
      const followed = await download(server, path);
      expect(followed.res.status).toBe(200);
      expect(sha256(followed.body)).toBe(sha256(bytes));
      const ranged = await download(server, path, { headers: { range: 'bytes=1000-1999' } });
      expect(ranged.res.status).toBe(206);
      expect(ranged.body.equals(bytes.subarray(1000, 2000))).toBe(true);
      if (!redirects) {
        // (s3rver answers suffix ranges wrongly, so only the proxied path is checked for them.)
        const suffix = await download(server, path, { headers: { range: 'bytes=-10' } });
        expect(suffix.res.status).toBe(206);
        expect(suffix.body.equals(bytes.subarray(bytes.length - 10))).toBe(true);
        expect(ranged.res.headers.get('content-range')).toBe(`bytes 1000-1999/${bytes.length}`);
        const head = await fetch(`${server.url}${path}`, { method: 'HEAD', headers: { 'private-token': server.rootToken } });
        expect(head.status).toBe(200);
        expect(head.headers.get('content-length')).toBe(String(bytes.length));
      }

      const del = await server.api.inject({
        method: 'DELETE',
        url: `/api/v4/projects/${projectId}/packages/${file.package_id}`,
        token: server.rootToken,
      });
      expect(del.status).toBe(204);
      expect((await download(server, path)).res.status).toBe(404);
      // Collected after the grace period, from whichever store holds it.
      expect(await server.app.get(BlobCollector).collect(0)).toBe(1);
      expect(await storage.blob(sha256(bytes))).toBeNull();
      expect(await objectKeys(server)).toEqual([]);
      expect(await localFiles(server)).toEqual([]);
    });

    it('readiness reports the bucket', async () => {
      const res = await server.api.inject({ url: '/-/readiness' });
      expect(res.status).toBe(200);
      expect(res.json().checks.storage_object).toEqual({ status: 'ok' });
    });
  });
});
