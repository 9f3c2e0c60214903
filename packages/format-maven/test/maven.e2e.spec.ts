import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

import {
  downloadedBytes as payload,
  objectStoreMode,
  startTestServer,
  type TestProject,
  type TestServer,
  type TestUser,
} from '@stowage/testkit';

import { mavenFormat } from '../src';

// The real mvn (3.8.7, Debian) against a running server, fully offline: every plugin comes
// from Debian's /usr/share/maven-repo through a mirror that excludes our repositories.
// One mode only: maven.api.spec.ts covers both modes at the HTTP level.

const run = promisify(execFile);
// Short-lived JVMs: C1 only and the serial GC start mvn markedly faster on a small machine.
const JVM_ENV = { ...process.env, MAVEN_OPTS: '-XX:TieredStopAtLevel=1 -XX:+UseSerialGC', JAVA_TOOL_OPTIONS: undefined };
const sha1 = (b: Buffer) => createHash('sha1').update(b).digest('hex');
const PLUGINS = `<build><plugins>
  <plugin><groupId>org.apache.maven.plugins</groupId><artifactId>maven-compiler-plugin</artifactId><version>3.10.1</version></plugin>
  <plugin><groupId>org.apache.maven.plugins</groupId><artifactId>maven-resources-plugin</artifactId><version>3.3.0</version></plugin>
  <plugin><groupId>org.apache.maven.plugins</groupId><artifactId>maven-jar-plugin</artifactId><version>3.3.0</version></plugin>
  <plugin><groupId>org.apache.maven.plugins</groupId><artifactId>maven-surefire-plugin</artifactId><version>2.22.3</version></plugin>
  <plugin><groupId>org.apache.maven.plugins</groupId><artifactId>maven-install-plugin</artifactId><version>3.1.0</version></plugin>
  <plugin><groupId>org.apache.maven.plugins</groupId><artifactId>maven-deploy-plugin</artifactId><version>3.0.0</version></plugin>
  <plugin><groupId>org.apache.maven.plugins</groupId><artifactId>maven-dependency-plugin</artifactId><version>3.5.0</version></plugin>
</plugins></build>`;
const PROPS = `<properties><maven.compiler.release>17</maven.compiler.release><project.build.sourceEncoding>UTF-8</project.build.sourceEncoding></properties>`;

function libPom(artifactId: string, version: string, repoUrl: string) {
  return `<project xmlns="http://maven.apache.org/POM/4.0.0"><modelVersion>4.0.0</modelVersion>
<groupId>acme.libs</groupId><artifactId>${artifactId}</artifactId><version>${version}</version>${PROPS}
<distributionManagement>
  <repository><id>stowage</id><url>${repoUrl}</url></repository>
  <snapshotRepository><id>stowage</id><url>${repoUrl}</url></snapshotRepository>
</distributionManagement>${PLUGINS}</project>`;
}

const consumerPom = `<project xmlns="http://maven.apache.org/POM/4.0.0"><modelVersion>4.0.0</modelVersion>
<groupId>acme.app</groupId><artifactId>app</artifactId><version>1.0</version>${PROPS}
<repositories><repository><id>stowage-read</id><url>\${repo.url}</url>
  <releases><enabled>true</enabled></releases><snapshots><enabled>true</enabled><updatePolicy>always</updatePolicy></snapshots></repository></repositories>
<dependencies>
  <dependency><groupId>acme.libs</groupId><artifactId>greeter</artifactId><version>1.0</version></dependency>
  <dependency><groupId>acme.libs</groupId><artifactId>shout</artifactId><version>1.1-SNAPSHOT</version></dependency>
</dependencies>${PLUGINS}</project>`;

/** settings.xml as GitLab documents it: Private-Token for deploys; `read` as user + token, which mvn sends only after a Basic challenge. */
function settings(token: string, reader: { username: string; token: string }) {
  return `<settings><servers>
  <server><id>stowage</id><configuration><httpHeaders><property><name>Private-Token</name><value>${token}</value></property></httpHeaders></configuration></server>
  <server><id>stowage-read</id><username>${reader.username}</username><password>${reader.token}</password></server>
</servers>
<mirrors><mirror><id>debian</id><mirrorOf>*,!stowage,!stowage-read</mirrorOf><url>file:///usr/share/maven-repo</url></mirror></mirrors></settings>`;
}

interface Seen {
  method: string;
  url: string;
  status: number;
  ms: number;
  expect?: string;
  auth: string;
}

