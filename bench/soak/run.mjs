#!/usr/bin/env node
// Soak: one `stowage serve` on PostgreSQL + Redis under a mixed load of all eight formats for
// --minutes, printing every minute the errors, p50/p99 per operation, and the server's RSS and
// open file descriptors; at the end the per-minute series and whether memory and descriptors
// stayed flat after the warm-up minute. Exits non-zero on any error; asserts nothing else.
//
//   node bench/run.mjs soak [--minutes=30] [--concurrency=6] [--worker] [--clients-every=20]
//        [--timeout=120] [--keep]
//
// --concurrency   operations in flight at once (each one request at a time); keep it modest
//                 on a small machine, the load generator shares the server's cores
// --worker        also start a `stowage worker` and leave jobs to it (jobs.run_in_server=false)
// --clients-every seconds between real-client runs (npm publish / npm install / twine upload /
//                 pip download, in turn); 0 for raw HTTP only
// --timeout       seconds a request may go without an answer before it counts as an error
// --keep          keep the temp dir (server log, storage) and print where it is
//
// The server is apps/server/dist/main.js (build first: `pnpm build`) with a fresh database of
// the test PostgreSQL and its own Redis prefix (STOWAGE_TEST_DATABASE_URL / _REDIS_URL),
// both removed at the end. Every format keeps a few dozen live versions over three package
// names: each operation uploads, reads (metadata checked against what was published and
// deleted, downloads byte for byte) or deletes; once a kind holds 24 live versions its
// uploads are balanced by deletes, so the data stays the same size after the first minute.
// Errors are answers other than the expected status (bodies printed), wrong bytes, listings
// missing a live version or still showing a deleted one, timeouts and client failures.
import { closeSync, openSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';

import {
  apiCaller,
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
} from '../lib/harness.mjs';
import { CLIENT_TIMEOUT_S, realClients } from './clients.mjs';
import { formats } from './formats.mjs';
import { httpClient, Recorded } from './http.mjs';
import { printMinute, printSummary, resourceSampler, Stats } from './stats.mjs';

const args = process.argv.slice(2);
const flag = (name, fallback) => args.find((a) => a.startsWith(`--${name}=`))?.split('=')[1] ?? fallback;
const MINUTES = Number(flag('minutes', 30));
const CONCURRENCY = Number(flag('concurrency', 6));
const CLIENTS_EVERY = Number(flag('clients-every', 20));
const TIMEOUT_S = Number(flag('timeout', 120));
const WORKER = args.includes('--worker');
const KEEP = args.includes('--keep');
const MINUTE_MS = 60_000;

/** Live versions per kind: below MIN only uploads, at CAP every upload becomes a delete. */
const MIN_LIVE = 2;
const CAP = 24;
const UPLOAD_SHARE = 0.2;
const DELETE_SHARE = 0.04;

requireBuild();
for (const [name, v] of [
  ['minutes', MINUTES],
  ['concurrency', CONCURRENCY],
  ['timeout', TIMEOUT_S],
]) {
  if (!Number.isInteger(v) || v < 1) {
    console.error(`--${name} must be a positive integer`);
    process.exit(2);
  }
}
if (!Number.isFinite(CLIENTS_EVERY) || CLIENTS_EVERY < 0) {
  console.error('--clients-every must be 0 or more seconds');
  process.exit(2);
}

const pick = (list) => list[Math.floor(Math.random() * list.length)];
const weighted = (list) => {
  let r = Math.random() * list.reduce((s, x) => s + x.weight, 0);
  return list.find((x) => (r -= x.weight) < 0) ?? list.at(-1);
};

/** Creates the soak's group, project and user (Maintainer, `api` PAT) as root. */
async function setUp(base, rootToken) {
  const api = apiCaller(base, rootToken);
  const json = { 'content-type': 'application/json' };
  const must = async (method, path, body) => {
    const r = await api(method, path, { headers: json, body: JSON.stringify(body) });
    if (r.status >= 300) throw new Error(`${method} ${path}: ${r.status} ${r.body}`);
    return JSON.parse(r.body);
  };
  const group = await must('POST', '/api/v4/groups', { name: 'soak', path: 'soak', visibility: 'private' });
  const project = await must('POST', '/api/v4/projects', { name: 'registry', path: 'registry', namespace_id: group.id });
  const user = await must('POST', '/api/v4/users', { username: 'soaker', name: 'Soaker', admin: false });
  await must('POST', `/api/v4/groups/${group.id}/members`, { user_id: user.id, access_level: 40 });
  const pat = await must('POST', `/api/v4/users/${user.id}/personal_access_tokens`, { name: 'soak', scopes: ['api'] });
  return { group: { id: group.id, path: group.path }, project: { id: project.id }, token: pat.token };
}

/** Counts pino lines at warn (40) and above in the server's log; the first error lines. */
async function logSummary(file) {
  const lines = (await readFile(file, 'utf8').catch(() => '')).split('\n').filter(Boolean);
  const level = (l) => Number(/"level":(\d+)/.exec(l)?.[1] ?? 0);
  const warn = lines.filter((l) => level(l) === 40);
  const errors = lines.filter((l) => level(l) >= 50);
  const other = lines.filter((l) => !/"level":\d+/.test(l));
  return { warn, errors, other };
}

async function main() {
  const dir = await mkdtemp(join(tmpdir(), 'stowage-soak-'));
  if (!KEEP) atExit(() => rm(dir, { recursive: true, force: true }));
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const rootToken = benchToken();
  const services = await testServicesEnv();
  const jobs = WORKER ? { STOWAGE_JOBS__RUN_IN_SERVER: 'false' } : {};
  const env = serverEnv(port, rootToken, { STOWAGE_SERVER__EXTERNAL_URL: base, ...services, ...jobs });
  const logFile = join(dir, 'server.log');
  const log = openSync(logFile, 'a');
  atExit(async () => closeSync(log));

  const server = spawnChild(process.execPath, [MAIN, 'serve'], { cwd: dir, env, stdio: ['ignore', log, log] });
  await waitReady(server, `${base}/-/readiness`);
  const processes = [{ label: 'server', pid: server.pid }];
  let worker;
  if (WORKER) {
    worker = spawnChild(process.execPath, [MAIN, 'worker'], { cwd: dir, env, stdio: ['ignore', log, log] });
    processes.push({ label: 'worker', pid: worker.pid });
  }
  let stopping = false;
  let died;
  const dying = new Promise((resolve) => {
    for (const [label, child] of [
      ['server', server],
      ['worker', worker],
    ].filter(([, c]) => c)) {
      child.once('exit', (code, signal) => {
        if (!stopping) resolve((died = `${label} exited with ${code ?? signal} during the run`));
      });
    }
  });

  const { group, project, token } = await setUp(base, rootToken);
  const stats = new Stats();
  const http = httpClient({ base, maxSockets: CONCURRENCY, stats, timeoutMs: TIMEOUT_S * 1000 });
  atExit(async () => http.close());
  const kinds = formats({ http, project, group, token });
  const pools = Object.fromEntries(Object.entries(kinds).map(([k, f]) => [k, f.pool]));
  const clients = CLIENTS_EVERY > 0 ? realClients({ base, project, group, token, dir, stats, pools }) : [];

  const clientsNote = CLIENTS_EVERY > 0 ? `every ${CLIENTS_EVERY} s` : 'off';
  console.log(
    `soak: ${MINUTES} min, ${CONCURRENCY} operations in flight, ${Object.keys(kinds).length} kinds (${Object.keys(kinds).join(', ')}), ` +
      `real clients ${clientsNote}, ${WORKER ? 'jobs on a separate worker' : 'jobs in the server'}`,
  );
  console.log(
    `server pid ${server.pid}${worker ? `, worker pid ${worker.pid}` : ''}, ` +
      `PostgreSQL ${new URL(services.STOWAGE_DATABASE__URL).pathname.slice(1)}, Redis prefix ${services.STOWAGE_REDIS__PREFIX}, ` +
      `node ${process.version}, load ${loadavg()[0].toFixed(1)}${KEEP ? `, temp dir ${dir}` : ''}`,
  );

  async function timed(op, fn) {
    const t = performance.now();
    try {
      await fn();
      stats.record(op, performance.now() - t);
    } catch (err) {
      if (!(err instanceof Recorded)) stats.error({ op, request: '(load generator)', status: 'exception', body: err.stack ?? String(err) });
    }
  }

  /** One operation of a random kind: upload, delete or a read, as the kind's pool allows. */
  async function step() {
    const [kind, f] = pick(Object.entries(kinds));
    const { pool } = f;
    const live = pool.liveCount;
    const r = Math.random();
    const upload = live < MIN_LIVE || r < UPLOAD_SHARE;
    if ((upload && live >= CAP) || (!upload && r < UPLOAD_SHARE + DELETE_SHARE && live > MIN_LIVE)) {
      const e = pool.takeForDelete();
      if (e) {
        return timed(`${kind}.delete`, async () => {
          try {
            await f.remove(`${kind}.delete`, e);
            pool.gone(e);
          } catch (err) {
            pool.forget(e);
            throw err;
          }
        });
      }
    }
    if (upload && live < CAP) return timed(`${kind}.upload`, async () => pool.add(await f.upload(`${kind}.upload`)));
    const read = weighted(f.reads);
    const e = pool.borrow();
    if (!e) return timed(`${kind}.upload`, async () => pool.add(await f.upload(`${kind}.upload`)));
    try {
      await timed(read.op, () => read.run(read.op, e));
    } finally {
      pool.giveBack(e);
    }
  }

  const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
  const workers = Array.from({ length: CONCURRENCY }, async () => {
    while (!stopping) await step();
  });
  const clientLane = (async () => {
    for (let i = 0; clients.length && !stopping; i++) {
      await sleep(CLIENTS_EVERY * 1000);
      if (stopping) break;
      const c = clients[i % clients.length];
      await timed(c.op, () => c.run(c.op));
    }
  })();

  const sampler = resourceSampler(processes);
  const tmpFiles = () =>
    readdir(join(dir, 'data/packages/tmp')).then(
      (f) => f.length,
      () => 0,
    );
  const started = performance.now();
  let last = started;
  for (let m = 1; m <= MINUTES; m++) {
    await Promise.race([sleep(started + m * MINUTE_MS - performance.now()), dying]);
    if (m === MINUTES || died) {
      stopping = true;
      // Every request ends within --timeout and every client run within CLIENT_TIMEOUT_S.
      await Promise.race([Promise.all([...workers, clientLane]), sleep(Math.max(TIMEOUT_S, CLIENT_TIMEOUT_S) * 1000 + 5000)]);
    }
    const now = performance.now();
    const minute = stats.closeMinute(m, (now - last) / 1000, await sampler.take());
    last = now;
    const live = Object.values(pools).reduce((s, p) => s + p.liveCount, 0);
    printMinute(minute, MINUTES, `tmp files ${await tmpFiles()}, live versions ${live}`);
    if (died) {
      console.log(`\n${died}: stopping`);
      stats.error({ op: 'server', request: '-', status: 'exited', body: died });
      break;
    }
  }
  sampler.stop();

  printSummary(stats, { concurrency: CONCURRENCY });
  console.log(`temp files left in storage tmp/: ${await tmpFiles()}`);
  if (!died) {
    const t = performance.now();
    const exits = await Promise.all(processes.map((p) => stopChild(p.label === 'server' ? server : worker)));
    const how = exits.map((e, i) => `${processes[i].label} exit ${e.code ?? e.signal}`).join(', ');
    console.log(`shutdown (SIGTERM): ${how} in ${((performance.now() - t) / 1000).toFixed(1)} s`);
  }
  const logs = await logSummary(logFile);
  const where = KEEP ? ` in ${logFile}` : '';
  console.log(`server log: ${logs.warn.length} warnings, ${logs.errors.length} errors, ${logs.other.length} other lines${where}`);
  for (const l of [...logs.errors, ...logs.warn].slice(0, 5)) console.log(`  ${l.slice(0, 600)}`);
  for (const l of logs.other.slice(0, 5)) console.log(`  ${l.slice(0, 300)}`);
  console.log(`\n${stats.totalErrors === 0 ? 'PASS' : 'FAIL'}: ${stats.totalErrors} errors`);
  return stats.totalErrors === 0 ? 0 : 1;
}

await runBench(main);
