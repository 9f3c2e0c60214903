import { Agent, createServer, type IncomingHttpHeaders, request as httpRequest, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

// A load balancer in a few lines, as operators put one in front of several `stowage serve`:
// every request goes to the next upstream in turn, per request, not per connection, so the
// consecutive requests of one client (on one kept-alive connection) reach different servers.

/** One forwarded request: which upstream answered it, and how. */
export interface Forwarded {
  method: string;
  url: string;
  upstream: number;
  status: number;
  /** Which client connection it came on (numbered from 1). */
  connection: number;
}

export interface RoundRobin {
  url: string;
  /** Every request forwarded so far, in the order they arrived. */
  log: Forwarded[];
  close(): Promise<void>;
}

// Hop-by-hop headers are the balancer's own (RFC 9110 §7.6.1). `expect` too: Node answers
// `100 Continue` to the client itself, and the body is then forwarded as it arrives.
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'te', 'trailer', 'upgrade', 'expect']);

function endToEnd(headers: IncomingHttpHeaders): IncomingHttpHeaders {
  return Object.fromEntries(Object.entries(headers).filter(([k]) => !HOP_BY_HOP.has(k)));
}

export async function startRoundRobin(upstreams: string[]): Promise<RoundRobin> {
  const log: Forwarded[] = [];
  // Idle upstream connections are dropped well before the servers' keep_alive_timeout, as
  // docs/configuration.md asks of a balancer: never a request sent on a connection being closed.
  const agents = upstreams.map(() => new Agent({ keepAlive: true, timeout: 20_000 }));
  let next = 0;
  let connections = 0;
  const connectionIds = new WeakMap<object, number>();
  const server: Server = createServer((req, res) => {
    const upstream = next++ % upstreams.length;
    const target = new URL(upstreams[upstream]);
    if (!connectionIds.has(req.socket)) connectionIds.set(req.socket, ++connections);
    const entry: Forwarded = { method: req.method!, url: req.url!, upstream, status: 0, connection: connectionIds.get(req.socket)! };
    log.push(entry);
    const out = httpRequest(
      {
        host: target.hostname,
        port: target.port,
        method: req.method,
        path: req.url,
        headers: endToEnd(req.headers),
        agent: agents[upstream],
      },
      (answer) => {
        entry.status = answer.statusCode!;
        res.writeHead(answer.statusCode!, answer.statusMessage, endToEnd(answer.headers));
        answer.pipe(res);
        answer.on('error', () => res.destroy());
      },
    );
    out.on('error', () => {
      entry.status = 502;
      if (!res.headersSent) res.writeHead(502).end();
      else res.destroy();
    });
    // A client that goes away takes its upstream request with it.
    res.on('close', () => {
      if (!res.writableFinished) out.destroy();
    });
    req.pipe(out);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    log,
    close: async () => {
      const closed = new Promise((resolve) => server.close(resolve));
      server.closeAllConnections();
      for (const a of agents) a.destroy();
      await closed;
    },
  };
}
