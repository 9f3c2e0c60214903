import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';

import { http, type HttpResult, startTestServer, testModes, type TestProject, type TestServer } from '@stowage/testkit';
import { DataSource } from 'typeorm';

import { COLLECT_BLOBS_JOB, FileStorage, JobQueue, listenerPort, listenForMetrics, resolveConfig, StowageMetrics } from '../src';
import { genericFormat, genericPath } from './generic-fixture';

// Issue 19, item 6: /-/metrics in Prometheus' text format, answered only to
// monitoring.ip_whitelist; after real traffic its counters move by exactly what was sent.

const DASHBOARD = join(__dirname, '../../../docs/grafana/stowage-dashboard.json');
const GENERIC_ROUTE = '/api/v4/projects/:id/packages/generic/:package_name/:package_version/*';

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** The samples of a scrape in the text format (`name{a="b",…} value`). */
function parseSamples(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m) throw new Error(`not a sample line: ${line}`);
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) labels[l[1]] = l[2];
    samples.push({ name: m[1], labels, value: Number(m[3]) });
  }
  return samples;
}

/** The sum of the samples of `name` whose labels include `labels`. */
function total(samples: Sample[], name: string, labels: Record<string, string> = {}): number {
  return samples
    .filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))
    .reduce((n, s) => n + s.value, 0);
}

