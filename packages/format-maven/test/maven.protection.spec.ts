import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

import { startTestServer, storedBlobKeys, type TestServer } from '@stowage/testkit';

import { mavenFormat } from '../src';

// Package protection rules as `mvn deploy` meets them (offline, plugins from Debian's
// /usr/share/maven-repo as in maven.e2e.spec.ts; POM-only projects, so no compiler runs):
// a Developer's deploy of a protected artifact fails with the 403 and GitLab's words in mvn's
// output and stores nothing; a Maintainer's succeeds, and so does the Developer's other artifact.

const run = promisify(execFile);
const JVM_ENV = { ...process.env, MAVEN_OPTS: '-XX:TieredStopAtLevel=1 -XX:+UseSerialGC', JAVA_TOOL_OPTIONS: undefined };
const PLUGINS = `<build><plugins>
  <plugin><groupId>org.apache.maven.plugins</groupId><artifactId>maven-install-plugin</artifactId><version>3.1.0</version></plugin>
  <plugin><groupId>org.apache.maven.plugins</groupId><artifactId>maven-deploy-plugin</artifactId><version>3.0.0</version></plugin>
</plugins></build>`;

function pom(artifactId: string, repoUrl: string) {
  return `<project xmlns="http://maven.apache.org/POM/4.0.0"><modelVersion>4.0.0</modelVersion>
<groupId>acme.libs</groupId><artifactId>${artifactId}</artifactId><version>1.0</version><packaging>pom</packaging>
<distributionManagement><repository><id>stowage</id><url>${repoUrl}</url></repository></distributionManagement>${PLUGINS}</project>`;
}

function settings(token: string) {
  return `<settings><servers>
  <server><id>stowage</id><configuration><httpHeaders><property><name>Private-Token</name><value>${token}</value></property></httpHeaders></configuration></server>
</servers>
<mirrors><mirror><id>debian</id><mirrorOf>*,!stowage</mirrorOf><url>file:///usr/share/maven-repo</url></mirror></mirrors></settings>`;
}

describe('mvn deploy against protected packages', () => {
  let s: TestServer;
  let work: string;
  let projectId: number;
  const tokens: Record<'developer' | 'maintainer', string> = {} as never;

  beforeAll(async () => {
    s = await startTestServer({ formats: [mavenFormat], mode: 'postgres', listen: true });
    projectId = (await s.api.createProject('libs')).id;
    work = await mkdtemp(join(tmpdir(), 'stowage-mvn-protection-'));
    for (const [role, level] of [
      ['developer', 30],
      ['maintainer', 40],
    ] as const) {
      const user = await s.api.createUser(role);
      await s.api.addMember({ project: projectId }, user.id, level);
      tokens[role] = user.token;
      await writeFile(join(work, `settings-${role}.xml`), settings(user.token));
    }
    await s.api.root('POST', `/api/v4/projects/${projectId}/packages/protection/rules`, {
      package_name_pattern: 'acme/libs/release-*',
      package_type: 'maven',
      minimum_access_level_for_push: 'maintainer',
    });
  });
  afterAll(async () => {
    await s?.close();
    if (work) await rm(work, { recursive: true, force: true });
  });

  async function deploy(as: 'developer' | 'maintainer', artifactId: string): Promise<{ ok: boolean; output: string }> {
    const dir = join(work, `${as}-${artifactId}`);
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, 'pom.xml'), pom(artifactId, `${s.url}/api/v4/projects/${projectId}/packages/maven`));
    const args = ['-B', '-q', '-s', join(work, `settings-${as}.xml`), `-Dmaven.repo.local=${join(work, `m2-${as}`)}`, 'deploy'];
    try {
      const out = await run('mvn', args, { cwd: dir, timeout: 80_000, env: JVM_ENV });
      return { ok: true, output: out.stdout + out.stderr };
    } catch (err) {
      const e = err as { stdout?: string; stderr?: string };
      return { ok: false, output: `${e.stdout}\n${e.stderr}` };
    }
  }

  const names = async () =>
    (await s.api.root<{ name: string }[]>('GET', `/api/v4/projects/${projectId}/packages`)).map((p) => p.name).sort();

  it('a Developer’s deploy of a protected artifact fails in mvn with 403 Package protected. and stores nothing', async () => {
    const blobs = (await storedBlobKeys(s)).length;
    const refused = await deploy('developer', 'release-core');
    expect(refused.ok).toBe(false);
    // mvn shows only the status line: the reason phrase carries GitLab's words.
    expect(refused.output).toMatch(
      /\[ERROR\] Failed to execute goal .*release-core-1\.0\.pom, status: 403 Forbidden - Package protected\./,
    );
    expect(await names()).toEqual([]);
    expect((await storedBlobKeys(s)).length).toBe(blobs);
  });

  it('the writes that skip the duplicate check (SNAPSHOTs, maven-metadata.xml) are refused too, before the body', async () => {
    const token = tokens.developer;
    const base = `/api/v4/projects/${projectId}/packages/maven/acme/libs/release-core`;
    for (const path of ['1.1-SNAPSHOT/release-core-1.1-20250101.000000-1.pom', '1.1-SNAPSHOT/maven-metadata.xml', 'maven-metadata.xml']) {
      const res = await s.api.inject({ method: 'PUT', url: `${base}/${path}`, token, payload: '<project/>' });
      expect({ path, status: res.status, body: res.json() }).toEqual({
        path,
        status: 403,
        body: { message: '403 Forbidden - Package protected.' },
      });
    }
    expect(await names()).toEqual([]);
  });

  it('the Developer deploys an artifact no rule matches; a Maintainer deploys the protected one', async () => {
    const free = await deploy('developer', 'tools');
    expect(free.output).not.toContain('[ERROR]');
    expect(free.ok).toBe(true);
    const maintained = await deploy('maintainer', 'release-core');
    expect(maintained.output).not.toContain('[ERROR]');
    expect(maintained.ok).toBe(true);
    expect(await names()).toEqual(['acme/libs/release-core', 'acme/libs/tools']);
  });
});
