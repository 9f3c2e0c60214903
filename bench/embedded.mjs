#!/usr/bin/env node
// The embedded default (PGlite in-process) against PostgreSQL mode, same run, interleaved:
// first start on a fresh data dir (initdb + migrations) and restart, both to /-/readiness 200;
// resident memory idle after start and peak under load; and the rate of a small generic
// package file GET with a token at 10 connections (wrk when installed, else a Node loop).
//
//   node bench/embedded.mjs [--rounds=3] [--seconds=10] [--only=<variant name prefix>,...]
//                           [--baseline=<another build's apps/server/dist/main.js>]
//
// measureServer() is exported for other benchmarks (bench/hot-path/run.mjs): one server start
// of one mode, its figures as an object.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import {
  apiCaller,
  benchToken,
  freePort,
  MAIN,
  requireBuild,
  rssMb,
  rssSampler,
  runBench,
  serverEnv,
  spawnChild,
  stopChild,
  testServicesEnv,
  waitReady,
} from './lib/harness.mjs';
import { call as request, get, inParallel } from './lib/measure.cjs';

const WRK = '/usr/bin/wrk';
const FILE_SIZE = 9 * 1024;

/** The modes compared: the embedded default and PostgreSQL + Redis. `env` is added to the server's. */
export const MODES = {
  embedded: { label: 'embedded (PGlite)', env: async () => ({}) },
  postgres: { label: 'PostgreSQL + Redis', env: testServicesEnv },
};

/** CPU seconds (user + system) a process has used, from /proc. */
async function cpuSeconds(pid) {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100; // utime, stime in clock ticks (USER_HZ 100)
}

async function startServer(dir, env, main, nodeArgs) {
  const started = performance.now();
  const server = spawnChild(process.execPath, [...nodeArgs, main, 'serve'], { cwd: dir, env, stdio: ['ignore', 'ignore', 'inherit'] });
  await waitReady(server, `http://127.0.0.1:${env.STOWAGE_SERVER__PORT}/-/readiness`, 300_000);
  return { server, ms: performance.now() - started, cpuS: await cpuSeconds(server.pid) };
}

/** Polls RSS until it stops falling by more than 1 MB over a second (GC after start), at most 10 s. */
async function settledRss(pid) {
  let last = await rssMb(pid);
  for (let i = 0; i < 10; i++) {
    await new Promise((r) => setTimeout(r, 1000));
    const now = await rssMb(pid);
    if (Math.abs(now - last) < 1) return now;
    last = now;
  }
  return last;
}

function wrk(url, token, seconds, connections) {
  return new Promise((resolve, reject) => {
    execFile(
      WRK,
      ['-t1', `-c${connections}`, `-d${seconds}s`, '-H', `PRIVATE-TOKEN: ${token}`, url],
      { timeout: (seconds + 30) * 1000 },
      (err, out) => {
        if (err) return reject(err);
        const rate = /Requests\/sec:\s+([\d.]+)/.exec(out);
        const count = /(\d+) requests in/.exec(out);
        const non2xx = /Non-2xx or 3xx responses:\s+(\d+)/.exec(out);
        if (!rate) return reject(new Error(`wrk: ${out}`));
        if (non2xx) return reject(new Error(`wrk: ${non2xx[1]} answers were not 2xx`));
        resolve({ rate: Number(rate[1]), count: Number(count[1]) });
      },
    );
  });
}

async function nodeLoop(url, token, seconds, connections) {
  const { Agent } = await import('node:http');
  const agent = new Agent({ keepAlive: true, maxSockets: connections });
  let n = 0;
  const start = performance.now();
  await inParallel(connections, { until: Date.now() + seconds * 1000 }, async () => {
    const r = await get(url, { agent, headers: { 'private-token': token } });
    if (r.status !== 200) throw new Error(`GET ${url}: ${r.status}`);
    n++;
  });
  agent.destroy();
  return { rate: n / ((performance.now() - start) / 1000), count: n };
}

/**
 * Starts `stowage serve` in a fresh temp dir in `mode` ('embedded' or 'postgres') with `env`
 * added, and measures: `firstStartMs` (spawn to readiness on the empty dir), `idleRssMb` (after
 * start, settled), `reqPerSec` of a 9 KiB generic file GET with the token at `connections`,
 * `loadRssMb` (peak during it), then `restartMs` (the same dir again).
 */
