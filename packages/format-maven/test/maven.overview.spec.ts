import type { Package, PackageOverviewContext } from '@stowage/core';
import { overviewContext, packageRow } from '@stowage/testkit';

import { MAVEN, mavenTarget } from '../src/maven.naming';
import { mavenPackageOverview } from '../src/maven.overview';

/** The package row a deploy of these files (paths under the repository) creates: name and version from the path, no metadata. */
function deployed(...paths: string[]): { pkg: Package; context: PackageOverviewContext } {
  const targets = paths.map((p) => mavenTarget(p));
  const { name, version } = targets[0];
  const files = targets.map((t, i) => ({ id: i + 1, file_name: t.fileName, size: 10 }));
  return {
    pkg: packageRow({ package_type: MAVEN, name, version }),
    context: overviewContext({ files }),
  };
}

describe('Maven package overview', () => {
  it('shows the coordinates and the packaging of the main artifact', () => {
    const { pkg, context } = deployed(
      'com/acme/greeter/1.0/greeter-1.0.pom',
      'com/acme/greeter/1.0/greeter-1.0.war',
      'com/acme/greeter/1.0/greeter-1.0-sources.jar',
    );
    const overview = mavenPackageOverview(pkg, context);
    expect(overview.metadata).toEqual([
      { label: 'Group ID', value: 'com.acme' },
      { label: 'Artifact ID', value: 'greeter' },
      { label: 'Version', value: '1.0' },
      { label: 'Packaging', value: 'war' },
    ]);
    expect(overview.dependencies).toEqual([]);
    expect(overview.readme).toBeNull();
  });

  it('gives settings.xml with the Private-Token header, the repository, the dependency and mvn, in that order', () => {
    const { pkg, context } = deployed('com/acme/greeter/1.0/greeter-1.0.jar', 'com/acme/greeter/1.0/greeter-1.0.pom');
    const [settings, repository, dependency, mvn] = mavenPackageOverview(pkg, {
      ...context,
      baseUrl: 'http://stowage.example.com:8080/registry',
    }).instructions;
    expect(settings.code).toContain('<id>stowage</id>');
    expect(settings.code).toContain('<name>Private-Token</name>\n            <value><your_token></value>');
    expect(repository.code).toContain(
      '<id>stowage</id>\n    <url>http://stowage.example.com:8080/registry/api/v4/projects/42/packages/maven</url>',
    );
    expect(dependency).toEqual({
      title: 'pom.xml: the dependency',
      language: 'xml',
      code: '<dependency>\n  <groupId>com.acme</groupId>\n  <artifactId>greeter</artifactId>\n  <version>1.0</version>\n</dependency>',
    });
    expect(mvn.code).toBe('mvn dependency:get -Dartifact=com.acme:greeter:1.0');
  });

  it("names the type of a POM-only artifact and reads a SNAPSHOT's timestamped files", () => {
    const pom = deployed('com/acme/bom/2.0/bom-2.0.pom');
    const [, , dependency, mvn] = mavenPackageOverview(pom.pkg, pom.context).instructions;
    expect(dependency.code).toContain('<type>pom</type>');
    expect(mvn.code).toBe('mvn dependency:get -Dartifact=com.acme:bom:2.0:pom');
    const snapshot = deployed(
      'com/acme/greeter/1.1-SNAPSHOT/greeter-1.1-20240101.120000-1.jar',
      'com/acme/greeter/1.1-SNAPSHOT/maven-metadata.xml',
    );
    expect(mavenPackageOverview(snapshot.pkg, snapshot.context).metadata).toContainEqual({ label: 'Packaging', value: 'jar' });
  });

  it("gives an artifact's versionless metadata package the repository set-up only", () => {
    const { pkg, context } = deployed('com/acme/greeter/maven-metadata.xml');
    const overview = mavenPackageOverview(pkg, context);
    expect(overview.metadata).toEqual([
      { label: 'Group ID', value: 'com.acme' },
      { label: 'Artifact ID', value: 'greeter' },
    ]);
    expect(overview.instructions.map((i) => i.title)).toEqual(['~/.m2/settings.xml: the token', 'pom.xml: the repository']);
  });

  it('returns no command for coordinates Maven refuses', () => {
    const { pkg, context } = deployed('com/acme/greeter/1.0/greeter-1.0.jar');
    const hostile = Object.assign(pkg, { name: 'com/acme/<script>$(rm -rf ~)' });
    const overview = mavenPackageOverview(hostile, context);
    expect(overview.metadata[1]).toEqual({ label: 'Artifact ID', value: '<script>$(rm -rf ~)' });
    expect(overview.instructions).toEqual([]);
  });
});
