import { PackageService } from '@stowage/core';
import { startTestServer, type TestServer } from '@stowage/testkit';

import { nugetFormat } from '../../packages/format-nuget/src';
import { get, latencies, quantile, round, type RoundCase } from '../lib/measure.cjs';

// What NuGet's reads of a package with 3,000 versions cost at 10 concurrent clients: the
// registration index (paged above registration_page_size: only page bounds and @id links),
// one registration page (128 leaves), a leaf, the flat-container versions index, and the
// group feed's registration index. Target: p99 under 50 ms for registration and flat index.
// Also: the first read after a change (the documents are re-rendered once per revision).

const CLIENTS = Number(process.env.BENCH_CLIENTS ?? 10);
const REQUESTS = Number(process.env.BENCH_REQUESTS ?? 2000);
const VERSIONS = Number(process.env.BENCH_VERSIONS ?? 3000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 4);

function report(c: RoundCase): string {
  return `${c.label.padEnd(58)} ${(c.ms.length / c.seconds).toFixed(0).padStart(6)} req/s  ${latencies(c.ms)}`;
}

describe(`nuget reads (${process.env.BENCH_MODE ?? 'postgres'})`, () => {
  let s: TestServer;
  afterAll(() => s?.close());

  it('measures', async () => {
    const mode = (process.env.BENCH_MODE as never) ?? 'postgres';
    const config = mode === 'postgres' ? { database: { pool_size: Number(process.env.BENCH_POOL ?? 10) } } : {};
    s = await startTestServer({ formats: [nugetFormat], mode, listen: true, config });
    const user = await s.api.createUser('bench');
    const group = await s.api.createGroup('perf');
    const project = await s.api.createProject('lib', { namespaceId: group.id });
    await s.api.addMember({ project: project.id }, user.id, 30);
    const path = `/api/v4/projects/${project.id}/packages/nuget`;
    const headers = { authorization: `Basic ${Buffer.from(`${user.username}:${user.token}`).toString('base64')}` };

    // 3,000 versions written as rows directly (seeding is not what is measured), each with
    // the metadata a pushed nuspec leaves on the row: authors, description, URLs, tags, two
    // dependency groups.
    const metadata = (i: number) => ({
      authors: 'Bench Author',
      description: `Version ${i} of a package with a long history.`,
      projectUrl: 'https://example.com/bench',
      licenseUrl: 'https://example.com/bench/license',
      tags: 'bench perf nuget',
      packageTypes: [],
      dependencyGroups: [
        {
          targetFramework: 'net6.0',
          dependencies: [
            { id: 'Bench.Base', range: '[1.0.0, )' },
            { id: 'Bench.Util', range: '[2.1.0, 3.0.0)' },
          ],
        },
        { targetFramework: 'netstandard2.0', dependencies: [{ id: 'Bench.Base', range: '[1.0.0, )' }] },
      ],
    });
    const version = (i: number) => `${1 + Math.floor(i / 1000)}.${Math.floor(i / 10) % 100}.${i % 10}${i % 50 === 49 ? '-beta.1' : ''}`;
    const t0 = performance.now();
    await s.app.get(PackageService).write(async (w) => {
      for (let i = 0; i < VERSIONS; i++)
        await w.upsertPackage({
          projectId: project.id,
          packageType: 'nuget',
          name: 'Bench.Many',
          version: version(i),
          metadata: metadata(i),
        });
    });
    const seeded = performance.now() - t0;

    const reg = await get(`${s.url}${path}/metadata/bench.many/index.json`, { headers });
    if (reg.status !== 200) throw new Error(`registration: ${reg.status}`);
    const index = (await s.api.inject({ url: `${path}/metadata/bench.many/index.json`, headers })).json();
    const page = new URL(index.items[Math.floor(index.count / 2)]['@id']).pathname;
    const pageBytes = (await get(`${s.url}${page}`, { headers })).bytes;
    const flat = await get(`${s.url}${path}/download/bench.many/index.json`, { headers });
    const kib = (b: number) => `${(b / 1024).toFixed(0)} KiB`;

    const cases: RoundCase[] = (
      [
        ['baseline: GET /-/liveness (no auth, no DB)', `${s.url}/-/liveness`],
        ['floor: unknown id, 404 (auth, project, revision lookup)', `${s.url}${path}/metadata/bench.none/index.json`, 404],
        [
          `registration index, ${VERSIONS} versions (${index.count} pages, ${kib(reg.bytes)})`,
          `${s.url}${path}/metadata/bench.many/index.json`,
        ],
        [`registration page (${index.items[0].count} leaves, ${kib(pageBytes)})`, `${s.url}${page}`],
        ['registration leaf', `${s.url}${path}/metadata/bench.many/1.50.0.json`],
        [`flat-container index.json (${kib(flat.bytes)})`, `${s.url}${path}/download/bench.many/index.json`],
        ['registration index, group feed', `${s.url}/api/v4/groups/${group.id}/-/packages/nuget/metadata/bench.many/index.json`],
      ] as [string, string, number?][]
    ).map(([label, url, want]) => ({ label, url, want: want ?? 200, ms: [], seconds: 0 }));
    for (let r = 0; r < ROUNDS; r++)
      for (const c of cases) await round(c, { clients: CLIENTS, requests: Math.ceil(REQUESTS / ROUNDS), headers });

    // The first read after a change: one more version, then each document once, sequentially.
    const cold: Record<string, number[]> = { index: [], page: [], flat: [] };
    for (let i = 0; i < 10; i++) {
      await s.app
        .get(PackageService)
        .write((w) =>
          w.upsertPackage({ projectId: project.id, packageType: 'nuget', name: 'Bench.Many', version: `9.0.${i}`, metadata: metadata(i) }),
        );
      for (const [k, url] of [
        ['index', `${path}/metadata/bench.many/index.json`],
        ['page', page],
        ['flat', `${path}/download/bench.many/index.json`],
      ]) {
        const t = performance.now();
        const r = await get(`${s.url}${url}`, { headers });
        cold[k].push(performance.now() - t);
        if (r.status !== 200) throw new Error(`cold ${k}: ${r.status}`);
      }
    }
    const t1 = performance.now();
    for (let i = 0; i < 5; i++)
      await s.app.get(PackageService).listVersions({ projectId: project.id, packageType: 'nuget', name: 'Bench.Many' });
    const listMs = (performance.now() - t1) / 5;
    const coldLine = Object.entries(cold)
      .map(([k, ms]) => `${k} p50 ${quantile(ms, 0.5).toFixed(1)} ms max ${Math.max(...ms).toFixed(1)} ms`)
      .join('; ');

    console.log(
      `nuget reads bench (${s.mode}, ${CLIENTS} concurrent keep-alive clients, ${REQUESTS} requests per case in ${ROUNDS} interleaved rounds, private project, Basic PAT; seeded ${VERSIONS} versions in ${seeded.toFixed(0)} ms)\n` +
        `${cases.map(report).join('\n')}\nfirst read after a change (10 changes, sequential): ${coldLine}; of which loading the ${VERSIONS} rows: ${listMs.toFixed(1)} ms`,
    );
  });
});
