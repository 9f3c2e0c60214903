import { createHash, randomBytes } from 'node:crypto';
import { existsSync, statSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { get as httpGet } from 'node:http';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

import { clearRedisPrefix, createTestDatabase, TEST_REDIS_URL, uniqueName } from '@stowage/testkit';

import {
  describeProc,
  finished,
  freePort,
  MAIN,
  type Proc,
  ready,
  running,
  SERVER_DIR,
  stop,
  stowage,
  TOKEN_ANNOUNCEMENT,
} from './server-process';

const cleanups: (() => Promise<unknown>)[] = [];

async function rssMb(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const kb = Number(/VmRSS:\s+(\d+)\s+kB/.exec(status)![1]);
  return Math.round(kb / 1024);
}

function tokensAnnounced(p: Proc): string[] {
  return [...p.stdout().matchAll(TOKEN_ANNOUNCEMENT)].map((m) => m[1]);
}

async function json(res: Response): Promise<any> {
  const text = await res.text();
  try {
    return JSON.parse(text);
  } catch {
    throw new Error(`not JSON (${res.status}): ${text.slice(0, 500)}`);
  }
}

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

/** Downloads with backpressure: reads one chunk, then waits for `resume` before reading the rest. */
function slowDownload(
  url: string,
  token: string,
  resume: Promise<void>,
): { firstChunk: Promise<void>; body: Promise<{ status: number; bytes: Buffer }> } {
  let gotFirst!: () => void;
  const firstChunk = new Promise<void>((r) => (gotFirst = r));
  const body = new Promise<{ status: number; bytes: Buffer }>((res, rej) => {
    httpGet(url, { headers: { 'private-token': token } }, (response) => {
      const chunks: Buffer[] = [];
      response.once('data', (c: Buffer) => {
        chunks.push(c);
        response.pause();
        gotFirst();
        void resume.then(() => {
          response.on('data', (d: Buffer) => chunks.push(d));
          response.resume();
        });
      });
      response.on('end', () => res({ status: response.statusCode!, bytes: Buffer.concat(chunks) }));
      response.on('error', rej);
      response.on('aborted', () => rej(new Error('download aborted')));
    }).on('error', rej);
  });
  return { firstChunk, body };
}

beforeAll(() => {
  if (!existsSync(MAIN)) {
    throw new Error(`${MAIN} is missing: build the server first (cd ${resolve(SERVER_DIR, '../..')} && npx tsc -b apps/server)`);
  }
  const built = statSync(MAIN).mtimeMs;
  const newer = ['main.ts', 'commands.ts', 'load-config.ts', 'plugins.ts', 'cli.ts', 'packages-commands.ts'].filter(
    (f) =>
      existsSync(join(SERVER_DIR, 'src', f)) &&
      statSync(join(SERVER_DIR, 'src', f)).mtimeMs > Math.max(built, statSync(join(SERVER_DIR, 'dist', f.replace(/\.ts$/, '.js'))).mtimeMs),
  );
  if (newer.length) console.warn(`apps/server/dist may be stale (src newer: ${newer.join(', ')}); run npx tsc -b apps/server`);
});

afterAll(async () => {
  for (const p of running) p.child.kill('SIGKILL');
  await Promise.all([...running].map((p) => p.exited));
  for (const c of cleanups.reverse()) await c().catch(() => undefined);
});

describe('stowage serve on the embedded default, with no config at all', () => {
  let dir: string;
  let base: string;
  let port: number;
  let rootToken: string;
  let projectId: number;
  const small = randomBytes(64 * 1024);
  const big = randomBytes(32 * 1024 * 1024);
  const fileUrl = (name: string) => `${base}/api/v4/projects/${projectId}/packages/generic/cli-test/1.0.0/${name}`;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'stowage-cli-'));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    port = await freePort();
    base = `http://127.0.0.1:${port}`;
  });

  it('first start: serves on STOWAGE_SERVER__PORT, data under ./data, prints the root token once, probes ok', async () => {
    expect(await readdir(dir)).toEqual([]); // no stowage.yml, nothing
    const p = stowage(['serve'], dir, { STOWAGE_SERVER__PORT: String(port) });
    const startup = await ready(p, base);
    const rss = await rssMb(p.pid);
    console.log(`embedded first start (initdb + migrations): ready in ${startup} ms, RSS ${rss} MB`);

    const tokens = tokensAnnounced(p);
    expect(tokens).toHaveLength(1);
    rootToken = tokens[0];
    expect(rootToken).toMatch(/^stwpat-/);
    expect(p.stderr()).not.toContain(rootToken);
    expect(p.stdout().split(rootToken)).toHaveLength(2); // shown exactly once, never logged

    expect(existsSync(join(dir, 'data', 'db'))).toBe(true);
    expect(existsSync(join(dir, 'data', 'packages'))).toBe(true);
    expect(await readdir(dir)).toEqual(['data']);

    for (const probe of ['health', 'liveness']) {
      const res = await fetch(`${base}/-/${probe}`);
      expect(res.status).toBe(200);
      expect(await json(res)).toEqual({ status: 'ok' });
    }
    const readiness = await fetch(`${base}/-/readiness`);
    expect(readiness.status).toBe(200);
    expect(await json(readiness)).toEqual({
      status: 'ok',
      checks: { database: { status: 'ok' }, queue: { status: 'ok' }, storage_local: { status: 'ok' } },
    });

    const me = await fetch(`${base}/api/v4/user`, { headers: { 'PRIVATE-TOKEN': rootToken } });
    expect(me.status).toBe(200);
    expect(await json(me)).toMatchObject({ username: 'root', is_admin: true });
    const wrong = await fetch(`${base}/api/v4/user`, { headers: { 'PRIVATE-TOKEN': `${rootToken}x` } });
    expect(wrong.status).toBe(401);

    // upload with plain fetch, as a client would
    const created = await fetch(`${base}/api/v4/projects`, {
      method: 'POST',
      headers: { 'PRIVATE-TOKEN': rootToken, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'cli-test', path: 'cli-test' }),
    });
    expect(created.status).toBe(201);
    projectId = (await json(created)).id;
    for (const [name, bytes] of [
      ['small.bin', small],
      ['big.bin', big],
    ] as const) {
      const put = await fetch(fileUrl(name), { method: 'PUT', headers: { 'PRIVATE-TOKEN': rootToken }, body: bytes });
      expect([put.status, await put.text()]).toEqual([201, JSON.stringify({ message: '201 Created' })]);
    }

    // SIGTERM with a download in flight: the download completes, the process exits 0
    let resume!: () => void;
    const resumed = new Promise<void>((r) => (resume = r));
    const dl = slowDownload(fileUrl('big.bin'), rootToken, resumed);
    await dl.firstChunk;
    p.child.kill('SIGTERM');
    await new Promise((r) => setTimeout(r, 500));
    expect(running.has(p)).toBe(true); // still serving the download
    resume();
    const { status, bytes } = await dl.body;
    expect(status).toBe(200);
    expect(bytes.length).toBe(big.length);
    expect(sha256(bytes)).toBe(sha256(big));
    const exit = await finished(p, 30_000);
    expect(exit).toMatchObject({ code: 0, signal: null });
    expect(p.stdout()).toContain('SIGTERM received, shutting down');
    await expect(fetch(`${base}/-/health`)).rejects.toThrow(); // no longer listening
  }, 90_000);

  it('restart in the same dir: no new token, the old one works, the data is still there', async () => {
    expect(rootToken).toBeDefined();
    const p = stowage(['serve'], dir, { STOWAGE_SERVER__PORT: String(port) });
    const startup = await ready(p, base);
    console.log(`embedded restart (existing data dir): ready in ${startup} ms, RSS ${await rssMb(p.pid)} MB`);
    expect(tokensAnnounced(p)).toEqual([]);
    expect(p.stdout()).not.toContain('stwpat-');
    // pino JSON logs, one line per request with its request id
    const requestLogs = p
      .stdout()
      .split('\n')
      .filter((l) => l.includes('"incoming request"'))
      .map((l) => JSON.parse(l));
    expect(requestLogs.length).toBeGreaterThan(0);
    expect(requestLogs[0]).toMatchObject({ level: 30, req: { method: 'GET', url: '/-/readiness' } });
    expect(typeof requestLogs[0].reqId).toBe('string');

    const me = await fetch(`${base}/api/v4/user`, { headers: { 'PRIVATE-TOKEN': rootToken } });
    expect(me.status).toBe(200);
    expect((await json(me)).username).toBe('root');
    for (const bytes of [small, big]) {
      const res = await fetch(fileUrl(bytes === small ? 'small.bin' : 'big.bin'), { headers: { 'PRIVATE-TOKEN': rootToken } });
      expect(res.status).toBe(200);
      expect(res.headers.get('content-length')).toBe(String(bytes.length));
      expect(sha256(Buffer.from(await res.arrayBuffer()))).toBe(sha256(bytes));
    }
    const listed = await fetch(`${base}/api/v4/projects/${projectId}/packages`, { headers: { 'PRIVATE-TOKEN': rootToken } });
    expect((await json(listed)).map((x: { name: string; version: string }) => `${x.name}@${x.version}`)).toEqual(['cli-test@1.0.0']);

    expect(await stop(p)).toMatchObject({ code: 0, signal: null });
  }, 60_000);

  it('stowage migrate-db on the embedded database exits 0', async () => {
    const p = stowage(['migrate-db'], dir);
    const r = await finished(p, 60_000);
    expect([r.code, p.stderr()]).toEqual([0, '']);
    expect(p.stdout()).toMatch(/database schema is up to date \([1-9]\d* migrations applied\)/);
  }, 60_000);
});

