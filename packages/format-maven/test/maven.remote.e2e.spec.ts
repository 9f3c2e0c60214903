import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import {
  buildZip,
  type FaultProxy,
  MAVEN_SAMPLE_DEPENDENCY,
  type MavenCoordinate,
  mavenProject,
  mavenUpstreamTree,
  runMvn,
  startFaultProxy,
  startStaticHttp,
  startTestServer,
  type StaticHttp,
  type TestServer,
  type TestUser,
} from '@stowage/testkit';

import { mavenFormat } from '../src';

// The real mvn (3.8.7, Debian) with Stowage as its only repository (a mirror of `*`), in front
// of a real upstream: Python's file server over testkit's copy of Debian's Maven repository,
// behind FaultProxy. Every plugin and library a `mvn package` needs comes through Stowage from
// an empty local repository; one dependency is published to Stowage itself. One cold build, then
// the same build with the upstream stopped. HTTP-level cases and faults: maven.remote.spec.ts.

const LOCAL_DEPENDENCY: MavenCoordinate = { groupId: 'acme.libs', artifactId: 'greeter', version: '1.0' };
/** In the upstream, and needed by no plugin of the build: never cached by it. */
const UNCACHED_DEPENDENCY: MavenCoordinate = { groupId: 'commons-cli', artifactId: 'commons-cli', version: '1.5.0' };

interface Seen {
  url: string;
  status: number;
}

