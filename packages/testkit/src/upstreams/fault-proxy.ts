import {
  createServer,
  type IncomingHttpHeaders,
  type IncomingMessage,
  request as httpRequest,
  type Server,
  type ServerResponse,
} from 'node:http';
import type { Socket } from 'node:net';
import { pipeline, Transform, type TransformCallback } from 'node:stream';

/**
 * Which requests a fault (or a count) applies to: a string is the exact path without its query
 * string, a RegExp is tested against the whole request target (path and query), a function
 * gets both and the method.
 */
export type PathMatch = string | RegExp | ((path: string, method: string) => boolean);

export type FaultKind = 'status' | 'delay' | 'stall' | 'corrupt' | 'gate';

export interface ProxiedRequest {
  method: string;
  /** The request target as the client sent it (path and query). */
  path: string;
  /** The request's headers as the client sent them (what credentials reached this host). */
  headers: IncomingHttpHeaders;
  /** When it arrived (Date.now()). */
  at: number;
  /** The status sent to the client; 0 until then, and when the upstream could not be reached. */
  status: number;
  /** Body bytes sent to the client so far. */
  bytes: number;
  /** The faults applied to it. */
  faults: FaultKind[];
  /** Set when the exchange ended in an error (upstream unreachable, client gone, …). */
  error?: string;
}

export interface ProxyGate {
  /** Resolves when the first matching response has sent its first `afterBytes` body bytes and is held. */
  reached: Promise<void>;
  /** Lets every held response (and all later ones) go on. */
  release(): void;
}

export interface FaultProxy {
  /** http://127.0.0.1:PORT (no trailing slash): point the client or server under test here. */
  url: string;
  port: number;
  target: string;
  /** Every request that reached the proxy, in order of arrival. */
  readonly requests: readonly ProxiedRequest[];
  /** How many requests matched (all when no match is given), optionally of one method. */
  count(match?: PathMatch, method?: string): number;
  /** Forgets the request log (the faults stay). */
  clearLog(): void;
  /** Refuses connections (ECONNREFUSED): closes the listener and destroys every open connection. */
  down(): Promise<void>;
  /** Listens again on the same port. */
  up(): Promise<void>;
  /** Holds the response headers of matching requests `ms` longer (the upstream has answered meanwhile). */
  delay(ms: number, match?: PathMatch): void;
  /** Sends the headers and the first `afterBytes` body bytes of matching responses, then nothing (until reset). */
  stallBody(match?: PathMatch, afterBytes?: number): void;
  /** Flips every bit of the last body byte of matching responses: same length, another digest. */
  corrupt(match?: PathMatch): void;
  /** Answers matching requests with `code` itself (a short text body); the upstream never sees them. */
  status(match: PathMatch, code: number): void;
  /** Holds matching responses after `afterBytes` body bytes until release(). */
  gate(match: PathMatch, afterBytes: number): ProxyGate;
  /** Back to plain pass-through: faults cleared, stalls and gates released, listening again if down. */
  reset(): Promise<void>;
  /** Stops listening and destroys every connection (stalled ones too). */
  close(): Promise<void>;
}

// Connection-level headers are not forwarded (RFC 9110 §7.6.1); Node frames each hop itself.
// Expect too: Node's server has already answered a client's 100-continue.
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'te', 'trailer', 'upgrade', 'expect']);

function forwardable(headers: IncomingHttpHeaders): IncomingHttpHeaders {
  const out: IncomingHttpHeaders = {};
  for (const [k, v] of Object.entries(headers)) if (!HOP_BY_HOP.has(k) && v !== undefined) out[k] = v;
  return out;
}

export function pathMatches(match: PathMatch | undefined, path: string, method: string): boolean {
  if (match === undefined) return true;
  if (typeof match === 'string') return path.split('?')[0] === match;
  if (match instanceof RegExp) {
    match.lastIndex = 0;
    return match.test(path);
  }
  return match(path, method);
}

interface Hold {
  match?: PathMatch;
  afterBytes: number;
  released: Promise<void>;
  release(): void;
  onReached(): void;
}

function newHold(match: PathMatch | undefined, afterBytes: number, onReached: () => void = () => {}): Hold {
  let release!: () => void;
  const released = new Promise<void>((r) => (release = r));
  return { match, afterBytes, released, release, onReached };
}

/** Passes the first `afterBytes` bytes, then waits for the hold's release before the rest (backpressure holds the upstream). */
function holdAfter(hold: Hold): Transform {
  let passed = 0;
  let announced = false;
  return new Transform({
    transform(chunk: Buffer, _enc, done: TransformCallback) {
      const room = Math.max(0, hold.afterBytes - passed);
      if (room >= chunk.length) {
        passed += chunk.length;
        return done(null, chunk);
      }
      if (room > 0) this.push(chunk.subarray(0, room));
      passed += chunk.length;
      if (!announced) {
        announced = true;
        hold.onReached();
      }
      void hold.released.then(() => done(null, chunk.subarray(room)));
    },
  });
}

/** Keeps back the last byte seen so far and sends it with every bit flipped at the end. */
function flipLastByte(): Transform {
  let held: Buffer | undefined;
  return new Transform({
    transform(chunk: Buffer, _enc, done: TransformCallback) {
      if (!chunk.length) return done();
      const out = held ? Buffer.concat([held, chunk.subarray(0, -1)]) : chunk.subarray(0, -1);
      held = Buffer.from(chunk.subarray(-1));
      done(null, out.length ? out : undefined);
    },
    flush(done: TransformCallback) {
      if (held) held[0] ^= 0xff;
      done(null, held);
    },
  });
}

