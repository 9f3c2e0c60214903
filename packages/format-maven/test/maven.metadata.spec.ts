import { readPomCoordinates, readUploadedMetadata, renderArtifactMetadata, renderSnapshotMetadata } from '../src/maven.metadata';

describe('maven metadata', () => {
  it('renders a document that parses back', async () => {
    const doc = renderArtifactMetadata('com/acme/app', [
      { version: '1.0', created_at: new Date(0), updated_at: new Date('2026-01-02T03:04:05Z') },
      { version: '1.1-SNAPSHOT', created_at: new Date(1), updated_at: new Date(1) },
    ]);
    const meta = await readUploadedMetadata(doc.body.toString());
    expect(meta).toMatchObject({ groupId: 'com.acme', artifactId: 'app', versions: ['1.0', '1.1-SNAPSHOT'] });
    expect(doc.body.toString()).toMatch(/<latest>1\.1-SNAPSHOT<\/latest>\s*<release>1\.0<\/release>[\s\S]*<lastUpdated>20260102030405</);
  });

  it('takes groupId and version from the parent when a POM inherits them', async () => {
    expect(
      await readPomCoordinates('<project><parent><groupId>g</groupId><version>2</version></parent><artifactId>a</artifactId></project>'),
    ).toEqual({
      groupId: 'g',
      artifactId: 'a',
      version: '2',
    });
  });
});

describe('maven snapshot metadata', () => {
  it('renders the newest timestamped SNAPSHOT build per classifier and extension', () => {
    const doc = renderSnapshotMetadata('com/acme/app', '1.0-SNAPSHOT', [
      { file_name: 'app-1.0-20200128.120857-3.jar' },
      { file_name: 'app-1.0-20200127.100000-2.jar' },
      { file_name: 'app-1.0-20200127.100000-2.pom' },
    ])!;
    const xml = doc.body.toString();
    expect(xml).toMatch(/<timestamp>20200128\.120857<\/timestamp>\s*<buildNumber>3<\/buildNumber>/);
    expect(xml).toMatch(/<extension>jar<\/extension>\s*<value>1\.0-20200128\.120857-3<\/value>/);
    expect(xml).toMatch(/<extension>pom<\/extension>\s*<value>1\.0-20200127\.100000-2<\/value>/);
    expect(doc.lastModified.toISOString()).toBe('2020-01-28T12:08:57.000Z');
  });
});