describe('mvn with Stowage as its only repository, in front of an upstream (postgres)', () => {
  let upstream: StaticHttp;
  let proxy: FaultProxy;
  let s: TestServer;
  let dev: TestUser;
  let work: string;
  let mirrorUrl: string;
  const seen: Seen[] = [];

  const project = (name: string, dependencies: MavenCoordinate[]) =>
    mavenProject(join(work, name), {
      mirrorUrl,
      mirrorAuth: { username: dev.username, password: dev.token },
      dependencies,
    });

  beforeAll(async () => {
    upstream = await startStaticHttp(await mavenUpstreamTree());
    proxy = await startFaultProxy(upstream.url);
    s = await startTestServer({
      formats: [mavenFormat],
      mode: 'postgres',
      listen: true,
      config: { formats: { maven: { package_requests_forwarding: true, upstream: { url: `${proxy.url}/` } } } },
    });
    (s.app.getHttpServer() as Server).on('request', (req: IncomingMessage, res: ServerResponse) => {
      res.on('finish', () => seen.push({ url: req.url!, status: res.statusCode }));
    });
    dev = await s.api.createUser('dev');
    const group = await s.api.createGroup('acme');
    const libs = await s.api.createProject('libs', { namespaceId: group.id });
    await s.api.addMember({ group: group.id }, dev.id, 30);
    mirrorUrl = `${s.url}/api/v4/groups/${group.id}/-/packages/maven`;
    work = await mkdtemp(join(tmpdir(), 'stowage-mvn-remote-'));

    // The dependency published to Stowage: a jar and its pom, in the group's project.
    const { groupId, artifactId, version } = LOCAL_DEPENDENCY;
    const dir = `/api/v4/projects/${libs.id}/packages/maven/${groupId.replace(/\./g, '/')}/${artifactId}/${version}`;
    const pom = `<project xmlns="http://maven.apache.org/POM/4.0.0"><modelVersion>4.0.0</modelVersion><groupId>${groupId}</groupId><artifactId>${artifactId}</artifactId><version>${version}</version></project>\n`;
    const jar = buildZip({ 'META-INF/MANIFEST.MF': 'Manifest-Version: 1.0\n', 'acme/libs/greeting.txt': 'hello' });
    for (const [file, body] of [
      [`${artifactId}-${version}.pom`, pom],
      [`${artifactId}-${version}.jar`, jar],
    ] as const) {
      const res = await s.api.inject({ method: 'PUT', url: `${dir}/${file}`, payload: body, token: dev.token });
      expect(res.status).toBe(200);
    }
  });
  afterAll(async () => {
    await s?.close();
    await proxy?.close();
    await upstream?.stop();
    if (work) await rm(work, { recursive: true, force: true });
  });

  it('builds from an empty local repository with every plugin fetched through Stowage, the local dependency never asked upstream', async () => {
    const app = await project('cold', [MAVEN_SAMPLE_DEPENDENCY, LOCAL_DEPENDENCY]);
    const localRepo = join(work, 'm2-cold');
    const { ms } = await runMvn(app, ['package'], { localRepo });
    expect((await readFile(app.jarPath)).length).toBeGreaterThan(0);

    const fetched = proxy.requests.filter((r) => r.status === 200 && !r.path.endsWith('.sha1'));
    const remote = await s.api.inject({ url: '/api/v4/packages/remote_files?package_type=maven&per_page=1', token: s.rootToken });
    console.log(
      `cold mvn package via Stowage: ${ms} ms, ${seen.length} requests to Stowage, ${proxy.requests.length} upstream (${fetched.length} files), ${remote.headers['x-total']} cached`,
    );
    expect(Number(remote.headers['x-total'])).toBe(fetched.length);
    // The plugins and the upstream dependency came through Stowage, and are in the local repository as mvn verified them (-C).
    expect(proxy.count('/org/apache/maven/plugins/maven-compiler-plugin/3.10.1/maven-compiler-plugin-3.10.1.jar')).toBe(1);
    expect(await readdir(join(localRepo, 'org/apache/commons/commons-lang3/3.12.0'))).toContain('commons-lang3-3.12.0.jar');
    expect(await readdir(join(localRepo, 'acme/libs/greeter/1.0'))).toContain('greeter-1.0.jar');
    expect(proxy.count(/acme/)).toBe(0);
    expect(seen.filter((r) => r.status >= 500)).toEqual([]);
  });

  it('builds the same project again with the upstream stopped, from a fresh local repository, from Stowage alone', async () => {
    await upstream.stop();
    proxy.clearLog();
    const mark = seen.length;
    const app = await project('offline', [MAVEN_SAMPLE_DEPENDENCY, LOCAL_DEPENDENCY]);
    const { ms } = await runMvn(app, ['package'], { localRepo: join(work, 'm2-offline') });
    expect((await readFile(app.jarPath)).length).toBeGreaterThan(0);
    console.log(`mvn package with the upstream stopped: ${ms} ms, ${seen.length - mark} requests to Stowage`);
    // Every file was cached and every absence (Maven's probes) is remembered for metadata_ttl: nothing was asked upstream.
    expect(proxy.requests).toEqual([]);
    expect(seen.slice(mark).filter((r) => r.status >= 500)).toEqual([]);
  });

  it('fails a build that needs a file Stowage never cached with a readable error while the upstream is down: 502, never 500', async () => {
    const { groupId, artifactId } = UNCACHED_DEPENDENCY;
    const cached = await s.api.root<unknown[]>(
      'GET',
      `/api/v4/packages/remote_files?package_type=maven&package_name=${groupId}/${artifactId}`,
    );
    expect(cached).toEqual([]);
    const mark = seen.length;
    const app = await project('uncached', [UNCACHED_DEPENDENCY]);
    // The local repository of the last build: only the new dependency is asked for.
    const failure = await runMvn(app, ['package'], { localRepo: join(work, 'm2-offline') }).then(
      () => 'succeeded',
      (err: Error) => err.message,
    );
    expect(failure).toMatch(/Could not (resolve|transfer).*commons-cli:commons-cli:(jar|pom):1\.5\.0/);
    expect(failure).toMatch(/502/);
    const statuses = seen.slice(mark).filter((r) => r.url.includes('commons-cli'));
    expect(statuses.some((r) => r.status === 502)).toBe(true);
    expect(statuses.filter((r) => r.status >= 500 && r.status !== 502)).toEqual([]);
  });
});
