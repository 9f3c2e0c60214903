import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { type ClientRequest, request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';

import { FileStorage, JobQueue, SWEEP_LEFTOVERS_JOB } from '@stowage/core';
import { genericFormat } from '@stowage/format-generic';
import {
  clearRedisPrefix,
  createTestDatabase,
  filesUnder,
  http,
  startTestServer,
  TEST_REDIS_URL,
  testModes,
  type TestServer,
  uniqueName,
  waitFor,
} from '@stowage/testkit';

import { formatBytes } from '../src/packages-commands';
import { finished, freePort, MAIN, ready, running, stop, stowage } from './server-process';

// What a crash leaves in local storage — the temp file of an upload killed mid-body, a blob file
// renamed into place whose row was never inserted — is found by `packages verify`, and removed
// once older than packages.blob_grace_period_hours by `verify --sweep` and by the periodic
// sweep job. Ages are made to pass by setting mtimes into the past, never by waiting.

const GRACE_HOURS = 6;
const HOUR = 3600_000;
const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const cleanups: (() => Promise<unknown>)[] = [];

afterAll(async () => {
  for (const p of running) p.child.kill('SIGKILL');
  await Promise.all([...running].map((p) => p.exited));
  for (const c of cleanups.reverse()) await c().catch(() => undefined);
});

/** Sets a file's mtime (and atime) to `hoursAgo` hours before now. */
async function age(path: string, hoursAgo: number): Promise<void> {
  const t = new Date(Date.now() - hoursAgo * HOUR);
  await utimes(path, t, t);
}

/** A blob file at a fresh key with no blob row: what a crash between the rename into place and the INSERT leaves. */
async function unrecordedBlobFile(storagePath: string, bytes: Buffer): Promise<string> {
  const id = randomUUID();
  const hex = id.replace(/-/g, '');
  const path = join(storagePath, hex.slice(0, 2), hex.slice(2, 4), id);
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, bytes);
  return path;
}

async function tempFiles(storagePath: string): Promise<string[]> {
  return (await readdir(join(storagePath, 'tmp')).catch(() => [] as string[]))
    .filter((n) => n.endsWith('.part'))
    .map((n) => join(storagePath, 'tmp', n));
}

/** Blob files (ab/cd/<uuid>) under the storage path, temp files excluded. */
async function blobFiles(storagePath: string): Promise<string[]> {
  return (await filesUnder(storagePath)).filter((p) => !relative(storagePath, p).startsWith('tmp/'));
}

