import { createHash, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import {
  cachedTree,
  createPipVenv,
  DEFAULT_NPM_UPSTREAM_PACKAGES,
  type FaultProxy,
  installedNpmVersion,
  MAVEN_SAMPLE_DEPENDENCY,
  mavenProject,
  mavenUpstreamTree,
  npmInstall,
  type PipVenv,
  type PublishedNpmPackage,
  type PypiUpstreamTree,
  pypiUpstreamTree,
  runMvn,
  seedVerdaccio,
  startFaultProxy,
  startStaticHttp,
  startVerdaccio,
  type StaticHttp,
  type Verdaccio,
  waitFor,
} from '../src';

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const sha1 = (b: Buffer) => createHash('sha1').update(b).digest('hex');

/** The error code of a GET on a connection of its own (ECONNREFUSED, ECONNRESET, …), or 'ok'. */
function connectError(url: string): Promise<string> {
  return new Promise((resolve) => {
    const req = request(url, { agent: false }, (res) => {
      res.resume();
      res.once('end', () => resolve('ok'));
      res.once('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? err.message));
    });
    req.once('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? err.message));
    req.end();
  });
}

interface Download {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  /** Body bytes received so far. */
  received: number;
  body(): Buffer;
  /** ms from the request to the response headers. */
  headersAfterMs: number;
  ended: Promise<void>;
  /** Resolves once no byte came for `idleMs` (the socket's idle timeout). */
  idle(idleMs: number): Promise<void>;
}

/** A GET that exposes its progress while the body streams in. */
function startDownload(url: string): Promise<Download> {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const req = request(url, { agent: false }, (res) => {
      const parts: Buffer[] = [];
      let endResolve!: () => void;
      const ended = new Promise<void>((r) => (endResolve = r));
      const d: Download = {
        status: res.statusCode ?? 0,
        headers: res.headers,
        received: 0,
        body: () => Buffer.concat(parts),
        headersAfterMs: Date.now() - started,
        ended,
        idle: (idleMs) =>
          new Promise((r) => {
            req.socket!.setTimeout(idleMs, () => {
              req.socket!.setTimeout(0);
              r();
            });
          }),
      };
      res.on('data', (c: Buffer) => {
        parts.push(c);
        d.received += c.length;
      });
      res.once('end', endResolve);
      resolve(d);
    });
    req.once('error', reject);
    req.end();
  });
}

describe('npm upstream: Verdaccio, seeded with npm publish, behind a FaultProxy', () => {
  let verdaccio: Verdaccio;
  let proxy: FaultProxy;
  let published: PublishedNpmPackage[];
  let work: string;

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'stowage-upstream-npm-'));
    const t0 = Date.now();
    verdaccio = await startVerdaccio();
    const t1 = Date.now();
    published = await seedVerdaccio(verdaccio.url);
    console.log(`verdaccio ready in ${t1 - t0} ms; ${published.length} versions published with npm in ${Date.now() - t1} ms`);
    proxy = await startFaultProxy(verdaccio.url);
  }, 120_000);
  afterAll(async () => {
    await proxy?.close();
    await verdaccio?.dispose();
    if (work) await rm(work, { recursive: true, force: true });
  });

  const install = (dir: string, dependencies: Record<string, string>, args: string[] = []) =>
    npmInstall(join(work, dir), { registry: proxy.url, dependencies, args });
  const installed = (dir: string, name: string) => installedNpmVersion(join(work, dir), name);

  it('publishes every spec as a real tarball whose integrity the registry records', async () => {
    expect(published.map((p) => `${p.name}@${p.version}`)).toEqual(DEFAULT_NPM_UPSTREAM_PACKAGES.map((p) => `${p.name}@${p.version}`));
    const b = published.find((p) => p.name === 'up-b' && p.version === '1.1.0')!;
    const tgz = Buffer.from(await (await fetch(b.tarball)).arrayBuffer());
    expect(tgz.subarray(0, 2)).toEqual(Buffer.from([0x1f, 0x8b]));
    expect(b.integrity).toBe(`sha512-${createHash('sha512').update(tgz).digest('base64')}`);
    expect(b.shasum).toBe(sha1(tgz));
    const doc: any = await (await fetch(`${verdaccio.url}/up-b`)).json();
    expect(doc['dist-tags'].latest).toBe('1.1.0');
    expect(doc.versions['1.1.0'].dependencies).toEqual({ 'up-c': '^1.0.0' });
  });

  it('npm install resolves the graph through the proxy, which counts one request per packument and tarball', async () => {
    await install('app', { 'up-d': '^3.0.0', '@acme/private-thing': '9.9.9' });
    expect(await installed('app', 'up-d')).toBe('3.0.0');
    expect(await installed('app', 'up-a')).toBe('1.0.0');
    expect(await installed('app', 'up-b')).toBe('1.1.0');
    expect(await installed('app', 'up-c')).toBe('1.0.0');
    expect(await installed('app', '@acme/util')).toBe('2.0.0');
    expect(await readFile(join(work, 'app/node_modules/@acme/private-thing/index.js'), 'utf8')).toContain('the public impostor');
    // Verdaccio wrote its tarball URLs from the Host header the proxy passed on, so tarballs came through it too.
    expect(proxy.count('/up-b', 'GET')).toBe(1);
    expect(proxy.count(/^\/@acme%2futil$/i, 'GET')).toBe(1);
    expect(proxy.count('/up-b/-/up-b-1.1.0.tgz')).toBe(1);
    expect(proxy.count('/up-b/-/up-b-1.0.0.tgz')).toBe(0);
    expect(proxy.count('/@acme/util/-/util-2.0.0.tgz')).toBe(1);
    expect(proxy.count(/\.tgz$/)).toBe(6);
    expect(proxy.requests.every((r) => r.status === 200 && r.faults.length === 0)).toBe(true);
  });

  it('a corrupted tarball fails npm install with EINTEGRITY (the proxy flips a byte, keeps the length)', async () => {
    proxy.corrupt('/up-c/-/up-c-1.0.0.tgz');
    try {
      // npm retries a bad tarball with a backoff of 10 s and more: once is enough here.
      await expect(install('corrupt', { 'up-c': '1.0.0' }, ['--fetch-retries=0'])).rejects.toThrow(/EINTEGRITY/);
    } finally {
      await proxy.reset();
    }
    const [direct, viaProxy] = await Promise.all(
      [verdaccio.url, proxy.url].map(async (u) => Buffer.from(await (await fetch(`${u}/up-c/-/up-c-1.0.0.tgz`)).arrayBuffer())),
    );
    expect(viaProxy.equals(direct)).toBe(true);
  });

  it('restart() brings Verdaccio back on its port with its storage; stopped, it refuses connections', async () => {
    await verdaccio.stop();
    expect(verdaccio.running()).toBe(false);
    expect(await connectError(`${verdaccio.url}/up-a`)).toBe('ECONNREFUSED');
    // The proxy cannot reach it either, and drops the client's connection rather than answering.
    expect(await connectError(`${proxy.url}/up-a`)).toBe('ECONNRESET');
    expect(proxy.requests.at(-1)).toMatchObject({ path: '/up-a', status: 0, error: expect.stringContaining('ECONNREFUSED') });
    await verdaccio.restart();
    const doc: any = await (await fetch(`${proxy.url}/up-a`)).json();
    expect(Object.keys(doc.versions)).toEqual(['1.0.0']);
  });
});

