import { createHash, randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

import {
  type FaultProxy,
  http,
  mavenUpstreamTree,
  startFaultProxy,
  startStaticHttp,
  startTestServer,
  type StaticHttp,
  storedBlobKeys,
  testModes,
  type TestProject,
  type TestServer,
  type TestUser,
} from '@stowage/testkit';

import { mavenFormat } from '../src';

// Stowage's Maven endpoints in front of a real Maven upstream: Python's file server over a copy
// of Debian's Maven repository (real jars and poms, a .sha1 beside each file) plus a few files
// this test writes (metadata, a SNAPSHOT, files for the faults), behind testkit's FaultProxy.

const hash = (alg: string, data: Buffer | string) => createHash(alg).update(data).digest('hex');
const MiB = 1024 ** 2;
const MAX_FILE = 2 * MiB;
/** packages.remote_cache.stream_threshold: files above it stream to the first client while they arrive. */
const STREAM_THRESHOLD = 256 * 1024;
const LANG3 = 'org/apache/commons/commons-lang3/3.12.0/commons-lang3-3.12.0';
const SNAPSHOT_VALUE = '1.0-20260101.120000-1';

const metadataXml = (artifactId: string, versions: string[]) =>
  `<?xml version="1.0" encoding="UTF-8"?>\n<metadata><groupId>demo.remote</groupId><artifactId>${artifactId}</artifactId>` +
  `<versioning><latest>${versions.at(-1)}</latest><release>${versions.at(-1)}</release><versions>` +
  `${versions.map((v) => `<version>${v}</version>`).join('')}</versions><lastUpdated>20260101120000</lastUpdated></versioning></metadata>\n`;

/**
 * The upstream's files: every top-level folder of testkit's Maven tree linked in (the server
 * follows links), and `demo/remote/…`, written here: `<name>/1.0/<name>-1.0.jar` with its .sha1
 * for each fault, metadata, a SNAPSHOT, a file without a .sha1 and one whose .sha1 is not one.
 */
async function upstreamRoot(): Promise<{ root: string; tree: string; files: Map<string, Buffer> }> {
  const tree = await mavenUpstreamTree();
  const root = await mkdtemp(join(tmpdir(), 'stowage-maven-upstream-'));
  for (const entry of await readdir(tree)) await symlink(join(tree, entry), join(root, entry));
  const files = new Map<string, Buffer>();
  const put = async (path: string, bytes: Buffer | string, sha1 = true) => {
    const body = Buffer.from(bytes);
    await mkdir(dirname(join(root, path)), { recursive: true });
    await writeFile(join(root, path), body);
    if (sha1) await writeFile(join(root, `${path}.sha1`), hash('sha1', body));
    files.set(path, body);
  };
  for (const name of ['down', 'slow', 'stall', 'corrupt', 'crowd', 'other'])
    await put(`demo/remote/${name}/1.0/${name}-1.0.jar`, randomBytes(4096));
  for (const name of ['big', 'bigcorrupt']) await put(`demo/remote/${name}/1.0/${name}-1.0.jar`, randomBytes(STREAM_THRESHOLD * 4));
  await put('demo/remote/huge/1.0/huge-1.0.jar', Buffer.alloc(MAX_FILE + 1));
  await put('demo/remote/lib/maven-metadata.xml', metadataXml('lib', ['1.0', '1.1']), false);
  await put('demo/remote/stale/maven-metadata.xml', metadataXml('stale', ['2.0']), false);
  await put(`demo/remote/snap/1.0-SNAPSHOT/snap-${SNAPSHOT_VALUE}.jar`, randomBytes(2048));
  await put('demo/remote/snap/1.0-SNAPSHOT/snap-1.0-SNAPSHOT.jar', randomBytes(2048));
  await put(
    'demo/remote/snap/1.0-SNAPSHOT/maven-metadata.xml',
    `<metadata modelVersion="1.1.0"><groupId>demo.remote</groupId><artifactId>snap</artifactId><version>1.0-SNAPSHOT</version>` +
      `<versioning><snapshot><timestamp>20260101.120000</timestamp><buildNumber>1</buildNumber></snapshot></versioning></metadata>\n`,
    false,
  );
  await put('demo/remote/nosha/1.0/nosha-1.0.jar', randomBytes(1024), false);
  await put('demo/remote/orphan/1.0/orphan-1.0.jar.sha1', hash('sha1', 'gone'), false);
  await put('demo/remote/badsha/1.0/badsha-1.0.jar', randomBytes(1024), false);
  await writeFile(join(root, 'demo/remote/badsha/1.0/badsha-1.0.jar.sha1'), '<html>not found</html>\n');
  return { root, tree, files };
}

describe.each(testModes())('maven remote registry (%s)', (mode) => {
  let upstream: StaticHttp;
  let proxy: FaultProxy;
  let root: string;
  let tree: string;
  let files: Map<string, Buffer>;
  let s: TestServer;
  let dev: TestUser;
  let group: { id: number; full_path: string };
  let project: TestProject;
  let hidden: TestProject;

  const projectBase = () => `/api/v4/projects/${project.id}/packages/maven`;
  const get = (path: string, headers: Record<string, string> = {}, token: string | undefined = dev.token) =>
    http(s.url, { path: `${projectBase()}/${path}`, token, headers });
  const upstreamGets = (path: string) => proxy.count(`/${path}`, 'GET');
  const remoteFiles = async (name: string) =>
    (
      await s.api.root<{ file_name: string; version: string }[]>(
        'GET',
        `/api/v4/packages/remote_files?package_type=maven&package_name=${name}`,
      )
    ).map((f) => `${f.version} ${f.file_name}`);

  beforeAll(async () => {
    ({ root, tree, files } = await upstreamRoot());
    upstream = await startStaticHttp(root);
    proxy = await startFaultProxy(upstream.url);
    s = await startTestServer({
      formats: [mavenFormat],
      mode,
      listen: true,
      config: {
        packages: { remote_cache: { stream_threshold: STREAM_THRESHOLD } },
        formats: {
          maven: {
            max_file_size: MAX_FILE,
            package_requests_forwarding: true,
            upstream: { url: `${proxy.url}/`, timeout: 2, connect_timeout: 2 },
          },
        },
      },
    });
    dev = await s.api.createUser('dev');
    group = await s.api.createGroup('acme');
    project = await s.api.createProject('app', { namespaceId: group.id });
    hidden = await s.api.createProject('hidden', { namespaceId: group.id });
    await s.api.addMember({ project: project.id }, dev.id, 30);
  });
  afterAll(async () => {
    await s?.close();
    await proxy?.close();
    await upstream?.stop();
    if (root) await rm(root, { recursive: true, force: true });
  });
  afterEach(() => proxy.reset());

  it('fetches an upstream jar once, verified against its .sha1, and serves it from the cache from then on', async () => {
    const jar = await readFile(join(tree, `${LANG3}.jar`));
    const first = await get(`${LANG3}.jar`);
    expect(first.status).toBe(200);
    expect(first.body.equals(jar)).toBe(true);
    expect(first.headers['x-checksum-sha1']).toBe(hash('sha1', jar));
    const again = await get(`${LANG3}.jar`);
    expect(again.body.equals(jar)).toBe(true);
    expect(again.headers['x-checksum-md5']).toBe(hash('md5', jar));
    expect([upstreamGets(`${LANG3}.jar`), upstreamGets(`${LANG3}.jar.sha1`)]).toEqual([1, 1]);
    expect(await remoteFiles('org/apache/commons/commons-lang3')).toEqual(['3.12.0 commons-lang3-3.12.0.jar']);
  });

  it('answers the checksums of a cached file from its bytes, every algorithm, without asking the upstream', async () => {
    const jar = await readFile(join(tree, `${LANG3}.jar`));
    proxy.clearLog();
    for (const alg of ['sha1', 'md5', 'sha256', 'sha512']) {
      const res = await get(`${LANG3}.jar.${alg}`);
      expect([res.status, res.text]).toEqual([200, hash(alg, jar)]);
    }
    // The upstream has no .md5 at all: the answer came from the stored blob.
    expect(proxy.count()).toBe(0);
  });

  it("answers an uncached file's checksum from the upstream's checksum file, and 404 where it has none", async () => {
    const sha1 = await get(`${LANG3}.pom.sha1`);
    expect([sha1.status, sha1.text]).toEqual([200, (await readFile(join(tree, `${LANG3}.pom.sha1`), 'utf8')).trim()]);
    expect((await get(`${LANG3}.pom.md5`)).status).toBe(404);
    expect(upstreamGets(`${LANG3}.pom`)).toBe(0);
  });

  it('serves the same upstream file at group and instance scope', async () => {
    const pom = await readFile(join(tree, `${LANG3}.pom`));
    for (const base of [`/api/v4/groups/${group.id}/-/packages/maven`, '/api/v4/packages/maven']) {
      const res = await http(s.url, { path: `${base}/${LANG3}.pom`, token: dev.token });
      expect(res.status).toBe(200);
      expect(res.body.equals(pom)).toBe(true);
    }
    expect(upstreamGets(`${LANG3}.pom`)).toBe(1);
  });

  it('answers a probe of a path the upstream lacks with a 404 from its .sha1, asked once per metadata_ttl', async () => {
    const path = 'org/example/absent/1.0/absent-1.0.pom';
    expect((await get(path)).status).toBe(404);
    expect((await get(path)).status).toBe(404);
    expect([upstreamGets(`${path}.sha1`), upstreamGets(path)]).toEqual([1, 0]);
    const meta = 'org/example/absent/maven-metadata.xml';
    expect((await get(meta)).status).toBe(404);
    expect((await get(meta)).status).toBe(404);
    expect(upstreamGets(meta)).toBe(1);
  });

  it('serves upstream maven-metadata.xml as written, with checksums of those bytes and ETag revalidation', async () => {
    const upstreamBytes = files.get('demo/remote/lib/maven-metadata.xml')!;
    const res = await get('demo/remote/lib/maven-metadata.xml');
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/xml/);
    expect(res.body.equals(upstreamBytes)).toBe(true);
    expect(res.headers.warning).toBeUndefined();
    expect((await get('demo/remote/lib/maven-metadata.xml.sha1')).text).toBe(hash('sha1', upstreamBytes));
    expect((await get('demo/remote/lib/maven-metadata.xml.md5')).text).toBe(hash('md5', upstreamBytes));
    expect((await get('demo/remote/lib/maven-metadata.xml', { 'if-none-match': String(res.headers.etag) })).status).toBe(304);
    expect(upstreamGets('demo/remote/lib/maven-metadata.xml')).toBe(1);
  });

  it('keeps a name held locally local: no request for it goes upstream, even for a version it lacks', async () => {
    const base = `${projectBase()}/commons-io/commons-io/9.9`;
    const put = (file: string, body: string) => s.api.inject({ method: 'PUT', url: `${base}/${file}`, payload: body, token: dev.token });
    expect((await put('commons-io-9.9.jar', 'PK local jar')).status).toBe(200);
    expect((await put('commons-io-9.9.pom', '<project/>')).status).toBe(200);
    proxy.clearLog();
    // The upstream has 2.11.0; the project's name has only 9.9.
    for (const path of [
      'commons-io/commons-io/2.11.0/commons-io-2.11.0.jar',
      'commons-io/commons-io/2.11.0/commons-io-2.11.0.jar.sha1',
      'commons-io/commons-io/2.11.0/commons-io-2.11.0.pom',
      // Version-level metadata of a release reads like artifact-level metadata of a name one
      // segment longer (commons-io:commons-io/2.11.0 or commons-io.commons-io:2.11.0).
      'commons-io/commons-io/2.11.0/maven-metadata.xml',
      'commons-io/commons-io/2.11.0/maven-metadata.xml.sha1',
      'commons-io/commons-io/9.9-SNAPSHOT/maven-metadata.xml',
    ])
      expect((await get(path)).status).toBe(404);
    const meta = await get('commons-io/commons-io/maven-metadata.xml');
    expect(meta.status).toBe(200);
    expect(meta.text).toContain('<version>9.9</version>');
    expect(meta.text).not.toContain('2.11.0');
    expect(proxy.count(/commons-io/)).toBe(0);
  });

  it('never forwards a name a project in scope holds, even one the caller may not read (dependency confusion)', async () => {
    const put = (file: string) =>
      s.api.inject({
        method: 'PUT',
        url: `/api/v4/projects/${hidden.id}/packages/maven/org/apache/commons/commons-text/1.0/${file}`,
        payload: 'PK private',
        token: s.rootToken,
      });
    expect((await put('commons-text-1.0.jar')).status).toBe(200);
    proxy.clearLog();
    const res = await http(s.url, {
      path: `/api/v4/groups/${group.id}/-/packages/maven/org/apache/commons/commons-text/1.10.0/commons-text-1.10.0.pom`,
      token: dev.token,
    });
    expect(res.status).toBe(404);
    expect(proxy.count()).toBe(0);
  });

  it("follows the group's maven_package_requests_forwarding switch", async () => {
    const path = 'demo/remote/other/1.0/other-1.0.jar';
    await s.api.setPackageSettings({ group: group.id }, { maven_package_requests_forwarding: false });
    const settings = await s.api.root<Record<string, unknown>>('GET', `/api/v4/groups/${group.id}/package_settings`);
    expect(settings.maven_package_requests_forwarding).toBe(false);
    expect((await get(path)).status).toBe(404);
    expect(proxy.count()).toBe(0);
    await s.api.setPackageSettings({ group: group.id }, { maven_package_requests_forwarding: true });
    const res = await get(path);
    expect(res.status).toBe(200);
    expect(res.body.equals(files.get(path)!)).toBe(true);
  });

  it('serves timestamped SNAPSHOT files and their metadata, never a plain -SNAPSHOT file name', async () => {
    const dir = 'demo/remote/snap/1.0-SNAPSHOT';
    const jar = await get(`${dir}/snap-${SNAPSHOT_VALUE}.jar`);
    expect(jar.status).toBe(200);
    expect(jar.body.equals(files.get(`${dir}/snap-${SNAPSHOT_VALUE}.jar`)!)).toBe(true);
    const meta = await get(`${dir}/maven-metadata.xml`);
    expect(meta.status).toBe(200);
    expect(meta.text).toContain('<buildNumber>1</buildNumber>');
    // Its content changes with every deploy upstream, so it has no address to be cached by.
    expect((await get(`${dir}/snap-1.0-SNAPSHOT.jar`)).status).toBe(404);
    expect(proxy.count(/snap-1\.0-SNAPSHOT\.jar/)).toBe(0);
  });

  it('answers 404 for a file the upstream has no .sha1 for, 502 for one whose .sha1 is not a checksum', async () => {
    expect((await get('demo/remote/nosha/1.0/nosha-1.0.jar')).status).toBe(404);
    const bad = await get('demo/remote/badsha/1.0/badsha-1.0.jar');
    expect(bad.status).toBe(502);
    expect(bad.json().message).toMatch(/badsha-1\.0\.jar\.sha1 is not a sha1 checksum/);
    expect([upstreamGets('demo/remote/nosha/1.0/nosha-1.0.jar'), upstreamGets('demo/remote/badsha/1.0/badsha-1.0.jar')]).toEqual([0, 0]);
  });

  it('answers a file the upstream lacks beside its .sha1 as a local miss: 404, 401 with the challenge to anonymous at instance scope', async () => {
    const path = 'demo/remote/orphan/1.0/orphan-1.0.jar';
    expect((await get(path)).status).toBe(404);
    const anonymous = await http(s.url, { path: `/api/v4/packages/maven/${path}` });
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers['www-authenticate']).toMatch(/^Basic/);
    expect(upstreamGets(path)).toBe(2);
  });

  it('refuses an upstream file larger than max_file_size with a 502, keeping nothing', async () => {
    const res = await get('demo/remote/huge/1.0/huge-1.0.jar');
    expect(res.status).toBe(502);
    expect(res.json().message).toMatch(/larger than max_file_size/);
    expect(await remoteFiles('demo/remote/huge')).toEqual([]);
  });

  describe('faults', () => {
    it('answers 502 when the upstream is down and nothing is cached, and serves what is cached', async () => {
      await proxy.down();
      const res = await get('demo/remote/down/1.0/down-1.0.jar');
      expect(res.status).toBe(502);
      expect(res.json().message).toMatch(/upstream: cannot be reached/);
      const cached = await get(`${LANG3}.jar`);
      expect(cached.status).toBe(200);
      expect((await get(`${LANG3}.jar.sha1`)).status).toBe(200);
    });

    it('answers 504 when the upstream is slower than its timeout, for its headers or its body', async () => {
      proxy.delay(4_000, '/demo/remote/slow/1.0/slow-1.0.jar');
      const slow = await get('demo/remote/slow/1.0/slow-1.0.jar');
      expect(slow.status).toBe(504);
      proxy.stallBody('/demo/remote/stall/1.0/stall-1.0.jar', 100);
      const stalled = await get('demo/remote/stall/1.0/stall-1.0.jar');
      expect(stalled.status).toBe(504);
      expect(await remoteFiles('demo/remote/stall')).toEqual([]);
      await proxy.reset();
      expect((await get('demo/remote/stall/1.0/stall-1.0.jar')).body.equals(files.get('demo/remote/stall/1.0/stall-1.0.jar')!)).toBe(true);
    });

    it('answers 502 for a corrupt jar and keeps nothing, so the next request fetches it again', async () => {
      const path = 'demo/remote/corrupt/1.0/corrupt-1.0.jar';
      const blobs = (await storedBlobKeys(s)).length;
      proxy.corrupt(`/${path}`);
      const res = await get(path);
      expect(res.status).toBe(502);
      expect(res.json().message).toMatch(/does not match the sha1 the upstream declared/);
      expect(await remoteFiles('demo/remote/corrupt')).toEqual([]);
      expect((await storedBlobKeys(s)).length).toBe(blobs);
      await proxy.reset();
      const good = await get(path);
      expect(good.status).toBe(200);
      expect(good.body.equals(files.get(path)!)).toBe(true);
      expect(upstreamGets(path)).toBe(2);
    });

    it('never completes a large streamed file that turns out corrupt, and keeps nothing', async () => {
      const path = 'demo/remote/bigcorrupt/1.0/bigcorrupt-1.0.jar';
      proxy.corrupt(`/${path}`);
      // Streamed while it arrives: the status went out before the digest could be checked, so the
      // client sees its connection cut before the last bytes.
      const outcome = await get(path).then(
        (res) => `${res.status} ${res.body.length} bytes`,
        (err: Error) => err.message,
      );
      expect(outcome).not.toBe(`200 ${files.get(path)!.length} bytes`);
      expect(outcome).toMatch(/aborted|socket hang up|ECONNRESET|^502 /);
      expect(await remoteFiles('demo/remote/bigcorrupt')).toEqual([]);
    });

    it('makes one upstream request for 20 concurrent GETs of one cold large jar', async () => {
      const path = 'demo/remote/big/1.0/big-1.0.jar';
      const gate = proxy.gate(`/${path}`, STREAM_THRESHOLD);
      const all = Promise.all(Array.from({ length: 20 }, () => get(path)));
      await gate.reached;
      gate.release();
      const results = await all;
      expect(results.map((r) => r.status)).toEqual(Array(20).fill(200));
      expect(results.every((r) => r.body.equals(files.get(path)!))).toBe(true);
      expect(upstreamGets(path)).toBe(1);
    });

    it('makes one upstream request for 20 concurrent GETs of one cold small jar', async () => {
      const path = 'demo/remote/crowd/1.0/crowd-1.0.jar';
      const results = await Promise.all(Array.from({ length: 20 }, () => get(path)));
      expect(results.map((r) => r.status)).toEqual(Array(20).fill(200));
      expect(results.every((r) => r.body.equals(files.get(path)!))).toBe(true);
      expect([upstreamGets(path), upstreamGets(`${path}.sha1`)]).toEqual([1, 1]);
    });

    it('answers 502 for metadata the upstream fails with 5xx when none was ever fetched', async () => {
      proxy.status('/demo/remote/stale/maven-metadata.xml', 503);
      const res = await get('demo/remote/stale/maven-metadata.xml');
      expect(res.status).toBe(502);
      expect(res.json().message).toMatch(/answered 503/);
    });
  });
});

