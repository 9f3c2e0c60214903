#!/usr/bin/env node
// What the package rate limits (`rate_limits`, issue 19) cost on the hot path: an authenticated
// 9 KB generic file GET at 10 connections (wrk), on PostgreSQL, with the limits off (the
// reference), on and counted in Redis (several servers share the counts), and on and counted
// in the process (no `redis.url`), measured in turns; then the check alone, in microseconds.
// Limits are set far above the load, so every request is counted and none refused.
//
//   node bench/run.mjs rate-limits [--seconds=5] [--rounds=5]
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

import {
  atExit,
  benchToken,
  freePort,
  MAIN,
  requireBuild,
  runBench,
  serverEnv,
  spawnChild,
  stopChild,
  testServicesEnv,
  waitReady,
} from './lib/harness.mjs';
import { call } from './lib/measure.cjs';

const run = promisify(execFile);
const args = process.argv.slice(2);
const SECONDS = Number(args.find((a) => a.startsWith('--seconds='))?.split('=')[1] ?? 5);
const ROUNDS = Number(args.find((a) => a.startsWith('--rounds='))?.split('=')[1] ?? 5);
const SMALL = randomBytes(9 * 1024);

const LIMITS_ON = {
  STOWAGE_RATE_LIMITS__THROTTLE_UNAUTHENTICATED_PACKAGES_API_ENABLED: 'true',
  STOWAGE_RATE_LIMITS__THROTTLE_AUTHENTICATED_PACKAGES_API_ENABLED: 'true',
  STOWAGE_RATE_LIMITS__THROTTLE_UNAUTHENTICATED_PACKAGES_API_REQUESTS_PER_PERIOD: '1000000000',
  STOWAGE_RATE_LIMITS__THROTTLE_AUTHENTICATED_PACKAGES_API_REQUESTS_PER_PERIOD: '1000000000',
};

async function wrk(url, headers, seconds = SECONDS) {
  const argv = ['-t', '2', '-c', '10', '-d', `${seconds}s`, '--latency'];
  for (const [k, v] of Object.entries(headers)) argv.push('-H', `${k}: ${v}`);
  const { stdout } = await run('wrk', [...argv, url], { maxBuffer: 1 << 20 });
  const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(stdout)?.[1]);
  const p99m = /99%\s+([\d.]+)(us|ms|s)\b/.exec(stdout);
  const p99 = p99m ? Number(p99m[1]) * { us: 0.001, ms: 1, s: 1000 }[p99m[2]] : NaN;
  const non2xx = Number(/Non-2xx or 3xx responses:\s+(\d+)/.exec(stdout)?.[1] ?? 0);
  if (non2xx) throw new Error(`${url}: ${non2xx} answers were not 2xx`);
  return { rps, p99 };
}

async function must(url, opts, what) {
  const r = await call(url, opts);
  if (r.status >= 300) throw new Error(`${what}: ${r.status} ${r.body.toString().slice(0, 300)}`);
  return JSON.parse(r.body.toString() || 'null');
}