describe('FaultProxy in front of python3 -m http.server', () => {
  let dir: string;
  let files: StaticHttp;
  let proxy: FaultProxy;
  const big = randomBytes(1024 * 1024);

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'stowage-upstream-static-'));
    await writeFile(join(dir, 'big.bin'), big);
    await writeFile(join(dir, 'small.txt'), 'small\n');
    files = await startStaticHttp(dir);
    proxy = await startFaultProxy(files.url);
  });
  afterEach(() => proxy.reset());
  afterAll(async () => {
    await proxy?.close();
    await files?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('passes bytes and headers through, and logs each request', async () => {
    proxy.clearLog();
    const res = await fetch(`${proxy.url}/big.bin?x=1`);
    expect(res.headers.get('content-length')).toBe(String(big.length));
    expect(res.headers.get('server')).toMatch(/SimpleHTTP/);
    expect(sha256(Buffer.from(await res.arrayBuffer()))).toBe(sha256(big));
    expect((await fetch(`${proxy.url}/missing`)).status).toBe(404);
    expect(proxy.count('/big.bin')).toBe(1);
    expect(proxy.count(/\?x=1$/)).toBe(1);
    expect(proxy.requests.map((r) => [r.method, r.path, r.status, r.bytes])).toEqual([
      ['GET', '/big.bin?x=1', 200, big.length],
      ['GET', '/missing', 404, expect.any(Number)],
    ]);
  });

  it('down() refuses connections (ECONNREFUSED) until up()', async () => {
    await proxy.down();
    expect(await connectError(`${proxy.url}/small.txt`)).toBe('ECONNREFUSED');
    await proxy.up();
    expect(await (await fetch(`${proxy.url}/small.txt`)).text()).toBe('small\n');
  });

  it('corrupt() keeps the length and changes the digest of matching responses only', async () => {
    proxy.corrupt('/big.bin');
    const res = await fetch(`${proxy.url}/big.bin`);
    const body = Buffer.from(await res.arrayBuffer());
    expect(body.length).toBe(big.length);
    expect(res.headers.get('content-length')).toBe(String(big.length));
    expect(sha256(body)).not.toBe(sha256(big));
    expect(body.subarray(0, -1).equals(big.subarray(0, -1))).toBe(true);
    expect(await (await fetch(`${proxy.url}/small.txt`)).text()).toBe('small\n');
  });

  it('status() answers 503 itself: the upstream never sees the request', async () => {
    proxy.status(/^\/small/, 503);
    const res = await fetch(`${proxy.url}/small.txt?probe=503`);
    expect(res.status).toBe(503);
    expect(await (await fetch(`${proxy.url}/big.bin`)).arrayBuffer()).toHaveProperty('byteLength', big.length);
    await waitFor('the file server to log the big.bin request', () => files.output().includes('GET /big.bin'));
    expect(files.output()).not.toContain('probe=503');
  });

  it('delay() holds the response headers: a client with a shorter timeout gives up', async () => {
    proxy.delay(400, '/small.txt');
    const d = await startDownload(`${proxy.url}/small.txt`);
    expect(d.headersAfterMs).toBeGreaterThanOrEqual(390);
    await expect(fetch(`${proxy.url}/small.txt`, { signal: AbortSignal.timeout(100) })).rejects.toThrow(/aborted|timeout/i);
    const fast = await startDownload(`${proxy.url}/big.bin`);
    expect(fast.headersAfterMs).toBeLessThan(390);
    await fast.ended;
  });

  it('stallBody() sends the headers and the first bytes, then nothing until reset()', async () => {
    proxy.stallBody('/big.bin', 65_536);
    const d = await startDownload(`${proxy.url}/big.bin`);
    expect(d.headers['content-length']).toBe(String(big.length));
    await waitFor('the first 65,536 bytes at the client', () => d.received === 65_536);
    await d.idle(300);
    expect(d.received).toBe(65_536);
    await proxy.reset();
    await d.ended;
    expect(sha256(d.body())).toBe(sha256(big));
  });

  it('gate() holds a response after N bytes until release(), with the bytes before it delivered', async () => {
    const gate = proxy.gate('/big.bin', 100_000);
    const d = await startDownload(`${proxy.url}/big.bin`);
    await gate.reached;
    await waitFor('the first 100,000 bytes at the client', () => d.received === 100_000);
    let done = false;
    void d.ended.then(() => (done = true));
    expect(done).toBe(false);
    gate.release();
    await d.ended;
    expect(sha256(d.body())).toBe(sha256(big));
    // Released: later responses pass.
    expect((await (await fetch(`${proxy.url}/big.bin`)).arrayBuffer()).byteLength).toBe(big.length);
  });

  it('the file server restarts on the same port; stopped, it refuses connections', async () => {
    await files.stop();
    expect(await connectError(`${files.url}/small.txt`)).toBe('ECONNREFUSED');
    await files.restart();
    expect(await (await fetch(`${files.url}/small.txt`)).text()).toBe('small\n');
  });
});