/** Counts body bytes that went to the client. */
function meter(entry: ProxiedRequest): Transform {
  return new Transform({
    transform(chunk: Buffer, _enc, done: TransformCallback) {
      entry.bytes += chunk.length;
      done(null, chunk);
    },
  });
}

/**
 * A fault injector in front of a real upstream (Verdaccio, a static file server): it forwards
 * every request as it came (method, path, headers including Host, streamed body) and streams
 * the answer back, while counting requests per path and, when told, refusing connections,
 * holding, stalling or corrupting responses, or answering 5xx itself. It never makes up
 * content: every byte it sends comes from the upstream, except a flipped byte and the short
 * body of an injected status. When the upstream cannot be reached it drops the client's
 * connection without an answer.
 */
export async function startFaultProxy(targetUrl: string): Promise<FaultProxy> {
  const target = new URL(targetUrl);
  const log: ProxiedRequest[] = [];
  const sockets = new Set<Socket>();
  let statuses: { match: PathMatch; code: number }[] = [];
  let delays: { match?: PathMatch; ms: number }[] = [];
  let corrupts: (PathMatch | undefined)[] = [];
  let holds: (Hold & { kind: 'stall' | 'gate' })[] = [];
  let isDown = false;

  const last = <T>(list: T[], pick: (t: T) => PathMatch | undefined, path: string, method: string) =>
    list.findLast((t) => pathMatches(pick(t), path, method));

  const handle = (req: IncomingMessage, res: ServerResponse) => {
    const path = req.url ?? '/';
    const method = req.method ?? 'GET';
    const entry: ProxiedRequest = { method, path, headers: req.headers, at: Date.now(), status: 0, bytes: 0, faults: [] };
    log.push(entry);
    const fail = (err: Error) => {
      entry.error ??= err.message;
      res.destroy();
    };

    const injected = last(statuses, (s) => s.match, path, method);
    if (injected) {
      entry.faults.push('status');
      req.resume();
      const body = `fault-proxy: injected ${injected.code}\n`;
      entry.status = injected.code;
      entry.bytes = Buffer.byteLength(body);
      res.writeHead(injected.code, { 'content-type': 'text/plain', 'content-length': entry.bytes });
      res.end(body);
      return;
    }

    const upstream = httpRequest(
      {
        host: target.hostname,
        port: target.port || 80,
        method,
        path: target.pathname.replace(/\/$/, '') + path,
        headers: forwardable(req.headers),
        agent: false,
      },
      (upRes) => {
        const delay = last(delays, (d) => d.match, path, method);
        const stages: Transform[] = [meter(entry)];
        if (corrupts.some((m) => pathMatches(m, path, method))) {
          entry.faults.push('corrupt');
          stages.unshift(flipLastByte());
        }
        const hold = last(holds, (h) => h.match, path, method);
        if (hold) {
          entry.faults.push(hold.kind);
          stages.unshift(holdAfter(hold));
        }
        const respond = () => {
          if (res.destroyed) return upRes.destroy();
          entry.status = upRes.statusCode ?? 502;
          res.writeHead(entry.status, upRes.statusMessage, forwardable(upRes.headers));
          pipeline([upRes, ...stages, res], (err) => {
            if (err) fail(err);
          });
        };
        if (delay) {
          entry.faults.push('delay');
          const timer = setTimeout(respond, delay.ms);
          res.once('close', () => clearTimeout(timer));
        } else respond();
      },
    );
    upstream.once('error', fail);
    res.once('close', () => {
      if (!res.writableFinished) upstream.destroy();
    });
    pipeline(req, upstream, (err) => {
      if (err) fail(err);
    });
  };

  const server: Server = createServer(handle);
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.once('close', () => sockets.delete(s));
  });
  const listen = (port: number) =>
    new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => {
        server.off('error', reject);
        resolve();
      });
    });
  const closeAll = async () => {
    const closed = new Promise<void>((resolve) => (server.listening ? server.close(() => resolve()) : resolve()));
    for (const s of sockets) s.destroy();
    await closed;
  };

  await listen(0);
  const port = (server.address() as { port: number }).port;

  const releaseHolds = () => {
    for (const h of holds) h.release();
    holds = [];
  };

  return {
    url: `http://127.0.0.1:${port}`,
    port,
    target: targetUrl,
    requests: log,
    count: (match, m) => log.filter((r) => (!m || r.method === m) && pathMatches(match, r.path, r.method)).length,
    clearLog: () => {
      log.length = 0;
    },
    down: async () => {
      isDown = true;
      await closeAll();
    },
    up: async () => {
      if (isDown) await listen(port);
      isDown = false;
    },
    delay: (ms, match) => {
      delays.push({ match, ms });
    },
    stallBody: (match, afterBytes = 1) => {
      holds.push({ ...newHold(match, afterBytes), kind: 'stall' });
    },
    corrupt: (match) => {
      corrupts.push(match);
    },
    status: (match, code) => {
      statuses.push({ match, code });
    },
    gate: (match, afterBytes) => {
      let reached!: () => void;
      const reachedP = new Promise<void>((r) => (reached = r));
      const hold = { ...newHold(match, afterBytes, () => reached()), kind: 'gate' as const };
      holds.push(hold);
      return {
        reached: reachedP,
        release: () => {
          hold.release();
          holds = holds.filter((h) => h !== hold);
        },
      };
    },
    reset: async () => {
      statuses = [];
      delays = [];
      corrupts = [];
      releaseHolds();
      if (isDown) await listen(port);
      isDown = false;
    },
    close: async () => {
      releaseHolds();
      await closeAll();
    },
  };
}
