import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { Agent, get as httpGet } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

import { createBlobStore, isListable, resolveConfig } from '@stowage/core';
import {
  buildZip,
  clearRedisPrefix,
  createTestDatabase,
  filesUnder,
  http,
  type HttpResult,
  multipart,
  startTestObjectStore,
  TEST_REDIS_URL,
  type TestObjectStore,
  uniqueName,
} from '@stowage/testkit';

import { packageZip } from '../../../packages/format-composer/test/composer.fixtures';
import { moduleZip } from '../../../packages/format-go/test/go.fixtures';
import { ClientSandbox, expectOk, writePackage } from '../../../packages/format-npm/test/npm.clients';
import { packageTarball, publishBody } from '../../../packages/format-npm/test/npm.fixtures';
import { nuspecXml } from '../../../packages/format-nuget/test/nuget.fixtures';
import { buildProject, cleanEnv as pythonEnv, PYTHON, sh } from '../../../packages/format-pypi/test/pypi.clients';
import { type RoundRobin, startRoundRobin } from './round-robin';
import { describeProc, freePort, MAIN, type Proc, ready, running, SERVER_DIR, stop, stowage } from './server-process';

// Several `stowage serve` processes and a `stowage worker` on one PostgreSQL database, one
// Redis prefix and one bucket, behind a round-robin balancer that sends each request to the
// next server: the real npm, pip and mvn clients publish and install through it, and every
// format's metadata must be the same, and current, whichever server answers.

const run = promisify(execFile);
const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const cleanups: (() => Promise<unknown>)[] = [];
/** Tests that run real clients (a JVM, npm, pip): roomy, for a loaded two-core machine. */
const CLIENT_TIMEOUT = 120_000;