describe('PyPI upstream: a PEP 503 tree of python3 -m build output', () => {
  let tree: PypiUpstreamTree;
  let v: PipVenv;
  let files: StaticHttp;
  let proxy: FaultProxy;
  let work: string;

  beforeAll(async () => {
    const t0 = Date.now();
    tree = await pypiUpstreamTree();
    console.log(`pypi tree (${tree.files.length} files) ready in ${Date.now() - t0} ms at ${tree.root}`);
    files = await startStaticHttp(tree.root);
    proxy = await startFaultProxy(files.url);
    work = await mkdtemp(join(tmpdir(), 'stowage-upstream-pypi-'));
    // One fresh venv for the file: the hash-checking install reinstalls everything anyway.
    v = await createPipVenv(join(work, 'venv'));
  }, 180_000);
  afterAll(async () => {
    await proxy?.close();
    await files?.stop();
    if (work) await rm(work, { recursive: true, force: true });
  });

  const pip = (args: string[]) => v.pip([...args, '--no-cache-dir', '--index-url', `${proxy.url}/simple/`]);

  it('lists a wheel and an sdist per version, with digests and PEP 658 metadata that match the files', async () => {
    expect(tree.files.map((f) => `${f.project} ${f.version} ${f.kind}`).sort()).toEqual(
      ['up-alpha 1.0', 'up-alpha 1.1', 'up-beta 1.0', 'up-beta 2.0'].flatMap((v) => [`${v} sdist`, `${v} wheel`]),
    );
    for (const f of tree.files) {
      const bytes = await readFile(join(tree.root, f.path));
      expect(sha256(bytes)).toBe(f.sha256);
      expect(bytes.length).toBe(f.size);
      if (f.kind === 'wheel') {
        const metadata = await readFile(join(tree.root, `${f.path}.metadata`));
        expect(sha256(metadata)).toBe(f.metadataSha256);
        expect(metadata.toString()).toMatch(new RegExp(`^Version: ${f.version.replace('.', '\\.')}$`, 'm'));
      }
    }
    expect(tree.file('up-beta', '1.0', 'wheel').requiresPython).toBe('>=3.7');
    const page = await (await fetch(`${files.url}/simple/up-beta/`)).text();
    const wheel = tree.file('up-beta', '2.0', 'wheel');
    expect(page).toContain(
      `<a href="../../${wheel.path}#sha256=${wheel.sha256}" data-requires-python="&lt;3" ` +
        `data-dist-info-metadata="sha256=${wheel.metadataSha256}" data-core-metadata="sha256=${wheel.metadataSha256}">${wheel.filename}</a>`,
    );
    expect(page).toContain('data-requires-python="&gt;=3.7"');
    expect(await (await fetch(`${files.url}/simple/`)).text()).toMatch(/<a href="up-alpha\/">up-alpha<\/a>[\s\S]*<a href="up-beta\/">/);
  });

  it('pip installs from it in a fresh venv, skipping what Requires-Python rules out and reading PEP 658 metadata', async () => {
    proxy.clearLog();
    await pip(['install', 'up-alpha']);
    const have = await v.installed();
    expect(have['up-alpha']).toBe('1.1');
    expect(have['up-beta']).toBe('1.0');
    const alpha = tree.file('up-alpha', '1.1', 'wheel');
    // pip 23.0 (Debian 12's venv) with --no-cache-dir downloads each wheel twice, one after the other.
    expect(proxy.count(`/${alpha.path}`)).toBeGreaterThanOrEqual(1);
    expect(proxy.count(`/${alpha.path}.metadata`)).toBe(1);
    expect(proxy.count(`/${tree.file('up-beta', '2.0', 'wheel').path}`)).toBe(0);
    expect(proxy.count(/\.tar\.gz$/)).toBe(0);
  });

  it('pip --require-hashes passes with the listed digests, and fails on a corrupted wheel', async () => {
    const line = (project: string, version: string) =>
      `${project}==${version} ${(['wheel', 'sdist'] as const).map((k) => `--hash=sha256:${tree.file(project, version, k).sha256}`).join(' ')}`;
    const reqs = join(work, 'requirements.txt');
    await writeFile(reqs, `${line('up-alpha', '1.0')}\n${line('up-beta', '1.0')}\n`);
    await pip(['install', '--force-reinstall', '--require-hashes', '-r', reqs]);
    expect(await v.installed()).toMatchObject({ 'up-alpha': '1.0', 'up-beta': '1.0' });

    proxy.corrupt(`/${tree.file('up-beta', '1.0', 'wheel').path}`);
    try {
      await expect(pip(['install', '--force-reinstall', '--require-hashes', '-r', reqs])).rejects.toThrow(/DO NOT MATCH THE HASHES/);
    } finally {
      await proxy.reset();
    }
  });
});