describe('the CLI refuses what it cannot run', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'stowage-cli-bad-'));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
  });

  it('a bad config exits non-zero quickly, listing every problem as key.path: what is wrong, without starting', async () => {
    await writeFile(
      join(dir, 'stowage.yml'),
      'colour: blue\nserver:\n  host: 127.0.0.1\n  prot: 8080\npackages:\n  object_store:\n    enabled: perhaps\n',
    );
    const p = stowage(['serve'], dir, { STOWAGE_SERVER__PORT: 'abc' });
    const r = await finished(p, 30_000);
    console.log(`bad config refused in ${r.ms} ms`);
    expect(r.code).not.toBe(0);
    expect(r.code).toBe(78);
    const problems = p
      .stderr()
      .split('\n')
      .filter((l) => l.startsWith('  - '))
      .map((l) => l.slice(4))
      .sort();
    expect(problems).toEqual(
      [
        'colour: unknown key',
        'server.prot: unknown key',
        'server.port: must be an integer number',
        'packages.object_store.enabled: must be a boolean value',
      ].sort(),
    );
    expect(p.stderr()).toMatch(/^stowage: invalid configuration:\n/);
    expect(p.stdout()).not.toMatch(/listening|Starting Nest/);
    expect(await readdir(dir)).toEqual(['stowage.yml']); // no data dir created
  }, 40_000);

  it('STOWAGE_CONFIG pointing nowhere is refused; --config FILE is read instead of ./stowage.yml', async () => {
    await writeFile(join(dir, 'other.yml'), 'database:\n  url: mysql://db/stowage\n');
    const missing = stowage(['serve'], dir, { STOWAGE_CONFIG: join(dir, 'missing.yml') });
    const other = stowage(['--config', 'other.yml', 'migrate-db'], dir);
    const [rMissing, ro] = await Promise.all([finished(missing, 30_000), finished(other, 30_000)]);
    expect(rMissing.code).toBe(78);
    expect(missing.stderr()).toContain(`${join(dir, 'missing.yml')}: cannot be read (ENOENT)`);
    expect(ro.code).toBe(78);
    expect(other.stderr()).toBe('stowage: invalid configuration:\n  - database.url: must be a postgres:// URL\n');
  }, 40_000);

  it('an unknown command exits 2 with usage; no command prints usage and exits 0', async () => {
    const [bad, none] = [stowage(['nonsense'], dir), stowage([], dir)];
    const [rb, rn] = await Promise.all([finished(bad), finished(none)]);
    expect(rb.code).toBe(2);
    expect(bad.stderr()).toContain('stowage: unknown command "nonsense"');
    expect(bad.stderr()).toContain('Usage: stowage [--config FILE] <command>');
    for (const c of ['serve', 'worker', 'migrate-db']) expect(bad.stderr()).toContain(`  ${c} `);
    expect(rn.code).toBe(0);
    expect(none.stdout()).toMatch(/^Usage: stowage/);
  }, 40_000);

  it('--help lists every command; bad flags exit 2 before any config is read', async () => {
    const help = stowage(['--help'], dir);
    const badTo = stowage(['packages', 'migrate', '--to', 'elsewhere'], dir);
    const badBatch = stowage(['packages', 'migrate', '--batch=0'], dir);
    const unknownFlag = stowage(['serve', '--prot', '80'], dir);
    const [rh, rt, rb, ru] = await Promise.all([help, badTo, badBatch, unknownFlag].map((p) => finished(p)));
    expect(rh.code).toBe(0);
    for (const c of ['serve', 'worker', 'migrate-db', 'packages', 'help']) expect(help.stdout()).toContain(`  ${c} `);
    expect([rt.code, rb.code, ru.code]).toEqual([2, 2, 2]);
    expect(badTo.stderr()).toMatch(/^stowage: option '--to <store>' argument 'elsewhere' is invalid\. Allowed choices are object, local\./);
    expect(badBatch.stderr()).toMatch(/^stowage: option '--batch <n>' argument '0' is invalid\. must be a positive integer\./);
    expect(unknownFlag.stderr()).toMatch(/^stowage: unknown option '--prot'/);
  }, 40_000);
});

