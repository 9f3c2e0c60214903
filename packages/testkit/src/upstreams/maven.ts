import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, readdir, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { promisify } from 'node:util';

import { cachedTree, cacheKey } from './cache';

const run = promisify(execFile);

/** Debian's Maven repository: real jars and poms, from the packages scripts/install-clients.sh installs. */
export const DEBIAN_MAVEN_REPO = '/usr/share/maven-repo';
const TREE_FORMAT = 1;

async function sha1Of(file: string): Promise<string> {
  const hash = createHash('sha1');
  await pipeline(createReadStream(file), hash);
  return hash.digest('hex');
}

/** What the cached copy depends on: every path in the source with its (followed) size and time. */
async function sourceFingerprint(src: string): Promise<string> {
  const entries = (await readdir(src, { recursive: true })).sort();
  const parts = await Promise.all(
    entries.map(async (e) => {
      const s = await stat(join(src, e)).catch(() => undefined);
      return s ? `${e}:${s.isDirectory() ? 'd' : s.size}:${Math.trunc(s.mtimeMs)}` : `${e}:dangling`;
    }),
  );
  return cacheKey(TREE_FORMAT, parts);
}

/**
 * A Maven upstream's files: a copy of Debian's /usr/share/maven-repo with its symlinks resolved
 * (`cp -rL`; it has Debian's `debian` versions beside the real ones) and a `.sha1` file (hex,
 * as Maven Central has them) next to every file. Built once into the upstream cache and
 * rebuilt when the source changes (another plugin package installed). Serve it with
 * startStaticHttp(). It has no maven-metadata.xml, as the source has none.
 */
export async function mavenUpstreamTree(src = DEBIAN_MAVEN_REPO): Promise<string> {
  const key = await sourceFingerprint(src);
  return cachedTree('maven', key, async (dir) => {
    await run('cp', ['-rL', `${src}/.`, dir]);
    const files = (await readdir(dir, { recursive: true, withFileTypes: true })).filter((e) => e.isFile());
    for (const f of files) {
      const path = join(f.parentPath, f.name);
      await writeFile(`${path}.sha1`, await sha1Of(path));
    }
  });
}

export interface MavenCoordinate {
  groupId: string;
  artifactId: string;
  version: string;
  scope?: string;
}

/**
 * The plugins a `mvn package` of a jar needs, at versions Debian's repository has (the
 * libmaven-*-plugin-java packages): without them Maven 3.8.7 would ask for its built-in
 * defaults, some of which are not there. Install and deploy are pinned too, for tests that
 * go further than package.
 */
export const MAVEN_PINNED_PLUGINS: readonly MavenCoordinate[] = [
  { groupId: 'org.apache.maven.plugins', artifactId: 'maven-resources-plugin', version: '3.3.0' },
  { groupId: 'org.apache.maven.plugins', artifactId: 'maven-compiler-plugin', version: '3.10.1' },
  { groupId: 'org.apache.maven.plugins', artifactId: 'maven-surefire-plugin', version: '2.22.3' },
  { groupId: 'org.apache.maven.plugins', artifactId: 'maven-jar-plugin', version: '3.3.0' },
  { groupId: 'org.apache.maven.plugins', artifactId: 'maven-install-plugin', version: '3.1.0' },
  { groupId: 'org.apache.maven.plugins', artifactId: 'maven-deploy-plugin', version: '3.0.0' },
];

/** A library in Debian's repository that a project can depend on (it has a parent pom, commons-parent). */
export const MAVEN_SAMPLE_DEPENDENCY: MavenCoordinate = { groupId: 'org.apache.commons', artifactId: 'commons-lang3', version: '3.12.0' };

export interface MavenProjectOptions {
  /** The only repository mvn may use: a `<mirrorOf>*</mirrorOf>` mirror with id `upstream`. */
  mirrorUrl: string;
  /** Credentials for the mirror (a `<server>` with id `upstream`). */
  mirrorAuth?: { username: string; password: string };
  /** HTTP headers sent to the mirror (e.g. `Private-Token`). */
  mirrorHeaders?: Record<string, string>;
  dependencies?: MavenCoordinate[];
  groupId?: string;
  artifactId?: string;
  version?: string;
}

export interface MavenProject {
  dir: string;
  pomPath: string;
  settingsPath: string;
  /** target/<artifactId>-<version>.jar, once `mvn package` has run. */
  jarPath: string;
}