describe('Maven upstream: Debian maven-repo with .sha1 files, served by python3 -m http.server', () => {
  let tree: string;
  let files: StaticHttp;
  let proxy: FaultProxy;
  let work: string;

  beforeAll(async () => {
    const t0 = Date.now();
    tree = await mavenUpstreamTree();
    console.log(`maven tree ready in ${Date.now() - t0} ms at ${tree}`);
    files = await startStaticHttp(tree);
    proxy = await startFaultProxy(files.url);
    work = await mkdtemp(join(tmpdir(), 'stowage-upstream-maven-'));
  }, 120_000);
  afterAll(async () => {
    await proxy?.close();
    await files?.stop();
    if (work) await rm(work, { recursive: true, force: true });
  });

  it('has every file of maven-repo, symlinks resolved, each with its hex .sha1', async () => {
    const jar = 'org/apache/commons/commons-lang3/3.12.0/commons-lang3-3.12.0.jar';
    const bytes = await readFile(join(tree, jar));
    expect(bytes.subarray(0, 2).toString()).toBe('PK');
    expect(await readFile(join(tree, `${jar}.sha1`), 'utf8')).toBe(sha1(bytes));
    expect(existsSync(join(tree, 'org/apache/commons/commons-lang3/debian/commons-lang3-debian.pom.sha1'))).toBe(true);
    const all = await readdir(tree, { recursive: true, withFileTypes: true });
    const plain = all.filter((e) => e.isFile() && !e.name.endsWith('.sha1'));
    expect(plain.length).toBeGreaterThan(500);
    expect(all.some((e) => e.isSymbolicLink())).toBe(false);
    for (const e of plain) expect(existsSync(join(e.parentPath, `${e.name}.sha1`))).toBe(true);
  });

  it('mvn package of a small project with a dependency, from an empty local repository, with only the mirror', async () => {
    const project = await mavenProject(join(work, 'app'), { mirrorUrl: proxy.url, dependencies: [MAVEN_SAMPLE_DEPENDENCY] });
    proxy.clearLog();
    const { ms } = await runMvn(project, ['package'], { localRepo: join(work, 'm2') });
    const gets = proxy.requests.filter((r) => r.method === 'GET');
    console.log(
      `mvn package from an empty local repository: ${ms} ms, ${gets.length} GETs, ${gets.filter((r) => r.status !== 200).length} not 200`,
    );
    expect(existsSync(project.jarPath)).toBe(true);
    expect(proxy.count('/org/apache/maven/plugins/maven-compiler-plugin/3.10.1/maven-compiler-plugin-3.10.1.jar')).toBe(1);
    expect(proxy.count('/org/apache/commons/commons-lang3/3.12.0/commons-lang3-3.12.0.jar')).toBe(1);
    expect(proxy.count('/org/apache/commons/commons-lang3/3.12.0/commons-lang3-3.12.0.jar.sha1')).toBe(1);
    // Every file mvn took came from the tree with its checksum (-C would have failed the build otherwise).
    expect(gets.filter((r) => r.status !== 200)).toEqual([]);
    const jars = gets.filter((r) => r.path.endsWith('.jar')).length;
    expect(jars).toBeGreaterThan(20);
    expect(gets.filter((r) => r.path.endsWith('.jar.sha1')).length).toBe(jars);
  }, 180_000);
});

