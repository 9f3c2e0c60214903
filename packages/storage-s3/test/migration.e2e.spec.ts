import { randomBytes } from 'node:crypto';

import { BlobCollector, BlobMigration, BlobMover, FileStorage, PackageService } from '@stowage/core';
import { genericFormat } from '@stowage/format-generic';
import { localStorage } from '@stowage/storage-local';
import type { TestServer } from '@stowage/testkit';

import { formatBytes, packagesMigrate, packagesVerify } from '../../../apps/server/src/packages-commands';
import { s3Storage } from '../src';
import { startS3rver, type TestS3 } from './s3rver';
import {
  download,
  genericPath,
  httpGet,
  localFiles,
  objectKeys,
  objectStore,
  sha256,
  startObjectStoreServer,
  upload,
  waitFor,
} from './support';

interface StoredFile {
  path: string;
  sha256: string;
  packageId: number;
  size: number;
}

/** Clients downloading every file over and over; any status but 200 or any wrong byte is an error. */
function downloadLoop(server: TestServer, files: () => StoredFile[], clients = 3) {
  const errors: string[] = [];
  let downloads = 0;
  let redirects = 0;
  let stopped = false;
  const runs = Array.from({ length: clients }, async (_, c) => {
    let i = c;
    while (!stopped) {
      const list = files();
      const f = list[i++ % list.length];
      try {
        const { status, body, redirected } = await httpGet(server, f.path);
        if (redirected) redirects++;
        if (status !== 200) errors.push(`${f.path}: ${status}${redirected ? ' (after a redirect)' : ''} ${body.toString().slice(0, 200)}`);
        else if (sha256(body) !== f.sha256) errors.push(`${f.path}: wrong bytes`);
        downloads++;
      } catch (err) {
        errors.push(`${f.path}: ${(err as Error).message}`);
      }
    }
  });
  return {
    errors,
    count: () => downloads,
    redirects: () => redirects,
    stop: async () => {
      stopped = true;
      await Promise.all(runs);
    },
  };
}

function capture() {
  let out = '';
  let err = '';
  return {
    output: { out: (s: string) => void (out += s), err: (s: string) => void (err += s), tty: true },
    out: () => out,
    err: () => err,
  };
}