describe('stowage serve + stowage worker on PostgreSQL and Redis', () => {
  it('migrate-db, then serve and worker start and stop cleanly; the operator-chosen root token and a plugin from plugins: work', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'stowage-cli-pg-'));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    const db = await createTestDatabase();
    cleanups.push(db.drop);
    const prefix = uniqueName('stowage-cli');
    cleanups.push(() => clearRedisPrefix(prefix));
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;

    // a third-party plugin in the operator's node_modules, built against the server's @stowage/core
    const core = require.resolve('@stowage/core', { paths: [SERVER_DIR] }).replace(/\/src\/index\.ts$/, '/dist/index.js');
    const nest = require.resolve('@nestjs/common', { paths: [SERVER_DIR] });
    await mkdir(join(dir, 'node_modules', 'stowage-format-hello'), { recursive: true });
    await writeFile(
      join(dir, 'node_modules', 'stowage-format-hello', 'index.js'),
      `const core = require(${JSON.stringify(core)});
const common = require(${JSON.stringify(nest)});
class HelloController { hello() { return { hello: 'world' }; } }
common.Get('hello')(HelloController.prototype, 'hello', Object.getOwnPropertyDescriptor(HelloController.prototype, 'hello'));
common.Controller('api/v4/hello-format')(HelloController);
class HelloModule { static register() { return { module: HelloModule, controllers: [HelloController] }; } }
module.exports = { helloFormat: core.defineFormatPlugin({ name: 'hello', module: HelloModule }) };
`,
    );
    await writeFile(
      join(dir, 'stowage.yml'),
      [
        `database:`,
        `  url: ${db.url}`,
        `redis:`,
        `  url: ${TEST_REDIS_URL}`,
        `  prefix: ${prefix}`,
        `plugins: [stowage-format-hello]`,
        `jobs:`,
        `  run_in_server: false`,
        '',
      ].join('\n'),
    );
    const rootToken = `operator-chosen-${randomBytes(12).toString('hex')}`;
    const env = { STOWAGE_SERVER__PORT: String(port), STOWAGE_SERVER__HOST: '127.0.0.1', STOWAGE_ROOT_TOKEN: rootToken };
    const workerMetricsPort = await freePort();

    const migrate = stowage(['migrate-db'], dir, env);
    const m = await finished(migrate, 30_000);
    expect([m.code, migrate.stderr()]).toEqual([0, '']);
    expect(migrate.stdout()).toMatch(/database schema is up to date \([1-9]\d* migrations applied\)/);

    const server = stowage(['serve'], dir, env);
    const worker = stowage(['worker'], dir, { ...env, STOWAGE_MONITORING__WORKER_METRICS_PORT: String(workerMetricsPort) });
    const startup = await ready(server, base);
    const workerDeadline = Date.now() + 30_000;
    while (!worker.stdout().includes('stowage worker running (redis queue)')) {
      if (!running.has(worker) || Date.now() > workerDeadline) throw new Error(`worker did not start${describeProc(worker)}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    console.log(
      `postgres+redis: serve ready in ${startup} ms, RSS ${await rssMb(server.pid)} MB; worker RSS ${await rssMb(worker.pid)} MB`,
    );

    const readiness = await fetch(`${base}/-/readiness`);
    expect(await json(readiness)).toEqual({
      status: 'ok',
      checks: { database: { status: 'ok' }, queue: { status: 'ok' }, storage_local: { status: 'ok' } },
    });
    expect(tokensAnnounced(server)).toEqual([]);
    expect(server.stdout() + worker.stdout()).not.toContain(rootToken);
    const me = await fetch(`${base}/api/v4/user`, { headers: { 'PRIVATE-TOKEN': rootToken } });
    expect(me.status).toBe(200);
    expect(await json(me)).toMatchObject({ username: 'root', is_admin: true });
    const hello = await fetch(`${base}/api/v4/hello-format/hello`);
    expect([hello.status, await hello.text()]).toEqual([200, '{"hello":"world"}']);
    // The third-party format's route is counted under its own format; the worker has metrics of its own.
    const metrics = await (await fetch(`${base}/-/metrics`)).text();
    expect(metrics).toContain('stowage_http_requests_total{format="hello",method="GET",route="/api/v4/hello-format/hello",status="200"} 1');
    const workerMetrics = await fetch(`http://127.0.0.1:${workerMetricsPort}/-/metrics`);
    expect([workerMetrics.status, workerMetrics.headers.get('content-type')]).toEqual([200, 'text/plain; version=0.0.4; charset=utf-8']);
    expect(await workerMetrics.text()).toContain('# TYPE stowage_job_queue_jobs gauge');
    const listening = server
      .stdout()
      .split('\n')
      .filter((l) => l.includes('stowage listening on'))
      .map((l) => JSON.parse(l));
    expect(listening).toHaveLength(1);
    expect(listening[0]).toMatchObject({ database: 'postgres', queue: 'redis', msg: `stowage listening on 127.0.0.1:${port}` });
    expect(listening[0].formats).toEqual(expect.arrayContaining(['generic', 'hello']));
    expect(existsSync(join(dir, 'data', 'db'))).toBe(false); // no embedded database in this mode

    const [s, w] = await Promise.all([stop(server), stop(worker)]);
    console.log(`postgres+redis: serve stopped in ${s.ms} ms, worker in ${w.ms} ms`);
    expect(s).toMatchObject({ code: 0, signal: null });
    expect(w).toMatchObject({ code: 0, signal: null });
    expect(worker.stderr()).toBe('');
  }, 80_000);
});