export async function measureServer({
  mode = 'embedded',
  env: extra = {},
  main = MAIN,
  nodeArgs = [],
  seconds = 10,
  connections = 10,
} = {}) {
  const dir = await mkdtemp(join(tmpdir(), 'stowage-bench-emb-'));
  try {
    const port = await freePort();
    const token = benchToken();
    const env = serverEnv(port, token, { ...(await MODES[mode].env()), ...extra });
    const base = `http://127.0.0.1:${port}`;

    const first = await startServer(dir, env, main, nodeArgs);
    const idleRssMb = await settledRss(first.server.pid);
    const call = apiCaller(base, token);
    const project = await call('POST', '/api/v4/projects', {
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'bench', path: 'bench' }),
    });
    if (project.status !== 201) throw new Error(`create project: ${project.status} ${project.body}`);
    const path = `/api/v4/projects/${JSON.parse(project.body).id}/packages/generic/bench/1.0.0/file.bin`;
    const body = randomBytes(FILE_SIZE);
    const up = await call('PUT', path, { body });
    if (up.status !== 201) throw new Error(`upload: ${up.status} ${up.body}`);
    const check = await request(`${base}${path}`, { headers: { 'private-token': token } });
    if (check.status !== 200 || !check.body.equals(body)) throw new Error(`GET after upload: ${check.status}`);

    // A short unmeasured warm-up (JIT, caches), then the measured run.
    const load = existsSync(WRK) ? wrk : nodeLoop;
    await load(`${base}${path}`, token, 2, connections);
    const rss = rssSampler(first.server.pid, 'load');
    const cpu0 = await cpuSeconds(first.server.pid);
    const { rate: reqPerSec, count } = await load(`${base}${path}`, token, seconds, connections);
    const cpuMsPerReq = (((await cpuSeconds(first.server.pid)) - cpu0) * 1000) / count;
    rss.stop();
    const exit = await stopChild(first.server);
    if (exit.code !== 0) throw new Error(`server exited with ${exit.code ?? exit.signal}`);

    const again = await startServer(dir, env, main, nodeArgs);
    const restartMs = again.ms;
    await stopChild(again.server);
    return {
      firstStartMs: first.ms,
      firstStartCpuS: first.cpuS,
      restartMs,
      restartCpuS: again.cpuS,
      idleRssMb,
      loadRssMb: rss.peaks.load ?? NaN,
      reqPerSec,
      cpuMsPerReq,
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

/**
 * Runs each of `variants` ({ name, mode, env }) `rounds` times, interleaved, and prints the
 * medians side by side, with each one's request rate relative to the first postgres variant.
 */
export async function compare(variants, { rounds = 3, seconds = 10, connections = 10, log = console.log } = {}) {
  const results = new Map(variants.map((v) => [v.name, []]));
  for (let r = 0; r < rounds; r++) {
    for (const v of variants) {
      const m = await measureServer({ mode: v.mode, env: v.env, main: v.main, nodeArgs: v.nodeArgs, seconds, connections });
      results.get(v.name).push(m);
      log(
        `  round ${r + 1} ${v.name}: start ${(m.firstStartMs / 1000).toFixed(2)} s (${m.firstStartCpuS.toFixed(1)} s CPU), ` +
          `restart ${(m.restartMs / 1000).toFixed(2)} s (${m.restartCpuS.toFixed(1)} s CPU), idle ${m.idleRssMb.toFixed(0)} MB, ` +
          `load ${m.loadRssMb.toFixed(0)} MB, ${m.reqPerSec.toFixed(0)} req/s, ${m.cpuMsPerReq.toFixed(2)} CPU ms/req`,
      );
    }
  }
  const ref = variants.find((v) => v.mode === 'postgres');
  const refRate = ref ? median(results.get(ref.name).map((m) => m.reqPerSec)) : NaN;
  const rows = variants.map((v) => {
    const ms = results.get(v.name);
    const med = (k) => median(ms.map((m) => m[k]));
    return {
      variant: v.name,
      'first start s': (med('firstStartMs') / 1000).toFixed(2),
      'its CPU s': med('firstStartCpuS').toFixed(1),
      'restart s': (med('restartMs') / 1000).toFixed(2),
      'its CPU s ': med('restartCpuS').toFixed(1),
      'idle RSS MB': med('idleRssMb').toFixed(0),
      'peak RSS MB': med('loadRssMb').toFixed(0),
      'req/s': med('reqPerSec').toFixed(0),
      'vs postgres': ref ? (med('reqPerSec') / refRate).toFixed(2) : 'n/a',
      'CPU ms/req': med('cpuMsPerReq').toFixed(2),
    };
  });
  return rows;
}

async function main() {
  const args = process.argv.slice(2);
  const arg = (name, dflt) => args.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3) ?? dflt;
  const rounds = Number(arg('rounds', 3));
  const seconds = Number(arg('seconds', 10));
  const baseline = arg('baseline');
  requireBuild();
  const variants = [
    { name: 'embedded (defaults)', mode: 'embedded' },
    // PostgreSQL's default shared_buffers, as before embedded_shared_buffers.
    {
      name: 'embedded, 128 MiB shared_buffers',
      mode: 'embedded',
      env: { STOWAGE_DATABASE__EMBEDDED_SHARED_BUFFERS: String(128 * 1024 * 1024) },
    },
    // WebAssembly without V8's optimising tier: less memory, slower SQL.
    { name: 'embedded, --liftoff-only', mode: 'embedded', nodeArgs: ['--liftoff-only'] },
    ...(baseline ? [{ name: `embedded, ${baseline}`, mode: 'embedded', main: baseline }] : []),
    { name: 'PostgreSQL + Redis', mode: 'postgres' },
  ].filter(
    (v) =>
      !arg('only') ||
      arg('only')
        .split(',')
        .some((o) => v.name.startsWith(o)),
  );
  console.log(
    `embedded vs PostgreSQL mode: ${rounds} rounds interleaved, medians; ${seconds} s of 9 KiB generic file GETs with a token at 10 connections; ` +
      `CPU ms/req is the server process's (PostgreSQL's own backends not counted); node ${process.version}`,
  );
  console.table(await compare(variants, { rounds, seconds }));
}

if (import.meta.url === `file://${process.argv[1]}`) await runBench(main);
