import { escapeXml, metadataRows, type Package, type PackageOverview, type PackageOverviewContext, passes } from '@stowage/core';

import { CHECKSUMS, isSnapshot, mavenTarget, METADATA_FILE, parseSnapshotFile, splitName } from './maven.naming';

/** Files beside an artifact that are never its packaging. */
const NOT_PACKAGING = new Set(['pom', 'asc', 'module', ...CHECKSUMS]);

/**
 * The extension of the version's main artifact (`<artifactId>-<version>.<ext>`, no classifier;
 * a SNAPSHOT's timestamped one), else `pom` when only its POM is there. The POM's own
 * `<packaging>` is not stored, so this is what a `<dependency>`'s `<type>` needs.
 */
function packaging(artifactId: string, version: string, files: PackageOverviewContext['files']): string | undefined {
  const extensions = files.flatMap(({ file_name }) => {
    if (isSnapshot(version)) {
      const snapshot = parseSnapshotFile(artifactId, version, file_name);
      return snapshot && !snapshot.classifier ? [snapshot.extension] : [];
    }
    const prefix = `${artifactId}-${version}.`;
    return file_name.startsWith(prefix) ? [file_name.slice(prefix.length)] : [];
  });
  return extensions.find((e) => !NOT_PACKAGING.has(e) && !e.includes('.')) ?? (extensions.includes('pom') ? 'pom' : undefined);
}

/** Whether a package row names coordinates Maven's path rules accept (only letters, digits and `_.+-`). */
function validCoordinates(pkg: Package, artifactId: string): boolean {
  return passes(() =>
    mavenTarget(pkg.version ? `${pkg.name}/${pkg.version}/${artifactId}-${pkg.version}.pom` : `${pkg.name}/${METADATA_FILE}`),
  );
}

/**
 * The package page of a Maven package: its coordinates (the package name is the group path
 * and artifactId) and the `settings.xml`, `pom.xml` and `mvn` set-up GitLab documents. Maven
 * stores no metadata on the package (the POM is a file), so no dependencies or README.
 * The versionless package of an artifact's `maven-metadata.xml` gets the repository set-up only.
 */
export function mavenPackageOverview(pkg: Package, context: PackageOverviewContext): PackageOverview {
  const { groupId, artifactId } = splitName(pkg.name);
  const type = pkg.version ? packaging(artifactId, pkg.version, context.files) : undefined;
  const facts: [string, string | undefined][] = [
    ['Group ID', groupId],
    ['Artifact ID', artifactId],
    ['Version', pkg.version || undefined],
    ['Packaging', type],
  ];
  return {
    metadata: metadataRows(facts),
    dependencies: [],
    readme: null,
    instructions: validCoordinates(pkg, artifactId) ? instructions(pkg, { groupId, artifactId, type }, context) : [],
  };
}

function instructions(
  pkg: Package,
  c: { groupId: string; artifactId: string; type?: string },
  { baseUrl, project }: PackageOverviewContext,
): PackageOverview['instructions'] {
  const url = escapeXml(`${baseUrl}/api/v4/projects/${project.id}/packages/maven`);
  const [groupId, artifactId, version] = [c.groupId, c.artifactId, pkg.version].map(escapeXml);
  const nonJar = c.type && c.type !== 'jar' ? c.type : undefined;
  const out: PackageOverview['instructions'] = [
    {
      title: '~/.m2/settings.xml: the token',
      language: 'xml',
      code: [
        '<settings>',
        '  <servers>',
        '    <server>',
        '      <id>stowage</id>',
        '      <configuration>',
        '        <httpHeaders>',
        '          <property>',
        '            <name>Private-Token</name>',
        '            <value><your_token></value>',
        '          </property>',
        '        </httpHeaders>',
        '      </configuration>',
        '    </server>',
        '  </servers>',
        '</settings>',
      ].join('\n'),
    },
    {
      title: 'pom.xml: the repository',
      language: 'xml',
      code: [
        '<repositories>',
        '  <repository>',
        '    <id>stowage</id>',
        `    <url>${url}</url>`,
        '  </repository>',
        '</repositories>',
      ].join('\n'),
    },
  ];
  if (!pkg.version) return out;
  out.push(
    {
      title: 'pom.xml: the dependency',
      language: 'xml',
      code: [
        '<dependency>',
        `  <groupId>${groupId}</groupId>`,
        `  <artifactId>${artifactId}</artifactId>`,
        `  <version>${version}</version>`,
        ...(nonJar ? [`  <type>${escapeXml(nonJar)}</type>`] : []),
        '</dependency>',
      ].join('\n'),
    },
    {
      title: 'Fetch it with mvn',
      language: 'shell',
      code: `mvn dependency:get -Dartifact=${[c.groupId, c.artifactId, pkg.version, ...(nonJar ? [nonJar] : [])].join(':')}`,
    },
  );
  return out;
}
