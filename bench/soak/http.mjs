// Requests of the soak: keep-alive node:http against the one server, a time limit on each,
// and any answer but the expected one recorded as an error (with its body) before the
// operation gives up.
import { createHash } from 'node:crypto';
import { Agent, request } from 'node:http';
import { Readable } from 'node:stream';

/** Thrown once an error is recorded: the operation stops, the load goes on. */
export class Recorded extends Error {}

/**
 * `send(op, method, path, opts)` → { status, headers, body (Buffer), sha256 (hex) }.
 * opts: headers, body (Buffer, string or Readable), expect (statuses, default [200]),
 * keep: false to hash the answer without keeping it (large downloads).
 */
export function httpClient({ base, maxSockets, stats, timeoutMs }) {
  const agent = new Agent({ keepAlive: true, maxSockets });

  function exchange(method, path, { headers = {}, body, keep = true }) {
    return new Promise((resolve, reject) => {
      const req = request(`${base}${path}`, { method, headers, agent }, (res) => {
        const hash = createHash('sha256');
        const chunks = [];
        let size = 0;
        res.on('data', (c) => {
          hash.update(c);
          size += c.length;
          if (keep || chunks.length < 4) chunks.push(c);
        });
        res.on('end', () => resolve({ status: res.statusCode, body: Buffer.concat(chunks), size, sha256: hash.digest('hex') }));
        res.on('error', reject);
      });
      req.setTimeout(timeoutMs, () => req.destroy(new Error(`no answer within ${timeoutMs / 1000} s`)));
      req.on('error', reject);
      if (body instanceof Readable) body.on('error', (e) => req.destroy(e)).pipe(req);
      else req.end(body);
    });
  }

  async function send(op, method, path, opts = {}) {
    const expect = opts.expect ?? [200];
    let res;
    try {
      res = await exchange(method, path, opts);
    } catch (err) {
      stats.error({ op, request: `${method} ${path}`, status: err.code ?? 'no answer', body: err.message });
      throw new Recorded(err.message);
    }
    if (!expect.includes(res.status)) {
      stats.error({ op, request: `${method} ${path}`, status: res.status, body: res.body.toString('utf8', 0, 600) });
      throw new Recorded(`${res.status}`);
    }
    return res;
  }

  /** Records a wrong answer (bytes, listing) of a request that had the right status. */
  function wrong(op, method, path, what) {
    stats.error({ op, request: `${method} ${path}`, status: 'wrong answer', body: what });
    throw new Recorded(what);
  }

  return { send, wrong, close: () => agent.destroy() };
}