describe('stowage packages migrate (postgres)', () => {
  const N = 240;
  const DELETED = 20;
  let s3: TestS3;
  let server: TestServer;
  let projectId: number;
  let files: StoredFile[] = [];

  beforeAll(async () => {
    s3 = await startS3rver();
    // Without the small-file cache: downloads here are reads from the stores while blobs move.
    server = await startObjectStoreServer(
      s3,
      'postgres',
      { direct_upload: false, background_upload: false, proxy_download: true },
      { packages: { small_file_cache_size: 0 } },
    );
    projectId = (await server.api.createProject('migrate')).id;
    // Mixed sizes: mostly small, a few of a megabyte or more (several multipart parts for none, but streamed).
    const sizes = Array.from({ length: N }, (_, i) => (i % 40 === 0 ? 1_500_000 + i : 200 + ((i * 7919) % 30_000)));
    let next = 0;
    await Promise.all(
      Array.from({ length: 6 }, async () => {
        while (next < N) {
          const i = next++;
          const bytes = randomBytes(sizes[i]);
          const path = genericPath(projectId, 'f', `1.0.${i}`, `f${i}.bin`);
          const res = await upload(server, path, bytes);
          if (res.status !== 200) throw new Error(`upload ${i}: ${res.status}`);
          const json = (await res.json()) as { package_id: number };
          files[i] = { path, sha256: sha256(bytes), packageId: json.package_id, size: bytes.length };
        }
      }),
    );
  }, 60_000);

  afterAll(async () => {
    await server?.close();
    await s3?.close();
  });

  it('moves every file to object storage under load, interrupted and resumed, with GC running; then verify is clean', async () => {
    expect(await localFiles(server)).toHaveLength(N);
    const migration = server.app.get(BlobMigration);
    const deleted = files.slice(0, DELETED);
    const kept = files.slice(DELETED);
    const loop = downloadLoop(server, () => kept);
    // The load is on before the migration starts (how much runs beside it depends on the machine).
    const atStart = await waitFor('downloads beside the migration', async () => (loop.count() >= 5 ? loop.count() : null));

    const abort = new AbortController();
    const first = await migration.migrate({
      to: 'object',
      batch: 40,
      signal: abort.signal,
      onProgress: (p) => (p.done >= 80 ? abort.abort() : undefined),
    });
    expect(first).toMatchObject({ interrupted: true, total: N, done: 80, moved: 80, failed: 0, skipped: 0 });
    // What the admin view (and the web UI's admin page) shows of it, from any server.
    const adminView = async () =>
      (await server.api.inject({ url: '/api/v4/application/packages', token: server.rootToken })).json<{ migration: unknown }>().migration;
    expect(await adminView()).toMatchObject({ to: 'object', running: false, interrupted: true, total: N, done: 80, moved: 80, failed: 0 });

    // Packages deleted and collected while the second run moves blobs: no move may resurrect them.
    const second = migration.migrate({ to: 'object', batch: 40 });
    for (const f of deleted) {
      const res = await server.api.inject({
        method: 'DELETE',
        url: `/api/v4/projects/${projectId}/packages/${f.packageId}`,
        token: server.rootToken,
      });
      expect(res.status).toBe(204);
    }
    const collector = server.app.get(BlobCollector);
    let collected = await collector.collect(0);
    const done = await second;
    // The collector skips a blob row that a move is flipping at that moment; the next pass takes it.
    collected += await collector.collect(0);
    await loop.stop();

    // s3rver's own errors are shown with the clients' (its answer says only "internal error").
    expect({ errors: loop.errors, ...(loop.errors.length ? { s3rver: s3.internalErrors } : {}) }).toEqual({ errors: [] });
    expect(loop.count()).toBeGreaterThan(atStart);
    expect(collected).toBe(DELETED);
    expect(done.interrupted).toBe(false);
    expect(done.failed).toBe(0);
    expect(await adminView()).toMatchObject({ to: 'object', running: false, interrupted: false, done: done.done, moved: done.moved });
    expect(first.moved + done.moved).toBeGreaterThanOrEqual(N - DELETED);
    expect(first.moved + done.moved).toBeLessThanOrEqual(N);

    const storage = server.app.get(FileStorage);
    for (const f of deleted) expect(await storage.blob(f.sha256)).toBeNull();
    const rows = await Promise.all(kept.map((f) => storage.blob(f.sha256)));
    expect(rows.every((r) => r?.store === 'object')).toBe(true);
    // Nothing lost and nothing duplicated: exactly one object per blob, no local copies left.
    expect((await objectKeys(server)).sort()).toEqual(rows.map((r) => r!.storage_key).sort());
    expect(await localFiles(server)).toEqual([]);

    const verify = await migration.verify();
    expect(verify).toMatchObject({ checked: N - DELETED, ok: N - DELETED, problems: [] });
    expect([verify.leftovers.object?.unreferenced.found.count, verify.leftovers.local?.unreferenced.found.count]).toEqual([0, 0]);
    files = kept;
  }, 80_000);

  it('--to local moves them back through the CLI command, under load; verify reports clean', async () => {
    const loaded = { config: server.config, formats: [genericFormat], storages: [localStorage, s3Storage] };
    const loop = downloadLoop(server, () => files);
    const cli = capture();
    const code = await packagesMigrate(loaded, { to: 'local', batch: 50 }, cli.output);
    await loop.stop();
    // s3rver's own errors are shown with the clients' (its answer says only "internal error").
    expect({ errors: loop.errors, ...(loop.errors.length ? { s3rver: s3.internalErrors } : {}) }).toEqual({ errors: [] });
    const bytes = files.reduce((n, f) => n + f.size, 0);
    expect(cli.out()).toMatch(
      new RegExp(
        `^migration to local storage finished\nmoved: ${files.length}\nskipped: 0\nfailed: 0\nbytes: ${bytes} \\(\\d+\\.\\d MB\\)\n$`,
      ),
    );
    expect(cli.err()).toContain(`\r[${'#'.repeat(30)}] ${files.length}/${files.length} 100%`);
    expect(code).toBe(0);

    const storage = server.app.get(FileStorage);
    const rows = await Promise.all(files.map((f) => storage.blob(f.sha256)));
    expect(rows.every((r) => r?.store === 'local')).toBe(true);
    expect(await objectKeys(server)).toEqual([]);
    expect((await localFiles(server)).sort()).toEqual(rows.map((r) => r!.storage_key).sort());

    const again = capture();
    expect(await packagesMigrate(loaded, { to: 'local', batch: 100 }, again.output)).toBe(0);
    expect(again.out()).toContain(`moved: 0\nskipped: ${files.length}\nfailed: 0\nbytes: 0 (0 B)\n`);

    const v = capture();
    expect(await packagesVerify(loaded, { sweep: false }, v.output)).toBe(0);
    expect(v.out()).toContain(`checked: ${files.length}\nok: ${files.length}\nproblems: 0\n`);
  }, 80_000);

  it('a move killed before the flip leaves the blob readable where it was; after the flip, readers follow; re-running finishes', async () => {
    const f = files[0];
    const storage = server.app.get(FileStorage);
    const mover = server.app.get(BlobMover);
    const migration = server.app.get(BlobMigration);
    const object = objectStore(server);
    const local = storage.blobStore('local');
    const before = (await storage.blob(f.sha256))!;
    expect(before.store).toBe('local');

    // Killed after copying, before reading the copy back and flipping (and so before any cleanup).
    const get = jest.spyOn(object, 'get').mockRejectedValueOnce(new Error('killed'));
    const del = jest.spyOn(object, 'delete').mockRejectedValueOnce(new Error('killed'));
    await expect(mover.move(f.sha256, 'object')).rejects.toThrow('killed');
    get.mockRestore();
    del.mockRestore();
    expect(await storage.blob(f.sha256)).toMatchObject({ store: 'local', storage_key: before.storage_key });
    expect(sha256((await download(server, f.path)).body)).toBe(f.sha256);
    const orphans = await migration.unreferencedKeys('object');
    expect(orphans).toHaveLength(1);
    const { leftovers } = await migration.verify();
    expect([leftovers.object?.unreferenced.found.count, leftovers.local?.unreferenced.found.count]).toEqual([1, 0]);

    // A reader that read the row before the flip and opens after the old copy is gone is served the new copy.
    const stale = (await storage.blob(f.sha256))!;
    expect(await mover.move(f.sha256, 'object')).toEqual({ outcome: 'moved', bytes: stale.size });
    expect(await local.stat(stale.storage_key)).toBeNull();
    const opened = await storage.open(f.sha256);
    const chunks: Buffer[] = [];
    for await (const c of opened) chunks.push(c as Buffer);
    expect(sha256(Buffer.concat(chunks))).toBe(f.sha256);
    // The download's file row (read with its blob) is the one read before the flip.
    const packages = server.app.get(PackageService);
    const findPackageFile = packages.findPackageFile.bind(packages);
    const staleFile = jest.spyOn(packages, 'findPackageFile').mockImplementationOnce(async (...args) => {
      const found = await findPackageFile(...args);
      return found && { ...found, file: found.file && { ...found.file, blob: stale } };
    });
    const freshRow = jest.spyOn(storage, 'blob');
    const { res, body } = await download(server, f.path);
    expect(staleFile).toHaveBeenCalledTimes(1);
    expect(freshRow).toHaveBeenCalledTimes(1); // the open of the stale row failed; the row was read again
    staleFile.mockRestore();
    freshRow.mockRestore();
    expect(res.status).toBe(200);
    expect(sha256(body)).toBe(f.sha256);

    // Running it again is a no-op; the sweep removes the copy the killed move left.
    expect(await mover.move(f.sha256, 'object')).toEqual({ outcome: 'skipped', reason: 'in-place' });
    const config = { ...server.config, packages: { ...server.config.packages, blob_grace_period_hours: 0 } } as typeof server.config;
    const cli = capture();
    expect(
      await packagesVerify({ config, formats: [genericFormat], storages: [localStorage, s3Storage] }, { sweep: true }, cli.output),
    ).toBe(0);
    expect(cli.out()).toContain('problems: 0\n');
    const copy = `1, ${f.size} bytes (${formatBytes(f.size)})`;
    expect(cli.out()).toContain(
      `unreferenced objects in object storage: ${copy}; older than the 0 h grace period: ${copy}; removed: ${copy}\n`,
    );
    expect(await migration.unreferencedKeys('object')).toEqual([]);
    expect((await storage.blob(f.sha256))?.store).toBe('object');
    expect(sha256((await download(server, f.path)).body)).toBe(f.sha256);
  });

  it('a copy that reads back wrong is never flipped to', async () => {
    const f = files[1];
    const storage = server.app.get(FileStorage);
    const object = objectStore(server);
    const before = (await storage.blob(f.sha256))!;
    const { Readable } = await import('node:stream');
    const get = jest.spyOn(object, 'get').mockResolvedValueOnce(Readable.from([Buffer.from('corrupted')]));
    await expect(server.app.get(BlobMover).move(f.sha256, 'object')).rejects.toThrow(/reads back as 9 bytes/);
    get.mockRestore();
    expect(await storage.blob(f.sha256)).toMatchObject({ store: 'local', storage_key: before.storage_key });
    expect(await server.app.get(BlobMigration).unreferencedKeys('object')).toEqual([]); // the bad copy was removed
  });
});

