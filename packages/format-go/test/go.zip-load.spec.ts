import { join } from 'node:path';

import { buildZip, filesUnder, http, livenessDuring, startTestServer, type TestProject, type TestServer } from '@stowage/testkit';

import { goFormat } from '../src';
import { DEFAULT_MAX_ZIP_ENTRIES } from '../src/go.module-zip';

// Issue 14: a module zip of 300,000 empty files (46 MB) was accepted after 4 s of CPU during
// which the event loop was held (/-/liveness took 2.8 s). Zips are limited to
// formats.go.max_zip_entries (200,000 by default), and one at that limit is read, checked and
// verified in slices of the event loop: every other request goes on meanwhile.
// Postgres only: PGlite runs its queries on the event loop, which would blur the measurement.

const modulePath = 'example.com/many';

/** A valid module zip of `count` entries: go.mod and empty files in 100 directories. */
function manyFiles(version: string, count: number): Buffer {
  const prefix = `${modulePath}@${version}/`;
  return buildZip([
    { name: `${prefix}go.mod`, data: `module ${modulePath}\n` },
    ...Array.from({ length: count - 1 }, (_, i) => ({ name: `${prefix}d${i % 100}/f${i}.go` })),
  ]);
}

/** Publishes `body` as version `version` of the module, as the project's owner. */
function putZip(s: TestServer, project: TestProject, version: string, body: Buffer) {
  const path = `/api/v4/projects/${project.id}/packages/go/${modulePath}/@v/${version}.zip`;
  return http(s.url, { method: 'PUT', path, token: s.rootToken, body });
}

describe('go module zips of many entries', () => {
  let s: TestServer;
  let project: TestProject;
  const put = (version: string, body: Buffer) => putZip(s, project, version, body);

  beforeAll(async () => {
    s = await startTestServer({ mode: 'postgres', listen: true, formats: [goFormat] });
    project = await s.api.createProject('many');
  });
  afterAll(() => s?.close());

  it('refuses a zip of more entries than formats.go.max_zip_entries with a 400, storing nothing', async () => {
    const res = await put('v1.0.1', manyFiles('v1.0.1', DEFAULT_MAX_ZIP_ENTRIES + 1));
    expect([res.status, res.text]).toEqual([400, `invalid module zip: zip has more than ${DEFAULT_MAX_ZIP_ENTRIES} entries\n`]);
    expect(await filesUnder(join(s.dataDir, 'packages'))).toEqual([]);
  });

  it('takes a zip at the limit while /-/liveness keeps answering in well under a second', async () => {
    const zip = manyFiles('v1.0.0', DEFAULT_MAX_ZIP_ENTRIES);
    const { result: res, slowestMs, probes } = await livenessDuring(s.url, () => put('v1.0.0', zip));
    expect(res.status).toBe(201);
    // Before, reading and checking the directory held the loop for 2 s at a stretch (1 s of CPU).
    expect(probes).toBeGreaterThan(10);
    expect(slowestMs).toBeLessThan(500);
    const mod = await http(s.url, { path: `/api/v4/projects/${project.id}/packages/go/${modulePath}/@v/v1.0.0.mod`, token: s.rootToken });
    expect([mod.status, mod.text]).toEqual([200, `module ${modulePath}\n`]);
  });
});

describe('formats.go.max_zip_entries', () => {
  let s: TestServer;
  let project: TestProject;
  const put = (version: string, body: Buffer) => putZip(s, project, version, body);

  beforeAll(async () => {
    const config = { formats: { go: { max_zip_entries: 10 } } };
    s = await startTestServer({ mode: 'postgres', listen: true, formats: [goFormat], config });
    project = await s.api.createProject('few');
  });
  afterAll(() => s?.close());

  it('sets the most entries a module zip may have', async () => {
    expect((await put('v1.0.0', manyFiles('v1.0.0', 10))).status).toBe(201);
    const res = await put('v1.0.1', manyFiles('v1.0.1', 11));
    expect([res.status, res.text]).toEqual([400, 'invalid module zip: zip has more than 10 entries\n']);
  });
});
