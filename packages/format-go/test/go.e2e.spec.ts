import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createServer as createTlsServer, type Server as TlsServer } from 'node:tls';
import { promisify } from 'node:util';

import { objectStoreMode, startTestServer, type TestProject, type TestServer, type TestUser } from '@stowage/testkit';

import { goFormat } from '../src';
import { h1, h1GoMod } from './go.fixtures';

// The real go command (Debian's golang-go) against a running server, in one database mode:
// go.api.spec.ts covers both modes at the HTTP level. go sends netrc credentials only over
// https, so the server sits behind a loopback TLS front with a throw-away certificate.

const run = promisify(execFile);

const GREET = 'example.com/greet';
const GREET_V2 = 'example.com/greet/v2';
const SHOUT = 'example.com/tools/shout';

type Files = Record<string, string>;
const greet = (version: string): Files => ({
  'go.mod': `module ${GREET}\n\ngo 1.19\n`,
  'greet.go': `package greet\n\n// Hello names the version it came from.\nfunc Hello() string { return "hello from greet ${version}" }\n`,
});
const MODULES: [string, string, Files][] = [
  [GREET, 'v1.0.0', greet('v1.0.0')],
  [GREET, 'v1.1.0', greet('v1.1.0')],
  [GREET, 'v1.2.0-rc.1', greet('v1.2.0-rc.1')],
  [
    GREET_V2,
    'v2.0.0',
    {
      'go.mod': `module ${GREET_V2}\n\ngo 1.19\n`,
      'greet.go': 'package greet\n\nfunc Hello(name string) string { return "greet/v2 says hi to " + name }\n',
    },
  ],
  [
    SHOUT,
    'v0.1.0',
    {
      'go.mod': `module ${SHOUT}\n\ngo 1.19\n\nrequire ${GREET} v1.0.0\n`,
      'shout.go': `package shout\n\nimport (\n\t"strings"\n\n\t"${GREET}"\n)\n\nfunc Shout() string { return strings.ToUpper(greet.Hello()) + "!" }\n`,
      LICENSE: 'MIT\n',
    },
  ],
];

const APP_MAIN = `package main

import (
	"fmt"

	"${GREET_V2}"
	"${SHOUT}"
)

func main() {
	fmt.Println(shout.Shout())
	fmt.Println(greet.Hello("stowage"))
}
`;

