import { mavenTarget, parseSnapshotFile } from '../src/maven.naming';

describe('maven naming', () => {
  it('parses files, checksums and the three metadata levels', () => {
    expect(mavenTarget('com/acme/app/1.0/app-1.0-sources.jar.sha256')).toEqual({
      kind: 'file',
      name: 'com/acme/app',
      groupId: 'com.acme',
      artifactId: 'app',
      version: '1.0',
      fileName: 'app-1.0-sources.jar',
      checksum: 'sha256',
    });
    expect(mavenTarget('com/acme/app/maven-metadata.xml')).toMatchObject({ kind: 'metadata', name: 'com/acme/app', version: '' });
    expect(mavenTarget('com/acme/app/1.0-SNAPSHOT/maven-metadata.xml.md5')).toMatchObject({
      kind: 'metadata',
      name: 'com/acme/app',
      version: '1.0-SNAPSHOT',
      checksum: 'md5',
    });
    expect(mavenTarget('com/acme/maven-metadata.xml')).toMatchObject({ kind: 'metadata', name: 'com/acme', version: '' });
  });

  it('reads timestamped SNAPSHOT file names', () => {
    expect(parseSnapshotFile('app', '1.0-SNAPSHOT', 'app-1.0-20200128.120857-3-sources.jar')).toEqual({
      value: '1.0-20200128.120857-3',
      timestamp: '20200128.120857',
      buildNumber: 3,
      classifier: 'sources',
      extension: 'jar',
    });
    expect(parseSnapshotFile('app', '1.0-SNAPSHOT', 'app-1.0-SNAPSHOT.jar')).toBeUndefined();
  });
});