/** An upload whose body the test writes piece by piece (Content-Length `size`). */
function openUpload(base: string, path: string, token: string, size: number) {
  const url = new URL(base);
  let req!: ClientRequest;
  const response = new Promise<{ status: number; text: string }>((resolve, reject) => {
    req = httpRequest(
      {
        host: url.hostname,
        port: url.port,
        method: 'PUT',
        path,
        agent: false,
        headers: { 'private-token': token, 'content-length': String(size) },
      },
      (res) => {
        const parts: Buffer[] = [];
        res.on('data', (c: Buffer) => parts.push(c));
        res.on('end', () => resolve({ status: res.statusCode!, text: Buffer.concat(parts).toString() }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
  });
  response.catch(() => undefined); // a killed server fails it; tests that care await it
  return {
    req,
    response,
    /** Resolves once the bytes are handed to the socket; rejects if the connection goes first. */
    write: (bytes: Buffer) =>
      new Promise<void>((resolve, reject) => {
        if (req.destroyed) return reject(new Error('the upload connection is closed'));
        const onClose = () => reject(new Error('the upload connection closed'));
        req.once('close', onClose);
        req.write(bytes, (err) => {
          req.off('close', onClose);
          if (err) reject(err);
          else resolve();
        });
      }),
  };
}

describe.each(['embedded', 'postgres'] as const)('stowage serve killed with SIGKILL mid-upload (%s)', (mode) => {
  let dir: string;
  let storagePath: string;
  let base: string;
  let port: number;
  const token = `crash-test-${randomBytes(12).toString('hex')}`;
  const env = () => ({ STOWAGE_SERVER__PORT: String(port), STOWAGE_SERVER__HOST: '127.0.0.1', STOWAGE_ROOT_TOKEN: token });
  const kept = randomBytes(64 * 1024);

  beforeAll(async () => {
    if (!existsSync(MAIN)) throw new Error(`${MAIN} is missing: build first (npx tsc -b apps/server)`);
    dir = await mkdtemp(join(tmpdir(), `stowage-crash-${mode}-`));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    storagePath = join(dir, 'data', 'packages');
    port = await freePort();
    base = `http://127.0.0.1:${port}`;
    const yml = [`packages:`, `  blob_grace_period_hours: ${GRACE_HOURS}`];
    if (mode === 'postgres') {
      const db = await createTestDatabase();
      cleanups.push(db.drop);
      const prefix = uniqueName('stowage-crash');
      cleanups.push(() => clearRedisPrefix(prefix));
      yml.push(`database:`, `  url: ${db.url}`, `redis:`, `  url: ${TEST_REDIS_URL}`, `  prefix: ${prefix}`);
    }
    await writeFile(join(dir, 'stowage.yml'), `${yml.join('\n')}\n`);
  });

  it('the killed upload leaves its .part file; verify reports it and unrecorded blob files; --sweep removes the stale ones only', async () => {
    const server = stowage(['serve'], dir, env());
    await ready(server, base);
    const created = await fetch(`${base}/api/v4/projects`, {
      method: 'POST',
      headers: { 'private-token': token, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'crash', path: 'crash' }),
    });
    expect(created.status).toBe(201);
    const projectId = ((await created.json()) as { id: number }).id;
    const path = (name: string) => `/api/v4/projects/${projectId}/packages/generic/crash/1.0.0/${name}`;
    const put = await fetch(`${base}${path('kept.bin')}`, { method: 'PUT', headers: { 'private-token': token }, body: kept });
    expect(put.status).toBe(201);
    const [keptFile] = await blobFiles(storagePath);
    expect(await blobFiles(storagePath)).toEqual([keptFile]);

    // 200 MB streamed; the server is killed once a quarter of it is on disk.
    const total = 200 * 1000 * 1000;
    const upload = openUpload(base, path('big.bin'), token, total);
    let writing = true;
    const writer = (async () => {
      const chunk = randomBytes(1024 * 1024);
      for (let sent = 0; writing && sent + chunk.length < total; sent += chunk.length) await upload.write(chunk);
    })().catch(() => undefined);
    const [part] = await waitFor(
      'the upload to be 50 MB into its temp file',
      async () => {
        const parts = await tempFiles(storagePath);
        return parts.length === 1 && (await stat(parts[0])).size >= 50 * 1000 * 1000 && parts;
      },
      30_000,
    );
    server.child.kill('SIGKILL');
    expect(await server.exited).toEqual({ code: null, signal: 'SIGKILL' });
    writing = false;
    upload.req.destroy();
    await writer;

    expect(await tempFiles(storagePath)).toEqual([part]);
    const partSize = (await stat(part)).size;
    expect(partSize).toBeGreaterThanOrEqual(50 * 1000 * 1000);
    expect(partSize).toBeLessThan(total);

    const oldOrphan = await unrecordedBlobFile(storagePath, randomBytes(100_000));
    const youngOrphan = await unrecordedBlobFile(storagePath, randomBytes(70_000));
    await age(part, GRACE_HOURS + 1);
    await age(oldOrphan, GRACE_HOURS + 1);
    await age(youngOrphan, GRACE_HOURS - 1);
    await age(keptFile, GRACE_HOURS * 10); // referenced: never removed, however old

    const n = (count: number, bytes: number) => `${count}, ${bytes} bytes (${formatBytes(bytes)})`;
    const older = `older than the ${GRACE_HOURS} h grace period`;

    // Without --sweep: reported, nothing removed.
    const verify = stowage(['packages', 'verify'], dir, env());
    const v = await finished(verify, 60_000);
    expect([v.code, verify.stderr()]).toEqual([0, '']);
    const out = verify.stdout();
    expect(out).toContain('checked: 1\nok: 1\nproblems: 0\n');
    expect(out).toContain(`unfinished uploads in local storage: ${n(1, partSize)}; ${older}: ${n(1, partSize)}\n`);
    expect(out).toContain(`unreferenced files in local storage: ${n(2, 170_000)}; ${older}: ${n(1, 100_000)}\n`);
    expect(out).toContain('stowage packages verify --sweep removes');
    for (const f of [part, oldOrphan, youngOrphan, keptFile]) expect(existsSync(f)).toBe(true);

    // --sweep: the stale ones go; the young orphan and the referenced blob stay.
    const sweep = stowage(['packages', 'verify', '--sweep'], dir, env());
    const s = await finished(sweep, 60_000);
    expect([s.code, sweep.stderr()]).toEqual([0, '']);
    expect(sweep.stdout()).toContain(
      `unfinished uploads in local storage: ${n(1, partSize)}; ${older}: ${n(1, partSize)}; removed: ${n(1, partSize)}\n`,
    );
    expect(sweep.stdout()).toContain(
      `unreferenced files in local storage: ${n(2, 170_000)}; ${older}: ${n(1, 100_000)}; removed: ${n(1, 100_000)}\n`,
    );
    expect(await tempFiles(storagePath)).toEqual([]);
    expect((await blobFiles(storagePath)).sort()).toEqual([keptFile, youngOrphan].sort());

    // A second run finds only the young orphan, and removes nothing.
    const again = stowage(['packages', 'verify', '--sweep'], dir, env());
    expect((await finished(again, 60_000)).code).toBe(0);
    expect(again.stdout()).not.toContain('unfinished uploads');
    expect(again.stdout()).toContain(`unreferenced files in local storage: ${n(1, 70_000)}; ${older}: ${n(0, 0)}; removed: ${n(0, 0)}\n`);
    expect(existsSync(youngOrphan)).toBe(true);

    // The server starts again and serves the referenced file intact.
    const restarted = stowage(['serve'], dir, env());
    await ready(restarted, base);
    // node:http on a connection of its own: a keep-alive connection in fetch's pool can hold up the shutdown.
    const res = await http(base, { path: path('kept.bin'), token });
    expect([res.status, sha256(res.body)]).toEqual([200, sha256(kept)]);
    expect(await stop(restarted)).toMatchObject({ code: 0, signal: null });
  }, 300_000);
});

describe.each(testModes())('the periodic sweep job (%s)', (mode) => {
  let server: TestServer;
  let storagePath: string;
  let projectId: number;

  beforeAll(async () => {
    server = await startTestServer({ mode, formats: [genericFormat], config: { packages: { blob_grace_period_hours: GRACE_HOURS } } });
    storagePath = server.storagePath;
    projectId = (await server.api.createProject('sweep')).id;
  });

  afterAll(async () => {
    await server?.close();
  });

  const path = (name: string, version = '1.0.0') => `/api/v4/projects/${projectId}/packages/generic/sweep/${version}/${name}`;

  it('removes stale temp files and unrecorded blob files; keeps young ones, referenced blobs and the temp file of an upload in flight', async () => {
    const kept = randomBytes(50_000);
    expect((await http(server.url, { method: 'PUT', path: path('kept.bin'), token: server.rootToken, body: kept })).status).toBe(201);
    const keptKey = (await server.app.get(FileStorage).blob(sha256(kept)))!.storage_key;
    const keptFile = join(storagePath, keptKey);
    await age(keptFile, GRACE_HOURS * 10);

    // An upload in flight that stalled for longer than the grace period, then went on: its age
    // counts from its last write, so it is young again.
    const size = 3 * 1024 * 1024;
    const body = randomBytes(size);
    const inFlight = openUpload(server.url, path('in-flight.bin'), server.rootToken, size);
    await inFlight.write(body.subarray(0, 1024 * 1024));
    const [inFlightPart] = await waitFor('the in-flight temp file', async () => {
      const parts = await tempFiles(storagePath);
      return parts.length === 1 && (await stat(parts[0])).size === 1024 * 1024 && parts;
    });
    await age(inFlightPart, GRACE_HOURS + 1);
    await inFlight.write(body.subarray(1024 * 1024, 2 * 1024 * 1024));
    await waitFor('the in-flight temp file to grow', async () => (await stat(inFlightPart)).size === 2 * 1024 * 1024);

    const stalePart = join(storagePath, 'tmp', `${randomUUID()}.part`);
    await writeFile(stalePart, randomBytes(123_456));
    await age(stalePart, GRACE_HOURS + 1);
    const oldOrphan = await unrecordedBlobFile(storagePath, randomBytes(10_000));
    await age(oldOrphan, GRACE_HOURS + 1);
    const youngOrphan = await unrecordedBlobFile(storagePath, randomBytes(20_000));
    await age(youngOrphan, GRACE_HOURS - 1);

    const jobs = server.app.get(JobQueue);
    await jobs.add(SWEEP_LEFTOVERS_JOB, {});
    await server.drainJobs();

    expect(existsSync(stalePart)).toBe(false);
    expect(existsSync(oldOrphan)).toBe(false);
    expect(existsSync(youngOrphan)).toBe(true);
    expect(existsSync(keptFile)).toBe(true);
    expect(await tempFiles(storagePath)).toEqual([inFlightPart]);

    // The upload finishes as if nothing had happened, and leaves no temp file.
    await inFlight.write(body.subarray(2 * 1024 * 1024));
    inFlight.req.end();
    expect(await inFlight.response).toEqual({ status: 201, text: JSON.stringify({ message: '201 Created' }) });
    expect(await tempFiles(storagePath)).toEqual([]);
    for (const [name, bytes] of [
      ['kept.bin', kept],
      ['in-flight.bin', body],
    ] as const) {
      const res = await http(server.url, { path: path(name), token: server.rootToken });
      expect([res.status, sha256(res.body)]).toEqual([200, sha256(bytes)]);
    }
  });

  it('sweeps running throughout 30 concurrent uploads remove nothing: every file in the rename-to-INSERT window is young', async () => {
    const files = Array.from({ length: 30 }, (_, i) => ({ name: `c${i}.bin`, bytes: randomBytes(200_000 + i * 1000) }));
    const jobs = server.app.get(JobQueue);
    let uploading = true;
    let sweeps = 0;
    const sweeper = (async () => {
      while (uploading) {
        await jobs.add(SWEEP_LEFTOVERS_JOB, {});
        await server.drainJobs();
        sweeps++;
      }
    })();
    const results = await Promise.all(
      files.map((f) => http(server.url, { method: 'PUT', path: path(f.name, '2.0.0'), token: server.rootToken, body: f.bytes })),
    );
    uploading = false;
    await sweeper;
    expect(results.map((r) => r.status)).toEqual(files.map(() => 201));
    expect(sweeps).toBeGreaterThan(1);
    for (const f of files) {
      const res = await http(server.url, { path: path(f.name, '2.0.0'), token: server.rootToken });
      expect([f.name, res.status, sha256(res.body)]).toEqual([f.name, 200, sha256(f.bytes)]);
    }
  });
});
