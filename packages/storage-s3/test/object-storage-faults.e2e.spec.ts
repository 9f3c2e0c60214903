import { randomBytes } from 'node:crypto';

import { FileStorage } from '@stowage/core';
import type { TestServer } from '@stowage/testkit';

import {
  download,
  genericPath,
  localFiles,
  objectKeys,
  objectStore,
  sha256,
  slowUpload,
  startObjectStoreServer,
  upload,
  useS3rver,
  waitFor,
} from './support';

const s3 = useS3rver();

describe('object storage faults (postgres)', () => {
  describe('direct upload', () => {
    let server: TestServer;
    let projectId: number;
    beforeAll(async () => {
      server = await startObjectStoreServer(s3(), 'postgres', { direct_upload: true, background_upload: false, proxy_download: true });
      projectId = (await server.api.createProject('faults')).id;
    });
    afterAll(async () => {
      await server?.close();
      await s3()
        .start()
        .catch(() => undefined);
    });

    it('answers 503 while S3 is down, stores nothing, and works again when it returns', async () => {
      const bytes = randomBytes(50_000);
      const path = genericPath(projectId, 'down', '1.0.0', 'a.bin');
      await s3().stop();
      try {
        const res = await upload(server, path, bytes);
        expect(res.status).toBe(503);
        expect(await res.json()).toEqual({ message: '503 Service Unavailable - object storage is unreachable' });
        const ready = await server.api.inject({ url: '/-/readiness' });
        expect(ready.status).toBe(503);
        expect(ready.json().checks.storage_object).toEqual({
          status: 'failed',
          message: expect.stringContaining('bucket packages is unreachable'),
        });
        expect(ready.json().checks.storage_local).toEqual({ status: 'ok' });
      } finally {
        await s3().start();
      }
      expect(await server.app.get(FileStorage).blob(sha256(bytes))).toBeNull();
      expect((await download(server, path)).res.status).toBe(404);
      expect(await objectKeys(server)).toEqual([]);
      expect(await localFiles(server)).toEqual([]);

      const again = await upload(server, path, bytes);
      expect(again.status).toBe(200);
      expect(sha256((await download(server, path)).body)).toBe(sha256(bytes));
      expect((await server.api.inject({ url: '/-/readiness' })).status).toBe(200);
    });

    it('S3 stopped in the middle of a 24 MB streamed upload: 503, nothing stored; then the same upload works', async () => {
      const chunks = Array.from({ length: 24 }, () => randomBytes(1 << 20));
      const all = Buffer.concat(chunks);
      const path = genericPath(projectId, 'mid', '1.0.0', 'big.bin');
      const keysBefore = await objectKeys(server);
      // After 12 MiB the first 8 MiB part has gone to S3 as part of a multipart upload.
      const res = await slowUpload(server, path, chunks, 12 << 20, () => s3().stop());
      await s3().start();
      expect(res.status).toBe(503);
      expect(JSON.parse(res.text)).toEqual({ message: '503 Service Unavailable - object storage is unreachable' });
      expect(await server.app.get(FileStorage).blob(sha256(all))).toBeNull();
      expect(await objectKeys(server)).toEqual(keysBefore);
      expect(await localFiles(server)).toEqual([]);

      const again = await upload(server, path, all);
      expect(again.status).toBe(200);
      const back = await download(server, path);
      expect(sha256(back.body)).toBe(sha256(all));
    }, 60_000);
  });

  describe('background upload', () => {
    let server: TestServer;
    let projectId: number;
    beforeAll(async () => {
      server = await startObjectStoreServer(s3(), 'postgres', { direct_upload: false, background_upload: true, proxy_download: true });
      projectId = (await server.api.createProject('bg')).id;
    });
    afterAll(async () => {
      await server?.close();
      await s3()
        .start()
        .catch(() => undefined);
    });

    it('moves a 20 MB file (multipart) in the background and serves the same bytes from S3', async () => {
      const bytes = randomBytes(20 << 20);
      const path = genericPath(projectId, 'large', '1.0.0', 'large.bin');
      expect((await upload(server, path, bytes)).status).toBe(200);
      await server.drainJobs();
      const storage = server.app.get(FileStorage);
      const row = await waitFor('the background upload', async () => {
        const b = await storage.blob(sha256(bytes));
        return b?.store === 'object' ? b : null;
      });
      expect(await objectStore(server).stat(row.storage_key)).toEqual({ size: bytes.length, lastModified: expect.any(Date) });
      expect(await localFiles(server)).toEqual([]);
      const back = await download(server, path);
      expect(back.res.status).toBe(200);
      expect(sha256(back.body)).toBe(sha256(bytes));
      const ranged = await download(server, path, { headers: { range: `bytes=${(9 << 20) - 5}-${(9 << 20) + 4}` } });
      expect(ranged.body.equals(bytes.subarray((9 << 20) - 5, (9 << 20) + 5))).toBe(true);
    }, 60_000);

    it('accepts uploads while S3 is down, serves them from disk, and moves them when S3 returns', async () => {
      const bytes = randomBytes(70_000);
      const path = genericPath(projectId, 'later', '1.0.0', 'b.bin');
      const storage = server.app.get(FileStorage);
      await s3().stop();
      let restarted = false;
      try {
        const res = await upload(server, path, bytes);
        expect(res.status).toBe(200);
        expect((await storage.blob(sha256(bytes)))?.store).toBe('local');
        expect(sha256((await download(server, path)).body)).toBe(sha256(bytes));
        await new Promise((r) => setTimeout(r, 500)); // the job's first attempt fails meanwhile
        expect((await storage.blob(sha256(bytes)))?.store).toBe('local');
        await s3().start();
        restarted = true;
      } finally {
        if (!restarted) await s3().start();
      }
      // The retry (2 s backoff) moves it.
      const row = await waitFor('the retried background upload', async () => {
        const b = await storage.blob(sha256(bytes));
        return b?.store === 'object' ? b : null;
      });
      expect(await objectKeys(server)).toContain(row.storage_key);
      expect(await localFiles(server)).toEqual([]);
      expect(sha256((await download(server, path)).body)).toBe(sha256(bytes));
    });
  });
});