const xml = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
const coordinate = (c: MavenCoordinate) =>
  `<groupId>${xml(c.groupId)}</groupId><artifactId>${xml(c.artifactId)}</artifactId><version>${xml(c.version)}</version>`;

/**
 * Writes a tiny jar project (pom.xml with the pinned plugins, one Java class) and a
 * settings.xml whose only repository is a mirror of everything at `mirrorUrl`. Build it with
 * runMvn(project, ['package'], { localRepo }) from an empty local repository.
 */
export async function mavenProject(dir: string, opts: MavenProjectOptions): Promise<MavenProject> {
  const groupId = opts.groupId ?? 'demo.upstream';
  const artifactId = opts.artifactId ?? 'demo';
  const version = opts.version ?? '1.0';
  await mkdir(join(dir, 'src/main/java/demo'), { recursive: true });
  const deps = (opts.dependencies ?? [])
    .map((d) => `  <dependency>${coordinate(d)}${d.scope ? `<scope>${xml(d.scope)}</scope>` : ''}</dependency>`)
    .join('\n');
  const pom = `<project xmlns="http://maven.apache.org/POM/4.0.0"><modelVersion>4.0.0</modelVersion>
<groupId>${xml(groupId)}</groupId><artifactId>${xml(artifactId)}</artifactId><version>${xml(version)}</version>
<properties><maven.compiler.release>17</maven.compiler.release><project.build.sourceEncoding>UTF-8</project.build.sourceEncoding></properties>
<dependencies>
${deps}
</dependencies>
<build><plugins>
${MAVEN_PINNED_PLUGINS.map((p) => `  <plugin>${coordinate(p)}</plugin>`).join('\n')}
</plugins></build></project>
`;
  const server =
    opts.mirrorAuth || opts.mirrorHeaders
      ? `<servers><server><id>upstream</id>${
          opts.mirrorAuth
            ? `<username>${xml(opts.mirrorAuth.username)}</username><password>${xml(opts.mirrorAuth.password)}</password>`
            : ''
        }${
          opts.mirrorHeaders
            ? `<configuration><httpHeaders>${Object.entries(opts.mirrorHeaders)
                .map(([name, value]) => `<property><name>${xml(name)}</name><value>${xml(value)}</value></property>`)
                .join('')}</httpHeaders></configuration>`
            : ''
        }</server></servers>`
      : '';
  const settings = `<settings>${server}
<mirrors><mirror><id>upstream</id><mirrorOf>*</mirrorOf><url>${xml(opts.mirrorUrl)}</url></mirror></mirrors></settings>
`;
  const pomPath = join(dir, 'pom.xml');
  const settingsPath = join(dir, 'settings.xml');
  await writeFile(pomPath, pom);
  await writeFile(settingsPath, settings);
  await writeFile(
    join(dir, 'src/main/java/demo/Hello.java'),
    'package demo;\npublic class Hello { public static String greet(String who) { return "hello " + who; } }\n',
  );
  return { dir, pomPath, settingsPath, jarPath: join(dir, 'target', `${artifactId}-${version}.jar`) };
}

export interface MvnRunOptions {
  /** -Dmaven.repo.local: a fresh directory makes mvn fetch every plugin and dependency. */
  localRepo: string;
  timeoutMs?: number;
}

/**
 * Runs Debian's mvn in the project with its settings.xml, batch mode and strict checksums
 * (-C: a wrong `.sha1` fails the build). Short-lived JVMs: C1 only and the serial GC start
 * markedly faster on a small machine. Throws with mvn's output when it fails.
 */
export async function runMvn(
  project: Pick<MavenProject, 'dir' | 'settingsPath'>,
  args: string[],
  opts: MvnRunOptions,
): Promise<{ stdout: string; stderr: string; ms: number }> {
  const started = Date.now();
  const env = { ...process.env, MAVEN_OPTS: '-XX:TieredStopAtLevel=1 -XX:+UseSerialGC', JAVA_TOOL_OPTIONS: undefined };
  try {
    const out = await run(
      'mvn',
      ['-B', '-C', '-Dstyle.color=never', '-s', project.settingsPath, `-Dmaven.repo.local=${opts.localRepo}`, ...args],
      { cwd: project.dir, env, timeout: opts.timeoutMs ?? 180_000, maxBuffer: 64 * 1024 * 1024 },
    );
    return { ...out, ms: Date.now() - started };
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string; message: string };
    throw new Error(`mvn ${args.join(' ')} failed: ${e.message}\n${e.stdout ?? ''}\n${e.stderr ?? ''}`);
  }
}