describe('upstream cache', () => {
  it('puts a tree in place whole: racing builders get the same complete tree, no temp dir is left', async () => {
    const cache = await mkdtemp(join(tmpdir(), 'stowage-upstream-cache-'));
    const before = process.env.STOWAGE_UPSTREAM_CACHE;
    process.env.STOWAGE_UPSTREAM_CACHE = cache;
    try {
      let builds = 0;
      const build = async (dir: string) => {
        builds++;
        await writeFile(join(dir, 'a'), 'a');
        await new Promise((r) => setImmediate(r));
        await writeFile(join(dir, 'b'), 'b');
      };
      const [a, b] = await Promise.all([cachedTree('demo', 'k1', build), cachedTree('demo', 'k1', build)]);
      expect(builds).toBe(2);
      expect(a).toBe(b);
      expect(await readdir(cache)).toEqual(['demo-k1']);
      expect((await readdir(a)).sort()).toEqual(['a', 'b']);
      expect(await cachedTree('demo', 'k1', build)).toBe(a);
      expect(builds).toBe(2);
      // New inputs: a new tree, and the old one goes.
      await cachedTree('demo', 'k2', build);
      expect(await readdir(cache)).toEqual(['demo-k2']);
    } finally {
      if (before === undefined) delete process.env.STOWAGE_UPSTREAM_CACHE;
      else process.env.STOWAGE_UPSTREAM_CACHE = before;
      await rm(cache, { recursive: true, force: true });
    }
  });
});
