import { Agent } from 'node:http';

import { startTestServer, type TestServer } from '@stowage/testkit';

import { goFormat } from '../../packages/format-go/src';
import { moduleZip } from '../../packages/format-go/test/go.fixtures';
import { get, latencies } from '../lib/measure.cjs';

// What the go command's reads cost against a module with many versions, next to the cost of
// the misses it probes (`example.com/a/b/@v/list` before `example.com/a/@v/list`), and how
// long publishing takes (each zip is stored, read back and fully verified).

const VERSIONS = Number(process.env.BENCH_VERSIONS ?? 300);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 300);
const MODULE = 'example.com/bench/lib';

describe(`go proxy reads (${process.env.BENCH_MODE ?? 'postgres'})`, () => {
  let s: TestServer;
  afterAll(() => s?.close());

  it('measures', async () => {
    s = await startTestServer({ formats: [goFormat], mode: (process.env.BENCH_MODE as never) ?? 'postgres', listen: true });
    const user = await s.api.createUser('bench');
    const project = await s.api.createProject('bench');
    await s.api.addMember({ project: project.id }, user.id, 40);
    const base = `${s.url}/api/v4/projects/${project.id}/packages/go`;
    const lines: string[] = [];

    const files = (v: string) => ({ 'go.mod': `module ${MODULE}\n`, 'lib.go': `package lib\n\nconst V = "${v}"\n` });
    const t0 = performance.now();
    for (let i = 0; i < VERSIONS; i++) {
      const v = `v1.${i}.0`;
      const res = await s.api.inject({
        method: 'PUT',
        url: `${base.slice(s.url.length)}/${MODULE}/@v/${v}.zip`,
        payload: moduleZip(MODULE, v, files(v)),
        token: user.token,
        headers: { 'content-type': 'application/zip' },
      });
      if (res.status !== 201) throw new Error(`${v}: ${res.status} ${res.body}`);
    }
    lines.push(`publish ${VERSIONS} small versions: ${((performance.now() - t0) / VERSIONS).toFixed(1)} ms each`);

    const big: Record<string, string> = { 'go.mod': `module example.com/bench/big\n` };
    for (let i = 0; i < 2000; i++) big[`pkg${i % 50}/f${i}.go`] = `package pkg\n\n// ${'x'.repeat(4000)}${i}\n`;
    const bigZip = moduleZip('example.com/bench/big', 'v1.0.0', big);
    const t1 = performance.now();
    const res = await s.api.inject({
      method: 'PUT',
      url: `${base.slice(s.url.length)}/example.com/bench/big/@v/v1.0.0.zip`,
      payload: bigZip,
      token: user.token,
      headers: { 'content-type': 'application/zip' },
    });
    if (res.status !== 201) throw new Error(`big: ${res.status} ${res.body}`);
    lines.push(
      `publish one zip of 2000 files (${(bigZip.length / 1024).toFixed(0)} KiB zipped, 8 MB unzipped): ${(performance.now() - t1).toFixed(0)} ms`,
    );

    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    const headers = { 'private-token': user.token };
    const timed = async (label: string, path: string, want: number) => {
      const ms: number[] = [];
      let bytes = 0;
      for (let i = 0; i < ROUNDS; i++) {
        const start = performance.now();
        const r = await get(`${base}/${path}`, { agent, headers });
        ms.push(performance.now() - start);
        if (r.status !== want) throw new Error(`${label}: ${r.status}`);
        bytes = r.bytes;
      }
      lines.push(`${label.padEnd(34)} ${String(bytes).padStart(7)} B  ${latencies(ms, { quantiles: [0.5, 0.95], digits: 2 })}`);
    };
    await timed(`@v/list (${VERSIONS} versions)`, `${MODULE}/@v/list`, 200);
    await timed(`@latest (${VERSIONS} versions)`, `${MODULE}/@latest`, 200);
    await timed('.info', `${MODULE}/@v/v1.7.0.info`, 200);
    await timed('.mod', `${MODULE}/@v/v1.7.0.mod`, 200);
    await timed('.zip', `${MODULE}/@v/v1.7.0.zip`, 200);
    await timed('miss: unknown module @v/list', 'example.com/bench/lib/sub/pkg/@v/list', 404);
    await timed('miss: unknown version .info', `${MODULE}/@v/v9.9.9.info`, 404);
    await timed('miss: not a proxy path', 'example.com/bench/lib/whatever', 404);
    agent.destroy();
    console.log(`go proxy bench (${s.mode}, ${ROUNDS} sequential keep-alive requests each, private project, PAT)\n${lines.join('\n')}`);
  });
});