/** A server with `env`, seeded with a user and one generic file: its URL, credentials and process. */
async function startServer(dir, env) {
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const root = benchToken();
  await mkdir(dir, { recursive: true });
  const server = spawnChild(process.execPath, [MAIN, 'serve'], {
    cwd: dir,
    env: serverEnv(port, root, { STOWAGE_SERVER__EXTERNAL_URL: base, ...env }),
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  await waitReady(server, `${base}/-/readiness`);
  const json = { 'private-token': root, 'content-type': 'application/json' };
  const post = (path, body) => must(`${base}${path}`, { method: 'POST', headers: json, body: JSON.stringify(body) }, path);
  const user = await post('/api/v4/users', { username: 'bench', name: 'bench' });
  const { token } = await post(`/api/v4/users/${user.id}/personal_access_tokens`, { name: 'bench', scopes: ['api'] });
  const project = await post('/api/v4/projects', { name: 'files', path: 'files', visibility: 'private' });
  await post(`/api/v4/projects/${project.id}/members`, { user_id: user.id, access_level: 30 });
  const url = `${base}/api/v4/projects/${project.id}/packages/generic/hot/1.0.0/file.bin`;
  const auth = { 'private-token': token };
  await must(url, { method: 'PUT', headers: auth, body: SMALL }, 'generic upload');
  return { server, url, auth };
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/**
 * The check alone, in this process: `PackageRateLimits.check` for one user, sequentially, with
 * the counts in memory and in Redis (one round trip each): microseconds per request.
 */
async function checkCost(redisUrl, prefix) {
  const core = await import('../packages/core/dist/index.js');
  const config = new core.StowageConfig();
  Object.assign(config.rate_limits, {
    throttle_authenticated_packages_api_enabled: true,
    throttle_authenticated_packages_api_requests_per_period: 1e9,
  });
  const out = {};
  for (const [label, url] of [
    ['in the process', undefined],
    ['in Redis', redisUrl],
  ]) {
    config.redis.url = url;
    config.redis.prefix = prefix;
    const limits = new core.PackageRateLimits(config);
    await limits.onModuleInit();
    const auth = { principal: { kind: 'user', user: { id: 1 }, token: { id: 1 } }, rejected: false };
    const request = { ip: '127.0.0.1' };
    for (let i = 0; i < 2000; i++) await limits.check(request, auth);
    const n = 20_000;
    const started = process.hrtime.bigint();
    for (let i = 0; i < n; i++) await limits.check(request, auth);
    out[label] = Number(process.hrtime.bigint() - started) / 1000 / n;
    await limits.onModuleDestroy();
  }
  return out;
}

async function main() {
  requireBuild();
  const dir = await mkdtemp(join(tmpdir(), 'stowage-rate-limits-'));
  atExit(() => rm(dir, { recursive: true, force: true }));
  const withRedis = async () => testServicesEnv(); // a fresh database (and prefix) per server
  const withoutRedis = async () => {
    const env = await testServicesEnv();
    delete env.STOWAGE_REDIS__URL;
    return env;
  };
  // Each configuration beside its reference: the same server without limits (a server
  // without Redis also runs its jobs in process, so it has its own reference).
  const configs = [
    ['with Redis: limits off (reference)', withRedis, {}, 0],
    ['with Redis: limits on, counted in Redis', withRedis, LIMITS_ON, 0],
    ['no Redis: limits off (reference)', withoutRedis, {}, 2],
    ['no Redis: limits on, counted in the process', withoutRedis, LIMITS_ON, 2],
  ];
  // All four up at once, measured in turns (rotating who goes first), so load from anything
  // else on the machine falls on each alike; the median of the rounds is reported.
  const servers = [];
  for (const [i, [, services, limits]] of configs.entries())
    servers.push(await startServer(join(dir, String(i)), { ...(await services()), ...limits }));
  try {
    for (const s of servers) await wrk(s.url, s.auth, 2); // warm-up
    const rounds = configs.map(() => []);
    for (let r = 0; r < ROUNDS; r++) {
      for (let k = 0; k < servers.length; k++) {
        const i = (r + k) % servers.length;
        rounds[i].push(await wrk(servers[i].url, servers[i].auth));
      }
    }
    console.log(
      `\nAuthenticated 9 KB generic GET, 10 connections, PostgreSQL: median of ${ROUNDS} rounds of ${SECONDS} s, load average ${loadavg()[0].toFixed(1)}:`,
    );
    console.log('| run | req/s | vs reference | p99 ms |\n|---|---|---|---|');
    for (const [i, [label, , , ref]] of configs.entries()) {
      const rps = median(rounds[i].map((x) => x.rps));
      const reference = median(rounds[ref].map((x) => x.rps));
      const p99 = median(rounds[i].map((x) => x.p99));
      console.log(`| ${label} | ${rps.toFixed(0)} | ${((rps / reference - 1) * 100).toFixed(1)} % | ${p99.toFixed(2)} |`);
    }
  } finally {
    for (const s of servers) await stopChild(s.server);
  }
  const services = await testServicesEnv();
  const cost = await checkCost(services.STOWAGE_REDIS__URL, services.STOWAGE_REDIS__PREFIX);
  console.log('\nThe check alone (PackageRateLimits.check, sequential, one user):');
  for (const [label, us] of Object.entries(cost)) console.log(`- counted ${label}: ${us.toFixed(1)} µs per request`);
}

await runBench(main);