/** Polls `probe` until it returns a value, or fails with what it last saw. */
async function until<T>(what: string, probe: () => Promise<T | undefined>, ms = 30_000): Promise<T> {
  const deadline = Date.now() + ms;
  let last: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Resolves once the wall clock is in a later second than now (HTTP dates count whole seconds). */
async function nextSecond(): Promise<void> {
  const second = Math.floor(Date.now() / 1000);
  await until('the next second', async () => (Math.floor(Date.now() / 1000) > second ? true : undefined), 2000);
}

/** A format read over raw HTTP: how to publish a version, and the documents that list its versions. */
interface HttpFormat {
  format: string;
  name: string;
  versions: [string, string];
  publish(version: string): Promise<HttpResult>;
  docs: { path: string; headers?: Record<string, string>; versions(doc: HttpResult): string[] }[];
}

describe('two stowage servers and a worker on one database, behind a round-robin balancer', () => {
  let dir: string;
  let s3: TestObjectStore;
  let lb: RoundRobin;
  let servers: { url: string; proc: Proc }[];
  let worker: Proc;
  let storagePath: string;
  const rootToken = `multi-root-${randomBytes(12).toString('hex')}`;
  let dev: { id: number; username: string; token: string };
  let groupId: number;
  let lib: number;

  /** One request to a base URL (the balancer, or one server directly), as the developer unless told. */
  const call = (
    base: string,
    method: string,
    path: string,
    opts: { token?: string | null; json?: unknown; headers?: Record<string, string>; body?: Buffer } = {},
  ) => {
    const headers: Record<string, string> = { ...(opts.headers ?? {}) };
    if (opts.json !== undefined) headers['content-type'] = 'application/json';
    return http(base, {
      method,
      path,
      headers,
      token: opts.token === null ? undefined : (opts.token ?? dev.token),
      body: opts.json !== undefined ? JSON.stringify(opts.json) : opts.body,
    });
  };
  const admin = async <T = any>(method: string, path: string, json?: unknown): Promise<T> => {
    const res = await call(lb.url, method, path, { token: rootToken, json });
    if (res.status >= 300) throw new Error(`${method} ${path} → ${res.status} ${res.text}`);
    return (res.status === 204 ? undefined : res.json()) as T;
  };
  const both = () => servers.map((s) => s.url);
  /** Deletes one version through the first server alone (GitLab's packages API). */
  const deleteVersion = async (project: number, name: string, version: string) => {
    const list: { id: number; name: string; version: string }[] = await admin('GET', `/api/v4/projects/${project}/packages?per_page=100`);
    const pkg = list.find((p) => p.name === name && p.version === version);
    if (!pkg) throw new Error(`${name}@${version} is not listed: ${JSON.stringify(list)}`);
    const res = await call(servers[0].url, 'DELETE', `/api/v4/projects/${project}/packages/${pkg.id}`, { token: rootToken });
    expect(res.status).toBe(204);
  };
  /** The same document from both servers: the same status, bytes and validators. */
  const fromBoth = async (path: string, headers: Record<string, string> = {}) => {
    const [a, b] = await Promise.all(both().map((base) => call(base, 'GET', path, { headers })));
    expect({ status: b.status, etag: b.headers.etag, lastModified: b.headers['last-modified'], body: b.text }).toEqual({
      status: a.status,
      etag: a.headers.etag,
      lastModified: a.headers['last-modified'],
      body: a.text,
    });
    return a;
  };
  /** A client revalidating a copy it got from one server against each: 304 while current, 200 once not. */
  const revalidate = async (path: string, copy: HttpResult, headers: Record<string, string> = {}) => {
    const validators: Record<string, string> = {};
    if (copy.headers.etag) validators['if-none-match'] = String(copy.headers.etag);
    if (copy.headers['last-modified']) validators['if-modified-since'] = String(copy.headers['last-modified']);
    return Promise.all(both().map(async (base) => (await call(base, 'GET', path, { headers: { ...headers, ...validators } })).status));
  };

  beforeAll(async () => {
    if (!existsSync(MAIN))
      throw new Error(`${MAIN} is missing: build the server first (cd ${join(SERVER_DIR, '../..')} && npx tsc -b apps/server)`);
    dir = await mkdtemp(join(tmpdir(), 'stowage-multi-'));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    const db = await createTestDatabase();
    cleanups.push(db.drop);
    const prefix = uniqueName('stowage-multi');
    cleanups.push(() => clearRedisPrefix(prefix));
    s3 = await startTestObjectStore();
    cleanups.push(() => s3.close());

    const ports = [await freePort(), await freePort()];
    lb = await startRoundRobin(ports.map((p) => `http://127.0.0.1:${p}`));
    cleanups.push(() => lb.close());
    // Uploads land here and the worker moves them to the bucket: a volume every process mounts.
    storagePath = join(dir, 'shared-packages');
    const config = {
      database: { url: db.url },
      redis: { url: TEST_REDIS_URL, prefix },
      jobs: { run_in_server: false },
      server: { host: '127.0.0.1', external_url: lb.url },
      log: { level: 'warn' },
      packages: {
        storage_path: storagePath,
        object_store: { enabled: true, background_upload: true, remote_directory: s3.bucket, connection: s3.connection },
      },
    };
    await writeFile(join(dir, 'stowage.yml'), JSON.stringify(config, null, 2));

    // Both servers start at once on the empty database: migrations and the root user are made once.
    const env = { STOWAGE_ROOT_TOKEN: rootToken };
    servers = ports.map((port) => ({
      url: `http://127.0.0.1:${port}`,
      proc: stowage(['serve'], dir, { ...env, STOWAGE_SERVER__PORT: String(port) }),
    }));
    // The worker says it runs at level info.
    worker = stowage(['worker'], dir, { ...env, STOWAGE_LOG__LEVEL: 'info' });
    const startup = await Promise.all(servers.map((s) => ready(s.proc, s.url)));
    console.log(`two servers started at once on an empty database: ready in ${startup.join(' and ')} ms`);
    await until('the worker', async () => {
      if (!running.has(worker)) throw new Error(`worker exited${describeProc(worker)}`);
      return worker.stdout().includes('stowage worker running (redis queue)') ? true : undefined;
    });

    const user: { id: number } = await admin('POST', '/api/v4/users', { username: 'dev', name: 'dev', admin: false });
    const pat: { token: string } = await admin('POST', `/api/v4/users/${user.id}/personal_access_tokens`, { name: 'dev', scopes: ['api'] });
    dev = { id: user.id, username: 'dev', token: pat.token };
    groupId = (await admin<{ id: number }>('POST', '/api/v4/groups', { name: 'acme', path: 'acme', visibility: 'private' })).id;
    lib = (
      await admin<{ id: number }>('POST', '/api/v4/projects', { name: 'lib', path: 'lib', namespace_id: groupId, visibility: 'private' })
    ).id;
    await admin('POST', `/api/v4/groups/${groupId}/members`, { user_id: dev.id, access_level: 40 });
  }, 120_000);

  afterAll(async () => {
    const started = [...(servers ?? []).map((s) => s.proc), worker].filter((p) => p && running.has(p));
    await Promise.all(started.map((p) => stop(p).catch(() => p.child.kill('SIGKILL'))));
    for (const c of cleanups.reverse()) await c().catch(() => undefined);
  }, 60_000);

  it('both servers answer on one database: each reads what the other wrote, the root user too', async () => {
    for (const base of both()) {
      const root = await call(base, 'GET', '/api/v4/user', { token: rootToken });
      expect([root.status, root.json().username]).toEqual([200, 'root']);
      const me = await call(base, 'GET', '/api/v4/user');
      expect([me.status, me.json().username]).toEqual([200, 'dev']);
      const readiness = await call(base, 'GET', '/-/readiness', { token: null });
      expect(readiness.json()).toEqual({
        status: 'ok',
        checks: { database: { status: 'ok' }, queue: { status: 'ok' }, storage_local: { status: 'ok' }, storage_object: { status: 'ok' } },
      });
    }
    // The balancer alternates per request, also on one kept-alive connection.
    const mark = lb.log.length;
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    for (let i = 0; i < 4; i++) {
      const body = await new Promise<string>((resolve, reject) => {
        httpGet(`${lb.url}/-/health`, { agent }, (res) => {
          let text = '';
          res.on('data', (d: Buffer) => (text += d.toString()));
          res.on('end', () => resolve(`${res.statusCode} ${text}`));
        }).on('error', reject);
      });
      expect(body).toBe('200 {"status":"ok"}');
    }
    agent.destroy();
    const seen = lb.log.slice(mark);
    expect(new Set(seen.map((r) => r.connection)).size).toBe(1);
    const first = seen[0].upstream;
    expect(seen.map((r) => r.upstream)).toEqual([first, 1 - first, first, 1 - first]);
  });

  it('a token revoked, a member added, packages turned off and a setting changed through one server hold on the other at once', async () => {
    const [a, b] = both();
    const pat: { id: number; token: string } = await admin('POST', `/api/v4/users/${dev.id}/personal_access_tokens`, {
      name: 'short',
      scopes: ['api'],
    });
    expect((await call(b, 'GET', '/api/v4/user', { token: pat.token })).status).toBe(200);
    expect((await call(a, 'DELETE', `/api/v4/personal_access_tokens/${pat.id}`, { token: rootToken })).status).toBe(204);
    expect((await call(b, 'GET', '/api/v4/user', { token: pat.token })).status).toBe(401);

    // A rotation through one server: the other refuses the old secret and takes the new one at once.
    const rotating: { id: number; token: string } = await admin('POST', `/api/v4/users/${dev.id}/personal_access_tokens`, {
      name: 'rotating',
      scopes: ['api'],
    });
    expect((await call(b, 'GET', '/api/v4/user', { token: rotating.token })).status).toBe(200);
    const rotated = await call(a, 'POST', `/api/v4/personal_access_tokens/${rotating.id}/rotate`, { token: rootToken });
    expect(rotated.status).toBe(200);
    expect((await call(b, 'GET', '/api/v4/user', { token: rotating.token })).status).toBe(401);
    expect((await call(b, 'GET', '/api/v4/user', { token: rotated.json().token })).status).toBe(200);
    // A project access token revoked through one server is refused by the other at once.
    const bot: { id: number; token: string } = await admin('POST', `/api/v4/projects/${lib}/access_tokens`, {
      name: 'bot',
      scopes: ['read_api'],
      access_level: 20,
    });
    expect((await call(b, 'GET', `/api/v4/projects/${lib}/packages`, { token: bot.token })).status).toBe(200);
    expect((await call(a, 'DELETE', `/api/v4/projects/${lib}/access_tokens/${bot.id}`, { token: rootToken })).status).toBe(204);
    expect((await call(b, 'GET', `/api/v4/projects/${lib}/packages`, { token: bot.token })).status).toBe(401);

    const user: { id: number } = await admin('POST', '/api/v4/users', { username: 'visitor', name: 'visitor', admin: false });
    const visitor: { token: string } = await admin('POST', `/api/v4/users/${user.id}/personal_access_tokens`, {
      name: 'v',
      scopes: ['api'],
    });
    const packages = `/api/v4/projects/${lib}/packages`;
    expect((await call(b, 'GET', packages, { token: visitor.token })).status).toBe(404);
    expect(
      (await call(a, 'POST', `/api/v4/projects/${lib}/members`, { token: rootToken, json: { user_id: user.id, access_level: 20 } })).status,
    ).toBe(201);
    expect((await call(b, 'GET', packages, { token: visitor.token })).status).toBe(200);

    const file = `/api/v4/projects/${lib}/packages/generic/settings/1.0.0/file.txt`;
    expect((await call(b, 'PUT', file, { body: Buffer.from('one') })).status).toBe(201);

    // Each server keeps tokens, projects and member levels in memory: packages turned off
    // through one server are off on the other at once, and back on, on.
    const packagesEnabled = (on: boolean) =>
      call(a, 'PUT', `/api/v4/projects/${lib}`, { token: rootToken, json: { packages_enabled: on } });
    expect((await call(b, 'GET', file)).status).toBe(200);
    expect((await packagesEnabled(false)).status).toBe(200);
    expect((await call(b, 'GET', file)).status).toBe(403);
    expect((await packagesEnabled(true)).status).toBe(200);
    expect((await call(b, 'GET', file)).status).toBe(200);
    expect(
      (await call(a, 'PUT', `/api/v4/projects/${lib}/package_settings`, { token: rootToken, json: { generic_duplicates_allowed: false } }))
        .status,
    ).toBe(200);
    const refused = await call(b, 'PUT', file, { body: Buffer.from('two') });
    expect([refused.status, refused.json()]).toEqual([400, { message: '400 Bad request - Duplicate package is not allowed' }]);
  });

  it('a web sign-in made on one server works on the other, and signing out on either ends it on both at once', async () => {
    const [a, b] = both();
    const signIn = await call(a, 'POST', '/-/session', { token: null, json: { token: dev.token } });
    expect(signIn.status).toBe(201);
    const cookie = /stowage_session=[^;]*/.exec(String(signIn.headers['set-cookie']))![0];
    const csrf = signIn.json().csrf_token as string;
    const asSession = (base: string, method = 'GET', path = '/api/v4/user', headers: Record<string, string> = {}) =>
      call(base, method, path, { token: null, headers: { cookie, ...headers } });
    for (const base of [a, b]) expect((await asSession(base)).json().username).toBe('dev');
    expect((await asSession(b, 'DELETE', '/-/session', { 'x-csrf-token': csrf })).status).toBe(204);
    for (const base of [a, b]) expect((await asSession(base)).status).toBe(401);
  });

  describe('npm', () => {
    let sb: ClientSandbox;
    let registry: string;
    const widget = (version: string) => `module.exports = 'widget ${version}';\n`;
    const packument = () => `/api/v4/projects/${lib}/packages/npm/@acme%2fwidget`;

    beforeAll(async () => {
      sb = await ClientSandbox.create();
      cleanups.push(() => sb.cleanup());
      registry = `${lb.url}/api/v4/projects/${lib}/packages/npm/`;
      await sb.writeNpmrc([`@acme:registry=${registry}`, `${registry.replace(/^https?:/, '')}:_authToken=${dev.token}`]);
    });

    const publish = async (version: string) => {
      const src = await sb.dir(`widget-${version}`);
      await writePackage(src, { name: '@acme/widget', version, main: 'index.js' }, { 'index.js': widget(version) });
      expectOk(await sb.npm(['publish'], src), `npm publish ${version}`);
    };
    /** npm install into a fresh directory (and a fresh npm cache); what it installed. */
    const install = async (spec: string) => {
      const app = await sb.dir(`app-${randomBytes(4).toString('hex')}`);
      await writePackage(app, { name: 'app', version: '1.0.0', private: true }, {});
      const mark = lb.log.length;
      expectOk(await sb.npm(['install', spec], app), `npm install ${spec}`);
      const installed = await readFile(join(app, 'node_modules/@acme/widget/index.js'), 'utf8');
      return { installed, upstreams: new Set(lb.log.slice(mark).map((r) => r.upstream)) };
    };

    it(
      'npm publish, then npm install at once through the balancer, for each new version',
      async () => {
        await publish('1.0.0');
        const first = await install('@acme/widget@1.0.0');
        expect(first.installed).toBe(widget('1.0.0'));
        expect(first.upstreams).toEqual(new Set([0, 1])); // the packument from one server, the tarball from the other
        await publish('1.1.0');
        expect((await install('@acme/widget')).installed).toBe(widget('1.1.0'));
      },
      CLIENT_TIMEOUT,
    );

    it(
      'a version deleted through one server is gone from the other at once, in both packument forms',
      async () => {
        const corgi = { accept: 'application/vnd.npm.install-v1+json; q=1.0, application/json; q=0.8, */*' };
        // Both servers have rendered (and cached) both forms, and agree on them.
        const before = [await fromBoth(packument()), await fromBoth(packument(), corgi)];
        for (const doc of before) expect(Object.keys(doc.json().versions)).toEqual(['1.0.0', '1.1.0']);
        expect(await revalidate(packument(), before[0])).toEqual([304, 304]);

        await deleteVersion(lib, '@acme/widget', '1.1.0');
        const after = [await fromBoth(packument()), await fromBoth(packument(), corgi)];
        for (const doc of after) {
          expect(Object.keys(doc.json().versions)).toEqual(['1.0.0']);
          expect(doc.json()['dist-tags']).toEqual({ latest: '1.0.0' });
        }
        expect(await revalidate(packument(), before[0])).toEqual([200, 200]);
        expect(await revalidate(packument(), before[1], corgi)).toEqual([200, 200]);
        expect(await revalidate(packument(), after[1], corgi)).toEqual([304, 304]);
        expect((await install('@acme/widget')).installed).toBe(widget('1.0.0'));
        const gone = await sb.npm(['install', '@acme/widget@1.1.0'], await sb.dir('app-gone'));
        expect(gone.code).not.toBe(0);
        expect(gone.stderr).toContain('No matching version found for @acme/widget@1.1.0');

        // A dist-tag set through one server shows on the other at once, group scope too.
        const tag = await call(servers[0].url, 'PUT', `/api/v4/projects/${lib}/packages/npm/-/package/@acme%2fwidget/dist-tags/stable`, {
          json: '1.0.0',
        });
        expect(tag.status).toBe(204);
        for (const path of [packument(), `/api/v4/groups/${groupId}/-/packages/npm/@acme%2fwidget`]) {
          expect((await fromBoth(path)).json()['dist-tags']).toEqual({ latest: '1.0.0', stable: '1.0.0' });
        }
      },
      CLIENT_TIMEOUT,
    );
  });

  describe('pip and twine', () => {
    let work: string;
    let python: string;
    const builds: Record<string, { wheel: string; sdist: string }> = {};
    const index = () => `http://__token__:${dev.token}@${new URL(lb.url).host}/api/v4/projects/${lib}/packages/pypi/simple`;
    const page = () => `/api/v4/projects/${lib}/packages/pypi/simple/stowage-multi/`;
    const groupPage = () => `/api/v4/groups/${groupId}/-/packages/pypi/simple/stowage-multi/`;
    const pep691 = { accept: 'application/vnd.pypi.simple.v1+json' };

    beforeAll(async () => {
      work = await mkdtemp(join(tmpdir(), 'stowage-multi-pypi-'));
      cleanups.push(() => rm(work, { recursive: true, force: true }));
      const [venv, ...built] = await Promise.all([
        sh(PYTHON, ['-m', 'venv', '--system-site-packages', join(work, 'venv')], { env: pythonEnv(work) }),
        ...['1.0', '2.0'].map((version) =>
          buildProject(join(work, version), { name: 'stowage-multi', module: 'stowage_multi', version, body: `VERSION = "${version}"\n` }),
        ),
      ]);
      if (venv.code !== 0) throw new Error(venv.stderr);
      python = join(work, 'venv', 'bin', 'python');
      builds['1.0'] = built[0];
      builds['2.0'] = built[1];
    }, CLIENT_TIMEOUT);

    const upload = async (version: string) => {
      const out = await sh(
        'twine',
        [
          'upload',
          '--non-interactive',
          '--repository-url',
          `${lb.url}/api/v4/projects/${lib}/packages/pypi`,
          builds[version].wheel,
          builds[version].sdist,
        ],
        {
          env: pythonEnv(work, { TWINE_USERNAME: '__token__', TWINE_PASSWORD: dev.token }),
        },
      );
      if (out.code !== 0) throw new Error(`twine upload ${version} failed:\n${out.stdout}\n${out.stderr}`);
    };
    /** pip install into a fresh target directory; the version the installed module reports. */
    const install = async (spec: string) => {
      const target = await mkdtemp(join(work, 'target-'));
      const out = await sh(
        python,
        ['-m', 'pip', 'install', '--no-cache-dir', '--disable-pip-version-check', '--target', target, '--index-url', index(), spec],
        { env: pythonEnv(work) },
      );
      if (out.code !== 0) return { code: out.code, output: out.stdout + out.stderr };
      const version = await sh(python, ['-c', 'import stowage_multi; print(stowage_multi.VERSION)'], {
        env: pythonEnv(work, { PYTHONPATH: target }),
      });
      return { code: 0, version: version.stdout.trim() };
    };
    /** The versions whose wheels a page (HTML or JSON) lists. */
    const listed = (doc: HttpResult) => [...new Set([...doc.text.matchAll(/stowage_multi-([\d.]+)-py3-none-any\.whl/g)].map((m) => m[1]))];

    it(
      'twine upload, then pip install at once through the balancer, for each new version',
      async () => {
        await upload('1.0');
        expect(await install('stowage-multi==1.0')).toEqual({ code: 0, version: '1.0' });
        await upload('2.0');
        expect(await install('stowage-multi')).toEqual({ code: 0, version: '2.0' });
      },
      CLIENT_TIMEOUT,
    );

    it(
      'a version deleted through one server is gone from the other at once: project and group pages, HTML and JSON',
      async () => {
        const pages = [[page()], [page(), pep691], [groupPage()], [groupPage(), pep691]] as const;
        const before = [];
        for (const [path, headers] of pages) {
          const doc = await fromBoth(path, headers);
          expect(listed(doc)).toEqual(['1.0', '2.0']);
          expect(await revalidate(path, doc, headers)).toEqual([304, 304]);
          before.push(doc);
        }
        await deleteVersion(lib, 'stowage-multi', '2.0');
        for (const [i, [path, headers]] of pages.entries()) {
          const doc = await fromBoth(path, headers);
          expect(listed(doc)).toEqual(['1.0']);
          expect(await revalidate(path, before[i], headers)).toEqual([200, 200]);
          expect(await revalidate(path, doc, headers)).toEqual([304, 304]);
        }
        expect(await install('stowage-multi')).toEqual({ code: 0, version: '1.0' });
        const gone = await install('stowage-multi==2.0');
        expect(gone.code).not.toBe(0);
        expect(gone.output).toContain('No matching distribution found for stowage-multi==2.0');
      },
      CLIENT_TIMEOUT,
    );
  });

  describe('mvn', () => {
    let work: string;
    const JVM_ENV = { ...process.env, MAVEN_OPTS: '-XX:TieredStopAtLevel=1 -XX:+UseSerialGC', JAVA_TOOL_OPTIONS: undefined };
    const repo = () => `${lb.url}/api/v4/projects/${lib}/packages/maven`;
    const metadata = (scope: string) => `${scope}/acme/libs/greeter/maven-metadata.xml`;
    const jar = (version: string) =>
      buildZip({ 'META-INF/MANIFEST.MF': 'Manifest-Version: 1.0\r\n\r\n', 'acme/greeter.txt': `greeter ${version}\n` });

    const mvn = async (args: string[]) => {
      try {
        await run('mvn', ['-B', '-q', '-s', join(work, 'settings.xml'), ...args], { cwd: work, timeout: 90_000, env: JVM_ENV });
      } catch (err) {
        const e = err as { stdout?: string; stderr?: string };
        throw new Error(`mvn ${args.join(' ')} failed:\n${e.stdout}\n${e.stderr}`);
      }
    };
    /** mvn resolves acme.libs:greeter:RELEASE (read from maven-metadata.xml) into an empty local repository. */
    const resolveRelease = async () => {
      const local = await mkdtemp(join(work, 'm2-'));
      await mvn([
        `-Dmaven.repo.local=${local}`,
        'org.apache.maven.plugins:maven-dependency-plugin:3.5.0:get',
        '-Dartifact=acme.libs:greeter:RELEASE',
        '-Dtransitive=false',
        `-DremoteRepositories=stowage-read::default::${repo()}`,
      ]);
      return (await readdir(join(local, 'acme/libs/greeter'))).filter((v) => /^\d/.test(v));
    };

    beforeAll(async () => {
      work = await mkdtemp(join(tmpdir(), 'stowage-multi-mvn-'));
      cleanups.push(() => rm(work, { recursive: true, force: true }));
      await writeFile(
        join(work, 'settings.xml'),
        `<settings><servers>
  <server><id>stowage</id><configuration><httpHeaders><property><name>Private-Token</name><value>${dev.token}</value></property></httpHeaders></configuration></server>
  <server><id>stowage-read</id><username>${dev.username}</username><password>${dev.token}</password></server>
</servers>
<mirrors><mirror><id>debian</id><mirrorOf>*,!stowage,!stowage-read</mirrorOf><url>file:///usr/share/maven-repo</url></mirror></mirrors></settings>`,
      );
    });

    it(
      'mvn deploy, then mvn resolves the new release at once through the balancer',
      async () => {
        // 1.0 by plain PUTs (a JVM less); 2.0 by mvn, which reads the metadata from one server and writes it to the other.
        const pom = `<project><modelVersion>4.0.0</modelVersion><groupId>acme.libs</groupId><artifactId>greeter</artifactId><version>1.0</version></project>`;
        for (const [file, body] of [
          ['greeter-1.0.pom', Buffer.from(pom)],
          ['greeter-1.0.jar', jar('1.0')],
        ] as const) {
          const put = await call(lb.url, 'PUT', `/api/v4/projects/${lib}/packages/maven/acme/libs/greeter/1.0/${file}`, { body });
          expect([file, put.status]).toEqual([file, 200]);
        }
        await writeFile(join(work, 'greeter-2.0.jar'), jar('2.0'));
        await mvn([
          `-Dmaven.repo.local=${join(work, 'm2-deploy')}`,
          'org.apache.maven.plugins:maven-deploy-plugin:3.0.0:deploy-file',
          '-Dfile=greeter-2.0.jar',
          '-DgroupId=acme.libs',
          '-DartifactId=greeter',
          '-Dversion=2.0',
          '-Dpackaging=jar',
          '-DrepositoryId=stowage',
          `-Durl=${repo()}`,
        ]);
        expect(await resolveRelease()).toEqual(['2.0']);
      },
      CLIENT_TIMEOUT,
    );

    it(
      'a version deleted through one server is gone from the other at once: project and group maven-metadata.xml',
      async () => {
        const scopes = [`/api/v4/projects/${lib}/packages/maven`, `/api/v4/groups/${groupId}/-/packages/maven`];
        const before = [];
        for (const scope of scopes) {
          const doc = await fromBoth(metadata(scope));
          expect(doc.text).toContain('<release>2.0</release>');
          expect(await revalidate(metadata(scope), doc)).toEqual([304, 304]);
          before.push(doc);
        }
        await deleteVersion(lib, 'acme/libs/greeter', '2.0');
        for (const [i, scope] of scopes.entries()) {
          const doc = await fromBoth(metadata(scope));
          expect([...doc.text.matchAll(/<version>([^<]+)<\/version>/g)].map((m) => m[1])).toEqual(['1.0']);
          expect(doc.text).toContain('<release>1.0</release>');
          expect(await revalidate(metadata(scope), before[i])).toEqual([200, 200]);
          expect(await revalidate(metadata(scope), doc)).toEqual([304, 304]);
        }
        expect(await resolveRelease()).toEqual(['1.0']);
      },
      CLIENT_TIMEOUT,
    );
  });

  describe('composer', () => {
    let dir: string;
    const env = (home: string): NodeJS.ProcessEnv => ({
      PATH: process.env.PATH,
      HOME: home,
      COMPOSER_HOME: join(home, 'composer'),
      COMPOSER_CACHE_DIR: join(home, 'cache'),
      COMPOSER_ALLOW_SUPERUSER: '1',
      COMPOSER_NO_INTERACTION: '1',
    });
    /** Runs composer in the app; the p2 requests it made, with the server that answered each and how. */
    const composer = async (...args: string[]) => {
      const mark = lb.log.length;
      try {
        await run('composer', [...args, '--no-interaction', '--no-ansi'], {
          cwd: join(dir, 'app'),
          env: env(join(dir, 'home')),
          timeout: 60_000,
        });
      } catch (err) {
        const e = err as { stdout?: string; stderr?: string };
        throw new Error(`composer ${args.join(' ')} failed:\n${e.stdout}\n${e.stderr}`);
      }
      return lb.log.slice(mark).filter((r) => r.url.includes('/p2/acme/rt.json'));
    };
    const installed = async () => {
      const lock = JSON.parse(await readFile(join(dir, 'app', 'composer.lock'), 'utf8'));
      return lock.packages.map((p: { name: string; version: string }) => `${p.name}@${p.version}`);
    };
    const publish = async (version: string) => {
      const zip = packageZip(
        { name: 'acme/rt', type: 'library', autoload: { 'psr-4': { 'Acme\\Rt\\': 'src/' } } },
        { 'src/Rt.php': `<?php // ${version}\n` },
      );
      const { body, contentType } = multipart([
        { name: 'version', value: version },
        { name: 'file', value: zip, fileName: 'rt.zip' },
      ]);
      expect(
        (await call(lb.url, 'POST', `/api/v4/projects/${lib}/packages/composer`, { body, headers: { 'content-type': contentType } }))
          .status,
      ).toBe(201);
    };

    beforeAll(async () => {
      dir = await mkdtemp(join(tmpdir(), 'stowage-multi-composer-'));
      cleanups.push(() => rm(dir, { recursive: true, force: true }));
      const host = new URL(lb.url).host;
      await mkdir(join(dir, 'app'), { recursive: true });
      await writeFile(
        join(dir, 'app', 'composer.json'),
        JSON.stringify({
          name: 'test/app',
          require: {},
          repositories: [
            { type: 'composer', url: `${lb.url}/api/v4/group/${groupId}/-/packages/composer/packages.json` },
            { packagist: false },
          ],
          config: { 'secure-http': false, 'gitlab-domains': [host] },
        }),
      );
      await writeFile(join(dir, 'app', 'auth.json'), JSON.stringify({ 'gitlab-token': { [host]: dev.token } }));
    });

    it(
      'composer require and update through the balancer see each publish and delete at once, and revalidate across servers',
      async () => {
        await publish('1.0.0');
        await composer('require', 'acme/rt:^1.0');
        expect(await installed()).toEqual(['acme/rt@1.0.0']);
        await publish('1.1.0');
        const updated = await composer('update');
        expect(await installed()).toEqual(['acme/rt@1.1.0']);
        expect(updated.map((r) => r.status)).toEqual([200]);
        await deleteVersion(lib, 'acme/rt', '1.1.0');
        const downgraded = await composer('update');
        expect(await installed()).toEqual(['acme/rt@1.0.0']);
        expect(downgraded.map((r) => r.status)).toEqual([200]);
        // Nothing changed: composer's If-Modified-Since earns a 304 from whichever server answers
        // (one other request in between puts composer's p2 request on the other server).
        const unchanged = await composer('update');
        expect((await call(lb.url, 'GET', '/-/health', { token: null })).status).toBe(200);
        unchanged.push(...(await composer('update')));
        expect(unchanged.map((r) => r.status)).toEqual([304, 304]);
        expect(new Set(unchanged.map((r) => r.upstream))).toEqual(new Set([0, 1]));
      },
      CLIENT_TIMEOUT,
    );
  });

  describe('NuGet, Composer and Go over HTTP', () => {
    const COMPOSER2 = { 'user-agent': 'Composer/2.5.5 (Linux; 6.1; PHP 8.2.7; cURL 7.88.1)' };
    const nuget = () => `/api/v4/projects/${lib}/packages/nuget`;
    const go = () => `/api/v4/projects/${lib}/packages/go/example.com/multi`;
    const goFiles = { 'go.mod': 'module example.com/multi\n\ngo 1.19\n', 'multi.go': 'package multi\n' };
    const formats = (): HttpFormat[] => [
      {
        format: 'nuget',
        name: 'Acme.Multi',
        versions: ['1.0.0', '2.0.0'],
        publish: async (version: string) => {
          const nupkg = buildZip({ 'Acme.Multi.nuspec': nuspecXml('Acme.Multi', version), 'content/a.txt': `multi ${version}\n` });
          const { body, contentType } = multipart([{ name: 'package', value: nupkg, fileName: 'package.nupkg' }]);
          return call(lb.url, 'PUT', `${nuget()}/`, {
            body,
            headers: { 'content-type': contentType, 'x-nuget-apikey': dev.token },
            token: null,
          });
        },
        docs: [
          {
            path: `${nuget()}/metadata/acme.multi/index.json`,
            versions: (d: HttpResult) =>
              d
                .json()
                .items.flatMap((p: any) => p.items ?? [])
                .map((i: any) => i.catalogEntry.version),
          },
          { path: `${nuget()}/download/acme.multi/index.json`, versions: (d: HttpResult) => d.json().versions },
          {
            path: `/api/v4/groups/${groupId}/-/packages/nuget/metadata/acme.multi/index.json`,
            versions: (d: HttpResult) =>
              d
                .json()
                .items.flatMap((p: any) => p.items ?? [])
                .map((i: any) => i.catalogEntry.version),
          },
        ],
      },
      {
        format: 'composer',
        name: 'acme/multi',
        versions: ['1.0.0', '2.0.0'],
        publish: async (version: string) => {
          const zip = packageZip({ name: 'acme/multi', type: 'library' }, { 'src/Multi.php': `<?php // ${version}\n` });
          const { body, contentType } = multipart([
            { name: 'version', value: version },
            { name: 'file', value: zip, fileName: 'multi.zip' },
          ]);
          return call(lb.url, 'POST', `/api/v4/projects/${lib}/packages/composer`, { body, headers: { 'content-type': contentType } });
        },
        docs: [
          {
            path: `/api/v4/group/${groupId}/-/packages/composer/p2/acme/multi.json`,
            headers: COMPOSER2,
            versions: (d: HttpResult) => d.json().packages['acme/multi'].map((v: { version: string }) => v.version),
          },
        ],
      },
      {
        format: 'go',
        name: 'example.com/multi',
        versions: ['v1.0.0', 'v1.1.0'],
        publish: (version: string) =>
          call(lb.url, 'PUT', `${go()}/@v/${version}.zip`, {
            body: moduleZip('example.com/multi', version, goFiles),
            headers: { 'content-type': 'application/zip' },
          }),
        docs: [
          { path: `${go()}/@v/list`, versions: (d: HttpResult) => d.text.split('\n').filter(Boolean) },
          { path: `${go()}/@latest`, versions: (d: HttpResult) => [d.json().Version] },
        ],
      },
    ];

    it('publish through the balancer; a version deleted through one server is gone from the other at once', async () => {
      for (const f of formats()) {
        for (const version of f.versions) expect([f.format, version, (await f.publish(version)).status]).toEqual([f.format, version, 201]);
        const before = [];
        for (const doc of f.docs) {
          const got = await fromBoth(doc.path, doc.headers);
          expect([f.format, doc.path, doc.versions(got)]).toEqual([
            f.format,
            doc.path,
            doc.path.endsWith('@latest') ? f.versions.slice(-1) : f.versions,
          ]);
          if (got.headers.etag) expect(await revalidate(doc.path, got, doc.headers)).toEqual([304, 304]);
          before.push(got);
        }
        await deleteVersion(lib, f.name, f.versions[1]);
        for (const [i, doc] of f.docs.entries()) {
          const got = await fromBoth(doc.path, doc.headers);
          expect([f.format, doc.path, doc.versions(got)]).toEqual([f.format, doc.path, f.versions.slice(0, 1)]);
          if (!got.headers.etag) continue;
          expect(await revalidate(doc.path, before[i], doc.headers)).toEqual([200, 200]);
          expect(await revalidate(doc.path, got, doc.headers)).toEqual([304, 304]);
        }
      }
    });

    it('Composer: both servers give one document the same Last-Modified, and an If-Modified-Since earns a 304 only for the bytes it dates', async () => {
      const [a, b] = both();
      const p2 = `/api/v4/group/${groupId}/-/packages/composer/p2/acme/clock.json`;
      const publish = async (version: string) => {
        const zip = packageZip({ name: 'acme/clock', type: 'library' }, { 'src/Clock.php': `<?php // ${version}\n` });
        const { body, contentType } = multipart([
          { name: 'version', value: version },
          { name: 'file', value: zip, fileName: 'clock.zip' },
        ]);
        expect(
          (await call(lb.url, 'POST', `/api/v4/projects/${lib}/packages/composer`, { body, headers: { 'content-type': contentType } }))
            .status,
        ).toBe(201);
      };
      const read = (base: string, headers: Record<string, string> = {}) => call(base, 'GET', p2, { headers: { ...COMPOSER2, ...headers } });
      const versions = (d: HttpResult) => d.json().packages['acme/clock'].map((v: { version: string }) => v.version);

      await publish('1.0.0');
      const fromA = await read(a);
      // The other server serves the same bytes a second later: with the same date.
      await nextSecond();
      const fromB = await read(b);
      expect([fromB.text, fromB.headers['last-modified']]).toEqual([fromA.text, fromA.headers['last-modified']]);
      const since = (d: HttpResult) => ({ 'if-modified-since': String(d.headers['last-modified']) });
      expect((await read(b, since(fromA))).status).toBe(304);

      // 1.1.0 is published and read through B only; then deleted, so the bytes are those A saw first.
      await publish('1.1.0');
      await nextSecond();
      const newer = await read(b);
      expect(versions(newer)).toEqual(['1.0.0', '1.1.0']);
      await deleteVersion(lib, 'acme/clock', '1.1.0');
      // A client holding 1.1.0 (dated by B) asks A: the bytes changed since, so not a 304.
      const current = await read(a, since(newer));
      expect(current.status).toBe(200);
      expect(versions(current)).toEqual(['1.0.0']);
      expect(Date.parse(String(current.headers['last-modified']))).toBeGreaterThan(Date.parse(String(newer.headers['last-modified'])));
      expect((await read(b, since(current))).status).toBe(304);
    });
  });

  describe('50 concurrent publishes of one npm version, spread over both servers', () => {
    const localBlobs = async () => (await filesUnder(storagePath)).filter((f) => !f.startsWith(join(storagePath, 'tmp')));
    const bucketKeys = async () => {
      const config = resolveConfig(
        { packages: { object_store: { enabled: true, remote_directory: s3.bucket, connection: s3.connection } } },
        new Map(),
        [s3.plugin],
      );
      const store = await createBlobStore(s3.plugin, config);
      const keys: string[] = [];
      if (isListable(store)) for await (const o of store.list()) keys.push(o.key);
      return keys;
    };
    /** Once the worker has moved every upload to the bucket: the bucket's keys. */
    const moved = (count?: number) =>
      until(
        `the worker to move every blob${count === undefined ? '' : ` (${count} in the bucket)`}`,
        async () => {
          if ((await localBlobs()).length) return undefined;
          const keys = await bucketKeys();
          return count === undefined || keys.length === count ? keys : undefined;
        },
        60_000,
      );

    it(
      "end with exactly one winner, the others npm's 403, no 500; one package, one file, one blob",
      async () => {
        const project = (await admin<{ id: number }>('POST', '/api/v4/projects', { name: 'race', path: 'race', namespace_id: groupId })).id;
        const before = await moved();
        const tarballs = Array.from({ length: 50 }, (_, i) =>
          packageTarball({ name: '@acme/race', version: '1.0.0' }, { 'package/index.js': `module.exports = ${i};\n` }),
        );
        const path = `/api/v4/projects/${project}/packages/npm/@acme%2frace`;
        const mark = lb.log.length;
        const started = Date.now();
        const answers = await Promise.all(
          tarballs.map((tgz) => call(lb.url, 'PUT', path, { json: publishBody('@acme/race', '1.0.0', { tgz }) })),
        );
        console.log(`50 concurrent publishes of one version answered in ${Date.now() - started} ms`);
        const upstreams = lb.log.slice(mark).map((r) => r.upstream);
        expect([upstreams.filter((u) => u === 0).length, upstreams.filter((u) => u === 1).length]).toEqual([25, 25]);

        const won = answers.flatMap((a, i) => (a.status === 200 ? [i] : []));
        expect(won).toHaveLength(1);
        expect(answers[won[0]].json()).toMatchObject({ ok: 'created new package', name: '@acme/race', version: '1.0.0' });
        const lost = answers.filter((a) => a.status !== 200).map((a) => `${a.status} ${a.text}`);
        expect(new Set(lost)).toEqual(new Set(['403 {"error":"Package already exists."}']));
        expect(lost).toHaveLength(49);

        const winner = tarballs[won[0]];
        const listed: { id: number; name: string; version: string }[] = await admin('GET', `/api/v4/projects/${project}/packages`);
        expect(listed.map((p) => `${p.name}@${p.version}`)).toEqual(['@acme/race@1.0.0']);
        const files: { file_name: string; file_sha256: string }[] = await admin(
          'GET',
          `/api/v4/projects/${project}/packages/${listed[0].id}/package_files`,
        );
        expect(files.map((f) => [f.file_name, f.file_sha256])).toEqual([['@acme/race-1.0.0.tgz', sha256(winner)]]);
        const packument = await fromBoth(path);
        expect(packument.json().versions['1.0.0'].dist.integrity).toBe(`sha512-${createHash('sha512').update(winner).digest('base64')}`);
        const tarball = await call(lb.url, 'GET', `${path}/-/@acme/race-1.0.0.tgz`);
        expect([tarball.status, sha256(tarball.body)]).toEqual([200, sha256(winner)]);
        // The 49 losers' uploads are gone from disk and bucket; the winner's is in the bucket, moved by the worker.
        const after = await moved(before.length + 1);
        expect(after.filter((k) => !before.includes(k))).toHaveLength(1);
      },
      CLIENT_TIMEOUT,
    );
  });

  describe('afterwards', () => {
    it('no request got a 5xx, and no process logged a warning or an error', async () => {
      // The processes' warnings first: when a request got a 5xx, they say why.
      for (const proc of [...servers.map((s) => s.proc), worker]) {
        const errors = proc
          .stdout()
          .split('\n')
          .filter((l) => /"level":(40|50|60)/.test(l));
        expect(errors).toEqual([]);
      }
      expect(lb.log.filter((r) => r.status >= 500 || r.status === 0)).toEqual([]);
    });
  });
});