describe.each(testModes())('maven remote registry: stale metadata (%s)', (mode) => {
  // metadata_ttl 0: every read revalidates, so an upstream failure shows at once.
  let upstream: StaticHttp;
  let proxy: FaultProxy;
  let root: string;
  let files: Map<string, Buffer>;
  let s: TestServer;

  beforeAll(async () => {
    ({ root, files } = await upstreamRoot());
    upstream = await startStaticHttp(root);
    proxy = await startFaultProxy(upstream.url);
    s = await startTestServer({
      formats: [mavenFormat],
      mode,
      config: { formats: { maven: { package_requests_forwarding: true, upstream: { url: `${proxy.url}/`, metadata_ttl: 0 } } } },
    });
  });
  afterAll(async () => {
    await s?.close();
    await proxy?.close();
    await upstream?.stop();
    if (root) await rm(root, { recursive: true, force: true });
  });

  it('serves the last maven-metadata.xml with a Warning when the upstream answers 5xx, and its checksums match', async () => {
    const path = '/api/v4/packages/maven/demo/remote/lib/maven-metadata.xml';
    const fresh = await s.api.inject({ url: path });
    expect([fresh.status, fresh.headers.warning]).toEqual([200, undefined]);
    proxy.status('/demo/remote/lib/maven-metadata.xml', 503);
    const stale = await s.api.inject({ url: path });
    expect(stale.status).toBe(200);
    expect(stale.headers.warning).toMatch(/^111 /);
    expect(stale.rawPayload.equals(files.get('demo/remote/lib/maven-metadata.xml')!)).toBe(true);
    const sha1 = await s.api.inject({ url: `${path}.sha1` });
    expect([sha1.status, sha1.body]).toEqual([200, hash('sha1', stale.rawPayload)]);
    expect(proxy.count('/demo/remote/lib/maven-metadata.xml')).toBeGreaterThanOrEqual(2);
  });
});

describe('maven remote registry: mode redirect (postgres)', () => {
  let s: TestServer;

  beforeAll(async () => {
    s = await startTestServer({
      formats: [mavenFormat],
      mode: 'postgres',
      config: {
        formats: { maven: { package_requests_forwarding: true, upstream: { url: 'https://repo.example.org/maven2/', mode: 'redirect' } } },
      },
    });
  });
  afterAll(() => s?.close());

  it("answers every path of a name nobody holds with a 302 to the same path at the upstream (GitLab's behaviour)", async () => {
    for (const path of [`${LANG3}.jar`, `${LANG3}.jar.sha1`, 'org/apache/commons/commons-lang3/maven-metadata.xml']) {
      const res = await s.api.inject({ url: `/api/v4/packages/maven/${path}` });
      expect([res.status, res.headers.location]).toEqual([302, `https://repo.example.org/maven2/${path}`]);
    }
  });
});