describe('go command against Stowage (postgres)', () => {
  let s: TestServer;
  let tls: TlsServer;
  const sockets = new Set<Socket>();
  let tmp: string;
  let httpsBase: string;
  let user: TestUser;
  let project: TestProject;
  let empty: TestProject;
  let gopaths = 0;

  const proxyUrl = (p: TestProject) => `${httpsBase}/api/v4/projects/${p.id}/packages/go`;

  /** Runs go in a fresh GOPATH/GOMODCACHE (unless one is given) with only Stowage as proxy. */
  async function go(args: string[], opts: { cwd?: string; gopath?: string; proxy?: string; netrc?: string } = {}) {
    const gopath = opts.gopath ?? join(tmp, `gopath-${++gopaths}`);
    const env = {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      HOME: join(tmp, 'home'),
      GOPATH: gopath,
      GOMODCACHE: join(gopath, 'pkg', 'mod'),
      GOCACHE: join(tmp, 'gocache'),
      GOENV: 'off',
      GOFLAGS: '-mod=mod',
      GO111MODULE: 'on',
      CGO_ENABLED: '0',
      GOPROXY: opts.proxy ?? proxyUrl(project),
      GONOSUMDB: 'example.com',
      GOPRIVATE: '',
      GONOPROXY: '',
      NETRC: opts.netrc ?? join(tmp, 'netrc'),
      SSL_CERT_FILE: join(tmp, 'cert.pem'),
    };
    try {
      return await run('go', args, { cwd: opts.cwd ?? tmp, env, timeout: 60_000 });
    } catch (err) {
      const e = err as Error & { stdout?: string; stderr?: string };
      throw new Error(`go ${args.join(' ')} failed: ${e.message}\n${e.stdout ?? ''}${e.stderr ?? ''}`);
    }
  }

  async function writeTree(root: string, files: Files) {
    for (const [name, data] of Object.entries(files)) {
      await mkdir(dirname(join(root, name)), { recursive: true });
      await writeFile(join(root, name), data);
    }
  }

  /** The module zip made with Info-ZIP from a `module@version/` tree (-D: no directory entries). */
  async function zipModule(module: string, version: string, files: Files): Promise<string> {
    const dir = await mkdtemp(join(tmp, 'zip-'));
    await writeTree(join(dir, `${module}@${version}`), files);
    await run('zip', ['-q', '-r', '-D', 'module.zip', `${module}@${version}`], { cwd: dir });
    return join(dir, 'module.zip');
  }

  /** Publishes as the README says: curl -T the zip to <module>/@v/<version>.zip. */
  async function publish(module: string, version: string, zipPath: string): Promise<{ status: number; body: string }> {
    const { stdout } = await run('curl', [
      '-sS',
      '--cacert',
      join(tmp, 'cert.pem'),
      '-H',
      `PRIVATE-TOKEN: ${user.token}`,
      '-T',
      zipPath,
      '-w',
      '\n%{http_code}',
      `${proxyUrl(project)}/${module}/@v/${version}.zip`,
    ]);
    const at = stdout.lastIndexOf('\n');
    return { status: Number(stdout.slice(at + 1)), body: stdout.slice(0, at) };
  }

  beforeAll(async () => {
    tmp = await mkdtemp(join(tmpdir(), 'stowage-go-e2e-'));
    await mkdir(join(tmp, 'home'));
    const [server] = await Promise.all([
      // With object storage (STOWAGE_TEST_OBJECT_STORE), downloads are proxied: go refuses a redirect
      // from this https front to the test's plain-http s3rver ("redirected from secure URL to
      // insecure URL"), as it would from any https proxy to an http bucket.
      startTestServer({
        formats: [goFormat],
        mode: 'postgres',
        listen: true,
        config: objectStoreMode() ? { packages: { object_store: { proxy_download: true } } } : {},
      }),
      run('openssl', [
        'req',
        '-x509',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:prime256v1',
        '-nodes',
        '-days',
        '1',
        '-subj',
        '/CN=127.0.0.1',
        '-addext',
        'subjectAltName=IP:127.0.0.1',
        '-keyout',
        join(tmp, 'key.pem'),
        '-out',
        join(tmp, 'cert.pem'),
      ]),
    ]);
    s = server;
    const port = Number(new URL(s.url).port);
    tls = createTlsServer({ key: await readFile(join(tmp, 'key.pem')), cert: await readFile(join(tmp, 'cert.pem')) }, (client) => {
      const upstream = connect(port, '127.0.0.1');
      for (const sock of [client, upstream]) {
        sockets.add(sock);
        sock.on('close', () => sockets.delete(sock)).on('error', () => undefined);
      }
      client.pipe(upstream).pipe(client);
      client.on('close', () => upstream.destroy());
      upstream.on('close', () => client.destroy());
    });
    await new Promise<void>((resolve) => tls.listen(0, '127.0.0.1', resolve));
    httpsBase = `https://127.0.0.1:${(tls.address() as { port: number }).port}`;

    user = await s.api.createUser('gopher');
    project = await s.api.createProject('golibs');
    empty = await s.api.createProject('nothing-here');
    for (const p of [project, empty]) await s.api.addMember({ project: p.id }, user.id, 40);
    await writeFile(join(tmp, 'netrc'), `machine 127.0.0.1 login gopher password ${user.token}\n`, { mode: 0o600 });
    await writeFile(join(tmp, 'empty-netrc'), '', { mode: 0o600 });

    for (const [module, version, files] of MODULES) {
      const res = await publish(module, version, await zipModule(module, version, files));
      expect([module, version, res.status]).toEqual([module, version, 201]);
    }
  });

  afterAll(async () => {
    for (const sock of sockets) sock.destroy();
    await new Promise((resolve) => tls?.close(resolve));
    await s?.close();
    if (tmp) await rm(tmp, { recursive: true, force: true });
  });

  it('builds and runs a program that uses two published modules, then upgrades one to @latest', async () => {
    const app = join(tmp, 'app');
    await writeTree(app, { 'go.mod': 'module example.com/app\n\ngo 1.19\n', 'main.go': APP_MAIN });
    const gopath = join(tmp, 'gopath-app');
    await go(['get', `${SHOUT}@v0.1.0`, `${GREET_V2}@latest`], { cwd: app, gopath });
    await go(['build', '-o', 'app', '.'], { cwd: app, gopath });
    const first = await run(join(app, 'app'));
    expect(first.stdout).toBe('HELLO FROM GREET V1.0.0!\ngreet/v2 says hi to stowage\n');

    // @latest is the highest release, not the newer release candidate.
    await go(['get', `${GREET}@latest`], { cwd: app, gopath });
    expect(await readFile(join(app, 'go.mod'), 'utf8')).toMatch(new RegExp(`${GREET} v1\\.1\\.0\\b`));
    await go(['build', '-o', 'app', '.'], { cwd: app, gopath });
    expect((await run(join(app, 'app'))).stdout).toBe('HELLO FROM GREET V1.1.0!\ngreet/v2 says hi to stowage\n');

    // go.sum holds the hashes of exactly the bytes that were uploaded.
    const sum = await readFile(join(app, 'go.sum'), 'utf8');
    expect(sum).toContain(`${GREET} v1.1.0 ${h1(GREET, 'v1.1.0', greet('v1.1.0'))}\n`);
    expect(sum).toContain(`${GREET} v1.1.0/go.mod ${h1GoMod(greet('v1.1.0')['go.mod'])}\n`);

    const list = await go(['list', '-m', '-versions', GREET], { cwd: app, gopath });
    expect(list.stdout.trim()).toBe(`${GREET} v1.0.0 v1.1.0 v1.2.0-rc.1`);
    const v2 = await go(['list', '-m', '-versions', GREET_V2], { cwd: app, gopath });
    expect(v2.stdout.trim()).toBe(`${GREET_V2} v2.0.0`);
  });

  it('go mod download -json gives the same checksums from two clean caches', async () => {
    const download = async () => JSON.parse((await go(['mod', 'download', '-json', `${SHOUT}@v0.1.0`])).stdout) as Record<string, string>;
    const [a, b] = [await download(), await download()];
    expect(a.Error).toBeUndefined();
    expect(a.Sum).toBe(h1(SHOUT, 'v0.1.0', MODULES[4][2]));
    expect(a.GoModSum).toBe(h1GoMod(MODULES[4][2]['go.mod']));
    expect([b.Version, b.Sum, b.GoModSum]).toEqual([a.Version, a.Sum, a.GoModSum]);
    expect(a.Zip).not.toBe(b.Zip);
    expect((await readFile(a.Zip)).equals(await readFile(b.Zip))).toBe(true);
  });

  it('falls through a proxy that answers 404 to the next one (GOPROXY=a,b)', async () => {
    const out = await go(['mod', 'download', '-json', `${GREET}@v1.0.0`], { proxy: `${proxyUrl(empty)},${proxyUrl(project)}` });
    expect(JSON.parse(out.stdout).Sum).toBe(h1(GREET, 'v1.0.0', greet('v1.0.0')));
  });

  it('without credentials the private project answers 401, and go says so', async () => {
    await expect(go(['mod', 'download', '-json', `${GREET}@v1.0.0`], { netrc: join(tmp, 'empty-netrc') })).rejects.toThrow(
      /401 Unauthorized/,
    );
  });

  it('refuses to overwrite a published version', async () => {
    const res = await publish(GREET, 'v1.0.0', await zipModule(GREET, 'v1.0.0', greet('v1.0.0-changed')));
    expect([res.status, res.body]).toEqual([409, `${GREET}@v1.0.0 already exists: published module versions are immutable\n`]);
  });
});
