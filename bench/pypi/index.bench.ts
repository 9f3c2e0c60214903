import { createHash } from 'node:crypto';
import { Agent } from 'node:http';
import { createRequire } from 'node:module';
import { join } from 'node:path';

import { buildZip, multipart, startTestServer, type TestServer } from '@stowage/testkit';

import { pypiFormat } from '../../packages/format-pypi/src';
import { type IndexFile, renderProjectPage } from '../../packages/format-pypi/src/pypi.render';
import { get, latencies, quantile, round, type RoundCase } from '../lib/measure.cjs';

// What pip's and uv's index reads cost at 10 concurrent clients: (a) the simple page of a
// project with 5,000 files, (b) the group root index with 2,000 projects, each as HTML and
// as PEP 691 JSON. Target: p99 under 50 ms on (a). Then the cold render (cache missed: two
// queries and the render) at 1,000 / 2,500 / 5,000 files, to show it grows linearly.

const CLIENTS = Number(process.env.BENCH_CLIENTS ?? 10);
const REQUESTS = Number(process.env.BENCH_REQUESTS ?? 1000);
const FILES = Number(process.env.BENCH_FILES ?? 5000);
const PROJECTS = Number(process.env.BENCH_PROJECTS ?? 2000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 4);
const COLD = Number(process.env.BENCH_COLD ?? 15);

// typeorm is core's dependency; take its DataSource class from there (the one the app registered).
type Sql = { query(sql: string, params?: unknown[]): Promise<unknown> };
const { DataSource } = createRequire(join(__dirname, '../../packages/core/package.json'))('typeorm') as {
  DataSource: abstract new () => Sql;
};

// What pip 24 sends.
const JSON_ACCEPT = 'application/vnd.pypi.simple.v1+json, application/vnd.pypi.simple.v1+html; q=0.1, text/html; q=0.01';
const GZIP = { 'accept-encoding': 'gzip, deflate' };

function report(c: RoundCase): string {
  return `${c.label.padEnd(46)} ${((c.bytes ?? 0) / 1024).toFixed(0).padStart(5)} KiB on the wire ${(c.ms.length / c.seconds).toFixed(0).padStart(6)} req/s  ${latencies(c.ms)}`;
}