describe('mvn against Stowage (postgres)', () => {
  let s: TestServer;
  let dev: TestUser;
  let reader: TestUser;
  let project: TestProject;
  let work: string;
  const seen: Seen[] = [];

  const mvn = async (cwd: string, localRepo: string, args: string[]) => {
    const started = Date.now();
    try {
      const out = await run('mvn', ['-B', '-q', '-s', join(work, 'settings.xml'), `-Dmaven.repo.local=${localRepo}`, ...args], {
        cwd,
        timeout: 80_000,
        env: JVM_ENV,
      });
      return { ...out, ms: Date.now() - started };
    } catch (err) {
      const e = err as { stdout?: string; stderr?: string };
      throw new Error(`mvn ${args.join(' ')} failed:\n${e.stdout}\n${e.stderr}`);
    }
  };

  async function writeLib(dir: string, artifactId: string, version: string, cls: string, body: string) {
    await mkdir(join(dir, 'src/main/java/acme/libs'), { recursive: true });
    await writeFile(join(dir, 'pom.xml'), libPom(artifactId, version, `${s.url}/api/v4/projects/${project.id}/packages/maven`));
    await writeFile(
      join(dir, `src/main/java/acme/libs/${cls}.java`),
      `package acme.libs;\npublic class ${cls} { public static String run(String s) { ${body} } }\n`,
    );
  }

  beforeAll(async () => {
    s = await startTestServer({ formats: [mavenFormat], mode: 'postgres', listen: true });
    (s.app.getHttpServer() as Server).on('request', (req: IncomingMessage, res: ServerResponse) => {
      const t = Date.now();
      res.on('finish', () =>
        seen.push({
          method: req.method!,
          url: req.url!,
          status: res.statusCode,
          ms: Date.now() - t,
          expect: req.headers.expect,
          auth: req.headers['private-token'] ? 'token' : req.headers.authorization ? 'basic' : 'none',
        }),
      );
    });
    dev = await s.api.createUser('dev');
    reader = await s.api.createUser('reader');
    const group = await s.api.createGroup('acme');
    project = await s.api.createProject('libs', { namespaceId: group.id });
    await s.api.addMember({ group: group.id }, dev.id, 30);
    await s.api.addMember({ group: group.id }, reader.id, 20);
    work = await mkdtemp(join(tmpdir(), 'stowage-mvn-'));
    await writeFile(join(work, 'settings.xml'), settings(dev.token, reader));
  });
  afterAll(async () => {
    await s?.close();
    if (work) await rm(work, { recursive: true, force: true });
  });

  const deployRepo = () => join(work, 'm2-deploy');
  const base = () => `/api/v4/projects/${project.id}/packages/maven`;

  it('deploys a release with checksums and metadata, answering Expect: 100-continue at once', async () => {
    const dir = join(work, 'greeter');
    await writeLib(dir, 'greeter', '1.0', 'Greeter', 'return "Hello, " + s + "!";');
    const { ms } = await mvn(dir, deployRepo(), ['deploy', '-Dmaven.test.skip=true']);
    const puts = seen.filter((r) => r.method === 'PUT');
    console.log(`mvn deploy (release): ${ms} ms wall, ${puts.length} PUTs, slowest PUT ${Math.max(...puts.map((p) => p.ms))} ms`);
    expect(puts.map((p) => `${p.url.slice(base().length + 1)} ${p.status}`).sort()).toEqual(
      [
        'acme/libs/greeter/1.0/greeter-1.0.jar 200',
        'acme/libs/greeter/1.0/greeter-1.0.jar.md5 200',
        'acme/libs/greeter/1.0/greeter-1.0.jar.sha1 204',
        'acme/libs/greeter/1.0/greeter-1.0.pom 200',
        'acme/libs/greeter/1.0/greeter-1.0.pom.md5 200',
        'acme/libs/greeter/1.0/greeter-1.0.pom.sha1 204',
        'acme/libs/greeter/maven-metadata.xml 200',
        'acme/libs/greeter/maven-metadata.xml.md5 200',
        'acme/libs/greeter/maven-metadata.xml.sha1 204',
      ].sort(),
    );
    expect(puts.every((p) => p.expect === '100-continue' && p.auth === 'token')).toBe(true);
    // Without a prompt 100 Continue each PUT would stall ~3 s in the client.
    expect(Math.max(...puts.map((p) => p.ms))).toBeLessThan(2000);

    const built = await readFile(join(dir, 'target/greeter-1.0.jar'));
    const served = await s.api.inject({ url: `${base()}/acme/libs/greeter/1.0/greeter-1.0.jar`, token: dev.token });
    expect((await payload(served)).equals(built)).toBe(true);
    expect(served.headers['x-checksum-sha1']).toBe(sha1(built));
  });

  it('deploys a SNAPSHOT twice as unique timestamped builds', async () => {
    const dir = join(work, 'shout');
    await writeLib(dir, 'shout', '1.1-SNAPSHOT', 'Shout', 'return s.toUpperCase();');
    await mvn(dir, deployRepo(), ['deploy', '-Dmaven.test.skip=true']);
    await writeLib(dir, 'shout', '1.1-SNAPSHOT', 'Shout', 'return s.toUpperCase() + "!!";');
    await mvn(dir, deployRepo(), ['deploy', '-Dmaven.test.skip=true']);

    const meta = await s.api.inject({ url: `${base()}/acme/libs/shout/1.1-SNAPSHOT/maven-metadata.xml`, token: dev.token });
    expect(meta.status).toBe(200);
    expect(meta.body).toMatch(/<buildNumber>2<\/buildNumber>/);
    const value = /<extension>jar<\/extension>\s*<value>([^<]+)<\/value>/.exec(meta.body)![1];
    expect(value).toMatch(/^1\.1-\d{8}\.\d{6}-2$/);
    const jarPuts = seen
      .filter((r) => r.method === 'PUT' && /shout-1\.1-[\d.]+-\d+\.jar$/.test(r.url))
      .map((r) => r.url.replace(/.*\//, ''));
    expect(jarPuts).toHaveLength(2);
    expect(new Set(jarPuts).size).toBe(2);
    const latest = await s.api.inject({ url: `${base()}/acme/libs/shout/1.1-SNAPSHOT/shout-${value}.jar`, token: dev.token });
    expect((await payload(latest)).equals(await readFile(join(dir, 'target/shout-1.1-SNAPSHOT.jar')))).toBe(true);
  });

  /**
   * Resolves the consumer's dependencies from `endpoint` into an empty local repository and
   * runs its Main against them. `build` also compiles and packages it (the first time);
   * later runs reuse those classes and only resolve, to keep mvn runs short.
   */
  async function consumer(endpoint: string, label: string, build: boolean) {
    const dir = join(work, `app-${label}`);
    await mkdir(join(dir, 'src/main/java/acme/app'), { recursive: true });
    await writeFile(join(dir, 'pom.xml'), consumerPom);
    await writeFile(
      join(dir, 'src/main/java/acme/app/Main.java'),
      'package acme.app;\npublic class Main { public static void main(String[] a) { System.out.println(acme.libs.Greeter.run(acme.libs.Shout.run("maven"))); } }\n',
    );
    const localRepo = join(work, `m2-${label}`);
    const mark = seen.length;
    const goals = build ? ['package', 'dependency:build-classpath', '-Dmaven.test.skip=true'] : ['dependency:build-classpath'];
    const { ms } = await mvn(dir, localRepo, [...goals, '-Dmdep.outputFile=cp.txt', `-Drepo.url=${s.url}${endpoint}`]);
    const cp = (await readFile(join(dir, 'cp.txt'), 'utf8')).trim();
    const { stdout } = await run('java', ['-cp', `${join(work, 'app-project/target/classes')}:${cp}`, 'acme.app.Main']);
    const requests = seen.slice(mark);
    console.log(`mvn ${goals[0]} via ${label}: ${ms} ms wall, ${requests.length} requests`);
    const resolved = await readdir(join(localRepo, 'acme/libs/shout/1.1-SNAPSHOT'));
    return { stdout: stdout.trim(), requests, resolved, cp };
  }

  it('builds a consumer from the project endpoint with an empty local repository and runs it', async () => {
    const { stdout, requests, resolved } = await consumer(`/api/v4/projects/${project.id}/packages/maven`, 'project', true);
    expect(stdout).toBe('Hello, MAVEN!!!');
    expect(resolved.some((f) => /^shout-1\.1-\d{8}\.\d{6}-2\.jar$/.test(f))).toBe(true);
    // mvn downloads anonymously first, gets the Basic challenge, then retries with the token as password.
    const first = requests.find((r) => r.url.endsWith('greeter-1.0.pom'))!;
    expect([first.status, first.auth]).toEqual([401, 'none']);
    // With object storage (STOWAGE_TEST_OBJECT_STORE) the jar is a redirect that mvn follows to the bucket.
    const served = objectStoreMode() ? 302 : 200;
    expect(requests.some((r) => r.url.endsWith('greeter-1.0.jar') && r.status === served && r.auth === 'basic')).toBe(true);
  });

  it('resolves the same consumer from the group and instance endpoints and runs it', async () => {
    const [group, instance] = await Promise.all([
      consumer(`/api/v4/groups/acme/-/packages/maven`, 'group', false),
      consumer('/api/v4/packages/maven', 'instance', false),
    ]);
    expect(group.stdout).toBe('Hello, MAVEN!!!');
    expect(instance.stdout).toBe('Hello, MAVEN!!!');
    expect(group.cp).toContain(join(work, 'm2-group'));
    expect(instance.cp).toContain(join(work, 'm2-instance'));
    expect(instance.resolved.some((f) => /^shout-1\.1-\d{8}\.\d{6}-2\.jar$/.test(f))).toBe(true);
  });

  it('fetches a single artifact with mvn dependency:get', async () => {
    const localRepo = join(work, 'm2-get');
    await mvn(work, localRepo, [
      'org.apache.maven.plugins:maven-dependency-plugin:3.5.0:get',
      '-Dartifact=acme.libs:greeter:1.0',
      '-Dtransitive=false',
      `-DremoteRepositories=stowage-read::default::${s.url}/api/v4/projects/${project.id}/packages/maven`,
    ]);
    const got = await readFile(join(localRepo, 'acme/libs/greeter/1.0/greeter-1.0.jar'));
    expect(got.equals(await readFile(join(work, 'greeter/target/greeter-1.0.jar')))).toBe(true);
  });
});
