// What every benchmark measures with: requests over node:http, a closed loop of concurrent
// clients (and a round of keep-alive GETs on it), latency quantiles. CommonJS so that both the .mjs scripts and the Jest-run
// *.bench.ts (compiled to CommonJS by swc) can load it; types in measure.d.cts.
const { createHash } = require('node:crypto');
const { Agent, request } = require('node:http');
const { Readable } = require('node:stream');

/** A request whose answer is read in full: { status, headers, body (a Buffer) }. `body` may be a Readable, piped. */
function call(url, { method = 'GET', headers = {}, body, agent } = {}) {
  return new Promise((resolve, reject) => {
    const req = request(url, { method, headers, agent }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.on('error', reject);
    if (body instanceof Readable) body.pipe(req);
    else req.end(body);
  });
}

/** A GET whose body is counted (and with `hash`, sha256-hashed) as it arrives, never kept: { status, headers, bytes, sha, s }. */
function get(url, { agent, headers = {}, hash = false } = {}) {
  return new Promise((resolve, reject) => {
    const t = process.hrtime.bigint();
    const req = request(url, { agent, headers }, (res) => {
      const sha = hash ? createHash('sha256') : undefined;
      let bytes = 0;
      res.on('data', (c) => {
        bytes += c.length;
        sha?.update(c);
      });
      res.on('end', () =>
        resolve({
          status: res.statusCode,
          headers: res.headers,
          bytes,
          sha: sha?.digest('hex'),
          s: Number(process.hrtime.bigint() - t) / 1e9,
        }),
      );
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

/**
 * `clients` workers in a closed loop, each calling `work(i)` for the next i, until `count`
 * calls have started or the `until` deadline (a Date.now() value) has passed; rejects with the
 * first failure.
 */
async function inParallel(clients, { count = Infinity, until = Infinity }, work) {
  let next = 0;
  await Promise.all(
    Array.from({ length: clients }, async () => {
      while (next < count && Date.now() < until) await work(next++);
    }),
  );
}

/**
 * One round of `requests` GETs of a case's URL from `clients` concurrent keep-alive clients, on
 * an agent of its own: first one unmeasured request per client (opens the sockets, warms
 * caches), then the measured ones, each of which must answer the case's `want` (200). Adds
 * the latencies (ms) to `c.ms` and the wall time (s) to `c.seconds`; `c.bytes` is the size of
 * the last answer. `c.url` is a URL or the i-th request's; `c.headers` override `headers`.
 */
async function round(c, { clients, requests, headers = {} }) {
  const agent = new Agent({ keepAlive: true, maxSockets: clients });
  const url = typeof c.url === 'function' ? c.url : () => c.url;
  const want = c.want ?? 200;
  const opts = { agent, headers: c.headers ?? headers };
  try {
    for (let i = 0; i < clients; i++) await get(url(i), opts);
    const start = performance.now();
    await inParallel(clients, { count: requests }, async (i) => {
      const t = performance.now();
      const res = await get(url(i), opts);
      c.ms.push(performance.now() - t);
      if (res.status !== want) throw new Error(`${c.label}: got ${res.status}, wanted ${want}`);
      c.bytes = res.bytes;
    });
    c.seconds += (performance.now() - start) / 1000;
  } finally {
    agent.destroy();
  }
}

/** The q-quantile of `values` (not changed; NaN when empty). */
function quantile(values, q) {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))] ?? NaN;
}

/** `p50 … ms  p99 … ms  max … ms` of latencies in ms (the quantiles and digits as asked). */
function latencies(ms, { quantiles = [0.5, 0.99], digits = 1 } = {}) {
  const p = quantiles.map((q) => `p${Math.round(q * 100)} ${quantile(ms, q).toFixed(digits)} ms`);
  return `${p.join('  ')}  max ${quantile(ms, 1).toFixed(digits)} ms`;
}

module.exports = { call, get, inParallel, round, quantile, latencies };