describe('stowage packages migrate --to local with redirect downloads (postgres)', () => {
  const N = 60;
  let s3: TestS3;
  let server: TestServer;
  const files: StoredFile[] = [];

  beforeAll(async () => {
    s3 = await startS3rver();
    server = await startObjectStoreServer(s3, 'postgres', { direct_upload: true, background_upload: false, proxy_download: false });
    const projectId = (await server.api.createProject('redirects')).id;
    for (let i = 0; i < N; i++) {
      const bytes = randomBytes(1000 + i * 37);
      const path = genericPath(projectId, 'r', `1.0.${i}`, `r${i}.bin`);
      const res = await upload(server, path, bytes);
      if (res.status !== 200) throw new Error(`upload ${i}: ${res.status}`);
      files.push({ path, sha256: sha256(bytes), packageId: ((await res.json()) as { package_id: number }).package_id, size: bytes.length });
    }
  }, 60_000);

  afterAll(async () => {
    await server?.close();
    await s3?.close();
  });

  it('clients holding presigned URLs keep getting the bytes: old copies are left for the sweep, not deleted', async () => {
    // (node:http throughout: fetch's pool can hold a connection that keeps the server from closing.)
    const first = await httpGet(server, files[0].path, { follow: false });
    expect(first.status).toBe(302);
    const presigned = first.location!;
    const before = await objectKeys(server);
    expect(before).toHaveLength(N);

    const loop = downloadLoop(server, () => files); // follows each 302 to s3rver, or is served from disk after the flip
    const summary = await server.app.get(BlobMigration).migrate({ to: 'local', batch: 20 });
    await loop.stop();
    // s3rver's own errors are shown with the clients' (its answer says only "internal error").
    expect({ errors: loop.errors, ...(loop.errors.length ? { s3rver: s3.internalErrors } : {}) }).toEqual({ errors: [] });
    expect(loop.redirects()).toBeGreaterThan(0);
    expect(summary).toMatchObject({ moved: N, failed: 0, interrupted: false });

    // A URL handed out before the move still works.
    const late = await fetch(presigned);
    expect(late.status).toBe(200);
    expect(sha256(Buffer.from(await late.arrayBuffer()))).toBe(files[0].sha256);
    expect((await httpGet(server, files[0].path, { follow: false })).status).toBe(200); // now served from disk

    const migration = server.app.get(BlobMigration);
    expect((await objectKeys(server)).sort()).toEqual(before.sort());
    const verify = await migration.verify();
    expect(verify).toMatchObject({ checked: N, ok: N, problems: [] });
    expect(verify.leftovers.object?.unreferenced.found.count).toBe(N);
    // Restamped by the move, so a sweep with the default grace period keeps them…
    expect(await migration.sweep('object', server.config.packages.blob_grace_period_hours)).toBe(0);
    // …and one after the grace period removes them all.
    expect(await migration.sweep('object', 0)).toBe(N);
    expect(await objectKeys(server)).toEqual([]);
    for (const f of files.slice(0, 5)) expect(sha256((await httpGet(server, f.path)).body)).toBe(f.sha256);
  }, 60_000);
});
