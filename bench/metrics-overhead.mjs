#!/usr/bin/env node
// What the HTTP metrics cost a request: the route-level onResponse hook installHttpMetrics adds
// (core's series objects), called on a real Fastify request and reply after a real answer,
// against the same figures kept the plain prom-client way (`counter.inc(labels)` and
// `histogram.observe(labels, v)` per request), in the same run: nanoseconds per request and
// young-generation GCs (scavenges) per million requests, which count what each allocates.
//
//   node bench/run.mjs metrics-overhead [--millions=2]
//
// Loads packages/core/dist (build first: `tsc -b`).
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { PerformanceObserver } from 'node:perf_hooks';

import { requireBuild, root } from './lib/harness.mjs';

const args = process.argv.slice(2);
const MILLIONS = Number(args.find((a) => a.startsWith('--millions='))?.split('=')[1] ?? 2);
const N = Math.round(MILLIONS * 1e6);
const dist = join(root, 'packages/core/dist/metrics');
requireBuild([join(dist, 'http-metrics.js')]);
const require = createRequire(join(root, 'packages/core/package.json'));
const Fastify = require('fastify');
const promClient = require('prom-client');
const { installHttpMetrics } = require(join(dist, 'http-metrics.js'));
const { StowageMetrics, HTTP_LATENCY_BUCKETS } = require(join(dist, 'stowage-metrics.js'));

const ROUTE = '/api/v4/projects/:id/packages/generic/:package_name/:package_version/*';
const app = Fastify();
installHttpMetrics(app, new StowageMetrics());
let observe;
app.addHook('onRoute', (route) => {
  if (route.method === 'GET') observe = route.onResponse.at(-1); // the one installHttpMetrics added
});
let captured;
app.addHook('onResponse', (request, reply, done) => {
  captured ??= { request, reply };
  done();
});
app.get(ROUTE, { config: { format: 'generic' } }, async (_req, reply) =>
  reply.header('content-type', 'application/octet-stream').send(Buffer.alloc(9216)),
);
await app.ready();
await app.inject({ method: 'GET', url: '/api/v4/projects/7/packages/generic/tool/1.0.0/file.bin' });
const { request, reply } = captured;

const registry = new promClient.Registry();
const counter = new promClient.Counter({
  name: 'plain_requests_total',
  help: 'h',
  labelNames: ['format', 'method', 'route', 'status'],
  registers: [registry],
});
const histogram = new promClient.Histogram({
  name: 'plain_duration_seconds',
  help: 'h',
  labelNames: ['format', 'method', 'route'],
  buckets: HTTP_LATENCY_BUCKETS,
  registers: [registry],
});
const plain = (req, rep, done) => {
  counter.inc({ format: 'generic', method: req.method, route: ROUTE, status: String(rep.statusCode) });
  histogram.observe({ format: 'generic', method: req.method, route: ROUTE }, rep.elapsedTime / 1000);
  done();
};
const nothing = (_req, _rep, done) => done();
const done = () => undefined;

let scavenges = 0;
new PerformanceObserver((list) => {
  for (const e of list.getEntries()) if (e.detail?.kind === 1) scavenges++;
}).observe({ entryTypes: ['gc'] });

async function measure(hook) {
  await new Promise((r) => setTimeout(r, 200));
  const gcBefore = scavenges;
  const start = process.hrtime.bigint();
  for (let i = 0; i < N; i++) hook(request, reply, done);
  const ns = Number(process.hrtime.bigint() - start) / N;
  // GC entries arrive asynchronously: wait for this round's before counting (and before the next).
  await new Promise((r) => setTimeout(r, 200));
  return { ns, scavengesPerMillion: ((scavenges - gcBefore) / N) * 1e6 };
}

const rounds = { nothing: [], core: [], plain: [] };
for (let round = 0; round < 5; round++) {
  rounds.nothing.push(await measure(nothing));
  rounds.core.push(await measure(observe));
  rounds.plain.push(await measure(plain));
}
const median = (xs, k) => xs.map((x) => x[k]).sort((a, b) => a - b)[Math.floor(xs.length / 2)];
console.log(`\nHTTP metrics per request, ${MILLIONS} M calls per round, median of 5 rounds (same run)\n`);
console.log('| hook | ns per request | scavenges per million requests |');
console.log('|---|---|---|');
for (const [label, key] of [
  ['empty hook (the call itself)', 'nothing'],
  ['Stowage: installHttpMetrics route hook', 'core'],
  ['plain prom-client inc(labels) + observe(labels)', 'plain'],
])
  console.log(`| ${label} | ${median(rounds[key], 'ns').toFixed(0)} | ${median(rounds[key], 'scavengesPerMillion').toFixed(1)} |`);
const text = await registry.metrics();
if (!text.includes('plain_requests_total{format="generic"')) throw new Error('the plain counter counted nothing');
await app.close();