describe(`pypi simple index reads (${process.env.BENCH_MODE ?? 'postgres'})`, () => {
  let s: TestServer;
  afterAll(() => s?.close());

  it('measures', async () => {
    const mode = (process.env.BENCH_MODE as never) ?? 'postgres';
    const config = mode === 'postgres' ? { database: { pool_size: Number(process.env.BENCH_POOL ?? 10) } } : {};
    s = await startTestServer({ formats: [pypiFormat], mode, listen: true, config });
    const ds = s.app.get(DataSource);
    const user = await s.api.createUser('bench');
    const group = await s.api.createGroup('perf');
    const big = await s.api.createProject('big', { namespaceId: group.id });
    const many = await s.api.createProject('many', { namespaceId: group.id });
    await s.api.addMember({ group: group.id }, user.id, 30);
    const headers = { authorization: `Basic ${Buffer.from(`__token__:${user.token}`).toString('base64')}` };

    // One real upload (a .zip sdist with its PKG-INFO), so the blob store and the paths behind it are the real ones.
    const bytes = buildZip({ 'seed-1.0/PKG-INFO': 'Metadata-Version: 2.1\nName: seed\nVersion: 1.0\n' });
    const sha = createHash('sha256').update(bytes).digest('hex');
    const form = multipart([
      { name: 'name', value: 'seed' },
      { name: 'version', value: '1.0' },
      { name: 'content', value: bytes, fileName: 'seed-1.0.zip' },
    ]);
    const seed = await s.api.inject({
      method: 'POST',
      url: `/api/v4/projects/${big.id}/packages/pypi`,
      headers: { ...headers, 'content-type': form.contentType },
      payload: form.body,
    });
    if (seed.status !== 201) throw new Error(`seed upload: ${seed.status} ${seed.body}`);

    /**
     * `files` distribution files of `name` in `project` by SQL: per version a wheel with its
     * PEP 658 sidecar and an sdist, each with a distinct sha256 (and its blob row) so that
     * gzip finds what it would in a real index.
     */
    async function seedProject(projectId: number, name: string, files: number) {
      const versions = Math.ceil(files / 2);
      await ds.query(
        `INSERT INTO packages (project_id, package_type, name, normalized_name, version, normalized_version, metadata)
         SELECT $1, 'pypi', $2, $2, '1.' || i || '.0', '1.' || i || '.0', '{"requires_python": ">=3.8"}'::jsonb FROM generate_series(1, $3) i`,
        [projectId, name, versions],
      );
      const under = name.replace(/-/g, '_');
      const digest = (x: string) => `encode(sha256(convert_to(${x}, 'UTF8')), 'hex')`;
      for (const kind of ['whl', 'tar.gz']) {
        const fileName = kind === 'whl' ? `'${under}-' || pk.version || '-py3-none-any.whl'` : `'${under}-' || pk.version || '.tar.gz'`;
        const rows = `FROM packages pk WHERE pk.project_id = $1 AND pk.normalized_name = $2 ${kind === 'tar.gz' && files % 2 ? "AND pk.version <> '1.1.0'" : ''}`;
        await ds.query(
          `INSERT INTO blobs (sha256, size, md5, sha1, sha512, store, storage_key)
           SELECT ${digest(fileName)}, 5, md5(${fileName}), left(md5(${fileName}) || md5(${fileName}), 40), ${digest(fileName)} || ${digest(fileName)}, 'local', 'bench/' || pk.id ${rows}`,
          [projectId, name],
        );
        const meta =
          kind === 'whl'
            ? `jsonb_build_object('requires_python', '>=3.8', 'filetype', 'bdist_wheel', 'core_metadata_sha256', ${digest(`'m' || ${fileName}`)})`
            : `'{"requires_python": ">=3.8", "filetype": "sdist"}'::jsonb`;
        const insert = (fileNameExpr: string, metaExpr: string) =>
          ds.query(
            `INSERT INTO package_files (package_id, file_name, size, file_sha256, file_md5, file_sha1, file_sha512, metadata)
             SELECT pk.id, ${fileNameExpr}, 5, b.sha256, b.md5, b.sha1, b.sha512, ${metaExpr} ${rows.replace('FROM packages pk', `FROM packages pk JOIN blobs b ON b.sha256 = ${digest(fileName)}`)}`,
            [projectId, name],
          );
        await insert(fileName, meta);
        if (kind === 'whl') await insert(`${fileName} || '.metadata'`, `'{}'::jsonb`);
      }
      await ds.query(
        `INSERT INTO package_names (project_id, package_type, normalized_name) VALUES ($1, 'pypi', $2)
         ON CONFLICT (project_id, package_type, normalized_name) DO UPDATE SET revision = package_names.revision + 1`,
        [projectId, name],
      );
    }

    const t0 = performance.now();
    for (const n of [1000, 2500, FILES]) await seedProject(big.id, `files-${n}`, n);
    await ds.query(
      `INSERT INTO packages (project_id, package_type, name, normalized_name, version, normalized_version)
       SELECT $1, 'pypi', 'Project_' || i, 'project-' || i, '1.0', '1.0' FROM generate_series(1, $2) i`,
      [many.id, PROJECTS],
    );
    await ds.query(
      `INSERT INTO package_names (project_id, package_type, normalized_name) SELECT $1, 'pypi', 'project-' || i FROM generate_series(1, $2) i`,
      [many.id, PROJECTS],
    );
    await ds.query('ANALYZE');
    const seeded = performance.now() - t0;

    const projectBase = `${s.url}/api/v4/projects/${big.id}/packages/pypi/simple`;
    const groupBase = `${s.url}/api/v4/groups/${group.id}/-/packages/pypi/simple`;
    const json = { ...headers, ...GZIP, accept: JSON_ACCEPT };
    const html = { ...headers, ...GZIP };
    const cases: RoundCase[] = [
      [`(a) project page, ${FILES} files, HTML`, `${projectBase}/files-${FILES}/`, html],
      [`(a) project page, ${FILES} files, JSON`, `${projectBase}/files-${FILES}/`, json],
      [`(a) same, JSON, no Accept-Encoding`, `${projectBase}/files-${FILES}/`, { ...headers, accept: JSON_ACCEPT }],
      [`(a') group page, same ${FILES} files, JSON`, `${groupBase}/files-${FILES}/`, json],
      [`(b) group root index, ${PROJECTS + 4} projects, HTML`, `${groupBase}/`, html],
      [`(b) group root index, ${PROJECTS + 4} projects, JSON`, `${groupBase}/`, json],
    ].map(([label, url, h]) => ({ label, url, headers: h, ms: [], seconds: 0, bytes: 0 }) as RoundCase);
    for (let r = 0; r < ROUNDS; r++) for (const c of cases) await round(c, { clients: CLIENTS, requests: Math.ceil(REQUESTS / ROUNDS) });

    // Cold renders: the revision is bumped before each request, so every one misses the cache.
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    const cold: string[] = [];
    const pure: string[] = [];
    for (const n of [1000, 2500, FILES]) {
      for (const [format, h] of [
        ['HTML', html],
        ['JSON', json],
      ] as const) {
        const ms: number[] = [];
        for (let i = 0; i < COLD + 2; i++) {
          await ds.query(`UPDATE package_names SET revision = revision + 1 WHERE project_id = $1 AND normalized_name = $2`, [
            big.id,
            `files-${n}`,
          ]);
          const t = performance.now();
          const res = await get(`${projectBase}/files-${n}/`, { agent, headers: h });
          if (res.status !== 200) throw new Error(`cold ${n}: ${res.status}`);
          if (i >= 2) ms.push(performance.now() - t); // the first two warm the JIT
        }
        cold.push(
          `cold page ${String(n).padStart(5)} files ${format}: median ${quantile(ms, 0.5).toFixed(1)} ms (${((quantile(ms, 0.5) / n) * 1000).toFixed(1)} µs/file)`,
        );
      }
      // The render alone, without the queries.
      const files: IndexFile[] = Array.from({ length: n }, (_, i) => ({
        filename: `files_${n}-1.${i >> 1}.0${i % 2 ? '.tar.gz' : '-py3-none-any.whl'}`,
        url: `${s.url}/api/v4/projects/${big.id}/packages/pypi/files/${sha}/files_${n}-1.${i >> 1}.0${i % 2 ? '.tar.gz' : '-py3-none-any.whl'}`,
        version: `1.${i >> 1}.0`,
        sha256: sha,
        size: 5,
        uploadTime: new Date(),
        requiresPython: '>=3.8',
        coreMetadataSha256: i % 2 ? undefined : sha,
      }));
      for (const format of ['html', 'json'] as const) {
        const ms: number[] = [];
        for (let i = 0; i < COLD + 2; i++) {
          const t = performance.now();
          renderProjectPage(`files-${n}`, files, format);
          if (i >= 2) ms.push(performance.now() - t);
        }
        pure.push(
          `render only ${String(n).padStart(5)} files ${format.toUpperCase()}: median ${quantile(ms, 0.5).toFixed(1)} ms (${((quantile(ms, 0.5) / n) * 1000).toFixed(1)} µs/file)`,
        );
      }
    }
    agent.destroy();
    console.log(
      [
        `pypi index bench (${s.mode}, ${CLIENTS} concurrent keep-alive clients, ${REQUESTS} requests per case in ${ROUNDS} interleaved rounds, private project, Basic __token__ PAT, pool ${process.env.BENCH_POOL ?? 10}; seeded in ${seeded.toFixed(0)} ms)`,
        ...cases.map(report),
        ...cold,
        ...pure,
      ].join('\n'),
    );
  });
});