describe.each(testModes())('/-/metrics (%s)', (mode) => {
  let s: TestServer;
  let project: TestProject;

  const scrape = async (remoteAddress = '127.0.0.1') => s.app.inject({ method: 'GET', url: '/-/metrics', remoteAddress });
  const samples = async () => parseSamples((await scrape()).body);

  beforeAll(async () => {
    s = await startTestServer({ formats: [genericFormat], mode });
    project = await s.api.createProject('metered', { visibility: 'private' });
  });
  afterAll(() => s?.close());

  it('answers the allow-list in the text format and anyone else with a plain 404', async () => {
    const inside = await scrape('127.0.0.1');
    expect(inside.statusCode).toBe(200);
    expect(inside.headers['content-type']).toBe('text/plain; version=0.0.4; charset=utf-8');
    expect(inside.body).toContain('# TYPE stowage_http_requests_total counter');
    expect(inside.body).toContain('# TYPE process_cpu_seconds_total counter');
    expect(inside.body).toContain('# TYPE nodejs_eventloop_lag_seconds gauge');
    for (const address of ['10.1.2.3', '2001:db8::1']) {
      const outside = await scrape(address);
      expect(outside.statusCode).toBe(404);
      expect(JSON.parse(outside.body)).toEqual({ message: '404 Not Found' });
    }
    // Over a real connection from loopback too.
    const real = await http(s.url, { path: '/-/metrics' });
    expect(real.status).toBe(200);
    expect(real.headers['content-type']).toBe('text/plain; version=0.0.4; charset=utf-8');
  });

  it('counts requests, latency and body bytes by format, route pattern and status: exactly the traffic sent', async () => {
    const name = `metered-${randomBytes(4).toString('hex')}`;
    const file = randomBytes(200 * 1024); // past the small-file cache: a download opens the store
    const path = genericPath(project.id, `${name}/1.0.0/file.bin`);
    const before = await samples();
    const upload = await http(s.url, { method: 'PUT', path, token: s.rootToken, body: file });
    expect(upload.status).toBe(201);
    const download = await http(s.url, { path, token: s.rootToken });
    expect(download.status).toBe(200);
    const missing = await http(s.url, { path: genericPath(project.id, `${name}/1.0.0/absent.bin`), token: s.rootToken });
    expect(missing.status).toBe(404);
    const anonymous = await http(s.url, { path });
    expect(anonymous.status).toBe(401);
    const unrouted = await http(s.url, { method: 'POST', path: `/nothing/here/${name}`, body: 'x' });
    expect(unrouted.status).toBe(404);
    const after = await samples();

    const moved = (metric: string, labels: Record<string, string>) => total(after, metric, labels) - total(before, metric, labels);
    const generic = (method: string, status: string) => ({ format: 'generic', method, route: GENERIC_ROUTE, status });
    expect(moved('stowage_http_requests_total', generic('PUT', '201'))).toBe(1);
    expect(moved('stowage_http_requests_total', generic('GET', '200'))).toBe(1);
    expect(moved('stowage_http_requests_total', generic('GET', '404'))).toBe(1);
    expect(moved('stowage_http_requests_total', generic('GET', '401'))).toBe(1);
    expect(moved('stowage_http_requests_total', { format: 'generic' })).toBe(4);
    expect(moved('stowage_http_requests_total', { format: 'core', method: 'POST', route: 'unmatched', status: '404' })).toBe(1);

    const latency = { format: 'generic', method: 'GET', route: GENERIC_ROUTE };
    expect(moved('stowage_http_request_duration_seconds_count', latency)).toBe(3);
    expect(moved('stowage_http_request_duration_seconds_bucket', { ...latency, le: '+Inf' })).toBe(3);
    expect(moved('stowage_http_request_duration_seconds_sum', latency)).toBeGreaterThan(0);

    const bodies = (...rs: HttpResult[]) => rs.reduce((n, r) => n + r.body.length, 0);
    expect(download.body.equals(file)).toBe(true);
    expect(moved('stowage_http_received_bytes_total', { format: 'generic' })).toBe(file.length);
    expect(moved('stowage_http_sent_bytes_total', { format: 'generic' })).toBe(bodies(upload, download, missing, anonymous));
    expect(moved('stowage_http_received_bytes_total', { format: 'core' })).toBe(1);

    // Bounded labels: route patterns only, never a package name, a path or an id.
    const routes = new Set(after.filter((x) => x.labels.route !== undefined).map((x) => x.labels.route));
    for (const route of routes) {
      expect(route).not.toContain(name);
      expect(route).not.toMatch(/\/\d+(\/|$)/);
    }
  });

  it('counts and times blob store operations per store', async () => {
    const store = s.app.get(FileStorage).uploadStore().kind;
    const path = genericPath(project.id, `stored/1.0.0/blob.bin`);
    const before = await samples();
    expect((await http(s.url, { method: 'PUT', path, token: s.rootToken, body: randomBytes(1000) })).status).toBe(201);
    const after = await samples();
    const moved = (metric: string, labels: Record<string, string>) => total(after, metric, labels) - total(before, metric, labels);
    expect(moved('stowage_blob_store_operations_total', { store, operation: 'put' })).toBe(1);
    expect(moved('stowage_blob_store_operation_duration_seconds_count', { store, operation: 'put' })).toBe(1);
    expect(moved('stowage_blob_store_errors_total', { store, operation: 'put' })).toBe(0);
    // The readiness probe checks every store.
    await s.app.inject({ method: 'GET', url: '/-/readiness', remoteAddress: '127.0.0.1' });
    expect(total(await samples(), 'stowage_blob_store_operations_total', { store: 'local', operation: 'check' })).toBeGreaterThan(
      total(after, 'stowage_blob_store_operations_total', { store: 'local', operation: 'check' }),
    );
  });

  it('reports the job queue, the database pool and the latest migration run', async () => {
    const now = await samples();
    for (const state of ['waiting', 'active', 'failed'])
      expect(now.some((x) => x.name === 'stowage_job_queue_jobs' && x.labels.queue === 'stowage' && x.labels.state === state)).toBe(true);
    const database = mode === 'postgres' ? 'postgres' : 'embedded';
    expect(total(now, 'stowage_db_pool_max_connections', { database })).toBe(mode === 'postgres' ? 5 : 1);
    expect(total(now, 'stowage_db_pool_connections', { database })).toBeGreaterThanOrEqual(1);
    expect(now.some((x) => x.name === 'stowage_db_pool_waiting_clients' && x.labels.database === database)).toBe(true);
    expect(now.some((x) => x.name === 'stowage_blob_migration_blobs')).toBe(false);

    // A run as `stowage packages migrate` records it after a batch.
    await s.app
      .get(DataSource)
      .query(
        `INSERT INTO blob_migration_runs (id, target, total, done, moved, skipped, failed, bytes) VALUES (gen_random_uuid(), 'object', 10, 4, 3, 1, 0, 12345)`,
      );
    const run = await samples();
    expect(total(run, 'stowage_blob_migration_blobs', { target: 'object', state: 'total' })).toBe(10);
    expect(total(run, 'stowage_blob_migration_blobs', { target: 'object', state: 'done' })).toBe(4);
    expect(total(run, 'stowage_blob_migration_blobs', { target: 'object', state: 'moved' })).toBe(3);
    expect(total(run, 'stowage_blob_migration_moved_bytes', { target: 'object' })).toBe(12345);
    expect(total(run, 'stowage_blob_migration_running', { target: 'object' })).toBe(1);
  });

  it('counts the job attempts this process runs, and times them', async () => {
    const before = await samples();
    await s.app.get(JobQueue).add(COLLECT_BLOBS_JOB, {});
    await s.drainJobs();
    const after = await samples();
    const moved = (metric: string, labels: Record<string, string>) => total(after, metric, labels) - total(before, metric, labels);
    expect(moved('stowage_jobs_processed_total', { job: COLLECT_BLOBS_JOB, result: 'completed' })).toBe(1);
    expect(moved('stowage_jobs_processed_total', { job: COLLECT_BLOBS_JOB, result: 'failed' })).toBe(0);
    expect(moved('stowage_job_duration_seconds_count', { job: COLLECT_BLOBS_JOB })).toBe(1);
  });

  it('the Grafana dashboard parses and queries only metrics a scrape has', async () => {
    const dashboard = JSON.parse(await readFile(DASHBOARD, 'utf8'));
    expect(dashboard.title).toEqual(expect.any(String));
    expect(dashboard.schemaVersion).toEqual(expect.any(Number));
    const panels: { title: string; targets?: { expr: string }[] }[] = dashboard.panels.flatMap(
      (p: { panels?: unknown[] }) => p.panels ?? [p],
    );
    const exprs = panels.flatMap((p) => (p.targets ?? []).map((t) => t.expr));
    expect(exprs.length).toBeGreaterThan(10);
    const text = (await scrape()).body;
    const families = new Set([...text.matchAll(/^# TYPE (\S+) (\w+)$/gm)].map((m) => m[1]));
    const queried = new Set(exprs.flatMap((e) => [...e.matchAll(/\b((?:stowage|process|nodejs)_\w+)/g)].map((m) => m[1])));
    for (const metric of queried) {
      const family = metric.replace(/_(bucket|sum|count)$/, '');
      expect({ metric, present: families.has(metric) || families.has(family) }).toEqual({ metric, present: true });
    }
    for (const topic of ['request', 'latency', 'bytes', 'store', 'queue', 'migration', 'pool'])
      expect(panels.some((p) => p.title.toLowerCase().includes(topic))).toBe(true);
  });
});

describe('stowage worker’s metrics listener (monitoring.worker_metrics_port)', () => {
  const listen = async (ipWhitelist?: string[]) => {
    const config = resolveConfig({ server: { host: '127.0.0.1' }, ...(ipWhitelist ? { monitoring: { ip_whitelist: ipWhitelist } } : {}) });
    const metrics = new StowageMetrics();
    metrics.jobsProcessed.series({ job: 'blobs.move', result: 'completed' }).inc(3);
    const server = await listenForMetrics(metrics, config, 0);
    return { server, base: `http://127.0.0.1:${listenerPort(server)}` };
  };

  it('answers /-/metrics to the allow-list with the process’s metrics, and a 404 to anything else', async () => {
    const { server, base } = await listen();
    try {
      const res = await http(base, { path: '/-/metrics' });
      expect(res.status).toBe(200);
      expect(res.headers['content-type']).toBe('text/plain; version=0.0.4; charset=utf-8');
      expect(total(parseSamples(res.text), 'stowage_jobs_processed_total', { job: 'blobs.move', result: 'completed' })).toBe(3);
      expect(res.text).toContain('# TYPE process_resident_memory_bytes gauge');
      for (const path of ['/', '/-/health', '/-/metrics/x']) {
        const other = await http(base, { path });
        expect([other.status, other.json()]).toEqual([404, { message: '404 Not Found' }]);
      }
      expect((await http(base, { method: 'POST', path: '/-/metrics', body: '' })).status).toBe(404);
    } finally {
      server.close();
    }
  });

  it('answers a client off the allow-list with the 404', async () => {
    const { server, base } = await listen(['10.0.0.0/8']);
    try {
      const res = await http(base, { path: '/-/metrics' });
      expect([res.status, res.json()]).toEqual([404, { message: '404 Not Found' }]);
    } finally {
      server.close();
    }
  });
});
