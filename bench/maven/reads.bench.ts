import { PackageService } from '@stowage/core';
import { startTestServer, type TestServer } from '@stowage/testkit';

import { mavenFormat } from '../../packages/format-maven/src';
import { latencies, round, type RoundCase } from '../lib/measure.cjs';

// What Maven's reads cost at 20 concurrent clients: (a) 404 probes of unknown artifacts (most
// of a multi-repository build's traffic), (b) downloads of a small existing jar, (c) the
// artifact maven-metadata.xml of an artifact with 2,000 versions. Target: (a) at least as
// fast as (b), p99 under 20 ms for both.

const CLIENTS = Number(process.env.BENCH_CLIENTS ?? 20);
const REQUESTS = Number(process.env.BENCH_REQUESTS ?? 2000);
const VERSIONS = Number(process.env.BENCH_VERSIONS ?? 2000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 4);

function report(c: RoundCase): string {
  return `${c.label.padEnd(50)} ${(c.ms.length / c.seconds).toFixed(0).padStart(6)} req/s  ${latencies(c.ms)}`;
}

describe(`maven reads (${process.env.BENCH_MODE ?? 'postgres'})`, () => {
  let s: TestServer;
  afterAll(() => s?.close());

  it('measures', async () => {
    const mode = (process.env.BENCH_MODE as never) ?? 'postgres';
    // The tests' pool of 5 would queue 20 clients; production's default is 10.
    const config = mode === 'postgres' ? { database: { pool_size: Number(process.env.BENCH_POOL ?? 10) } } : {};
    s = await startTestServer({ formats: [mavenFormat], mode, listen: true, config });
    const user = await s.api.createUser('bench');
    const group = await s.api.createGroup('perf');
    const project = await s.api.createProject('lib', { namespaceId: group.id });
    await s.api.addMember({ project: project.id }, user.id, 30);
    const path = `/api/v4/projects/${project.id}/packages/maven`;
    const headers = { 'private-token': user.token };

    const jar = Buffer.alloc(4096, 1);
    const put = await s.api.inject({ method: 'PUT', url: `${path}/bench/lib/small/1.0/small-1.0.jar`, payload: jar, token: user.token });
    if (put.status !== 200) throw new Error(`seed: ${put.status} ${put.body}`);
    // 2,000 versions written as rows directly: seeding is not what is measured.
    const t0 = performance.now();
    await s.app.get(PackageService).write(async (w) => {
      for (let i = 0; i < VERSIONS; i++) {
        await w.upsertPackage({
          projectId: project.id,
          packageType: 'maven',
          name: 'bench/lib/many',
          version: `1.${i}.0${i % 10 === 9 ? '-SNAPSHOT' : ''}`,
        });
      }
    });
    const seeded = performance.now() - t0;
    const meta = await s.api.inject({ url: `${path}/bench/lib/many/maven-metadata.xml`, token: user.token });
    if (meta.status !== 200) throw new Error(`metadata: ${meta.status}`);

    const cases: RoundCase[] = [
      ['baseline: GET /-/liveness (no auth, no DB)', () => `${s.url}/-/liveness`, 200],
      ['(a) 404: unknown artifact .pom', (i: number) => `${s.url}${path}/org/probe/a${i}/1.0/a${i}-1.0.pom`, 404],
      ['(a) 404: unknown artifact maven-metadata.xml', (i: number) => `${s.url}${path}/org/probe/a${i}/maven-metadata.xml`, 404],
      ['(a) 404: unknown version of a known artifact', (i: number) => `${s.url}${path}/bench/lib/small/9.${i}/small-9.${i}.pom`, 404],
      ['(b) small jar (4 KiB)', () => `${s.url}${path}/bench/lib/small/1.0/small-1.0.jar`, 200],
      ['(b) small jar .sha1', () => `${s.url}${path}/bench/lib/small/1.0/small-1.0.jar.sha1`, 200],
      [
        `(c) maven-metadata.xml, ${VERSIONS} versions (${(meta.rawPayload.length / 1024).toFixed(0)} KiB)`,
        () => `${s.url}${path}/bench/lib/many/maven-metadata.xml`,
        200,
      ],
      [
        '(c) same document, group endpoint',
        () => `${s.url}/api/v4/groups/${group.id}/-/packages/maven/bench/lib/many/maven-metadata.xml`,
        200,
      ],
    ].map(([label, url, want]) => ({ label, url, want, ms: [], seconds: 0 }) as RoundCase);
    // Interleaved rounds, so that load from elsewhere on the machine falls on every case alike.
    for (let r = 0; r < ROUNDS; r++)
      for (const c of cases) await round(c, { clients: CLIENTS, requests: Math.ceil(REQUESTS / ROUNDS), headers });
    const lines = cases.map(report);
    console.log(
      `maven reads bench (${s.mode}, ${CLIENTS} concurrent keep-alive clients, ${REQUESTS} requests per case in ${ROUNDS} interleaved rounds, private project, PAT, pool ${process.env.BENCH_POOL ?? 10}; seeded ${VERSIONS} versions in ${seeded.toFixed(0)} ms)\n${lines.join('\n')}`,
    );
  });
});
