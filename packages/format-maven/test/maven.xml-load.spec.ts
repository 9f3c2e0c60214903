import { filesUnder, http, livenessDuring, startTestServer, type TestProject, type TestServer } from '@stowage/testkit';

import { mavenFormat } from '../src';

// Issue 14: the POMs and maven-metadata.xml a client uploads are read back and parsed (up to
// formats.maven.max_metadata_size, 10 MiB by default). A 10 MiB POM nested a million deep
// held the event loop for 2.4 s. Nesting stops at libxml2's 256 levels and every document is
// read in slices of the event loop, so the largest one allowed leaves other requests answered.
// Postgres only: PGlite runs its queries on the event loop, which would blur the measurement.

const MiB = 1024 * 1024;

describe('maven XML at the size limit', () => {
  let s: TestServer;
  let project: TestProject;
  const put = (path: string, body: string) =>
    http(s.url, { method: 'PUT', path: `/api/v4/projects/${project.id}/packages/maven/${path}`, token: s.rootToken, body });

  beforeAll(async () => {
    s = await startTestServer({ mode: 'postgres', listen: true, formats: [mavenFormat] });
    project = await s.api.createProject('xml');
  });
  afterAll(() => s?.close());

  it('a POM nested deeper than 256 levels is a 400 at once, nothing stored', async () => {
    const depth = Math.floor((10 * MiB - 100) / 7);
    const pom = `<project>${'<a>'.repeat(depth)}${'</a>'.repeat(depth)}</project>`;
    const { result: res, slowestMs } = await livenessDuring(s.url, () => put('acme/deep/1.0/deep-1.0.pom', pom));
    const error = 'pom is invalid: elements are nested more than 256 levels deep at offset 774';
    expect([res.status, res.json()]).toEqual([400, { error }]);
    expect(slowestMs).toBeLessThan(500);
    expect(await filesUnder(s.storagePath)).toEqual([]);
  });

  it('a 10 MiB maven-metadata.xml of 450,000 versions is taken while /-/liveness keeps answering', async () => {
    const versions = Array.from({ length: 450_000 }, (_, i) => `<version>${i.toString(36)}</version>`).join('');
    const head = '<metadata><groupId>acme</groupId><artifactId>many</artifactId>';
    const xml = `${head}<versioning><versions>\n${versions}\n</versions></versioning></metadata>`;
    expect(xml.length).toBeLessThan(10 * MiB);
    const { result: res, slowestMs, probes } = await livenessDuring(s.url, () => put('acme/many/maven-metadata.xml', xml));
    expect(res.status).toBe(200);
    expect(probes).toBeGreaterThan(5);
    // Before, the parse held the loop for 0.6 s at a stretch; the POM below for 1.1 s.
    expect(slowestMs).toBeLessThan(500);
  });

  it('a 10 MiB POM of two million empty elements is read in slices too', async () => {
    const coordinates = '<groupId>acme</groupId><artifactId>wide</artifactId><version>1.0</version>';
    const pom = `<project>${coordinates}${'<v/>'.repeat(Math.floor((10 * MiB - 200) / 4))}</project>`;
    const { result: res, slowestMs } = await livenessDuring(s.url, () => put('acme/wide/1.0/wide-1.0.pom', pom));
    expect(res.status).toBe(200);
    expect(slowestMs).toBeLessThan(500);
  });
});
