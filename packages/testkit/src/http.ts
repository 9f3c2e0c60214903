import { type IncomingHttpHeaders, request as httpRequest } from 'node:http';

export interface HttpResult {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
  text: string;
  json<T = any>(): T;
  /** A GET answered with a redirect to object storage (followed, as curl --location would): that answer. */
  redirect?: { status: number; headers: IncomingHttpHeaders };
}

export interface HttpOptions {
  method?: string;
  /** Sent exactly as given: no normalisation of `..` or percent-escapes (unlike fetch/URL). */
  path: string;
  headers?: Record<string, string>;
  token?: string;
  /** A body sent with Content-Length. */
  body?: Buffer | string;
  /** A body sent chunked (no Content-Length), one write per chunk. */
  chunks?: Buffer[];
  /** false: do not follow a GET's redirect to object storage. */
  follow?: boolean;
}

/**
 * One real HTTP request to a listening server over node:http, on a connection of its own. A
 * GET answered with a 302 to another origin (a presigned object-storage URL) is followed like
 * curl --location: Range and conditional headers are sent again, credentials are not.
 */
export async function http(baseUrl: string, opts: HttpOptions): Promise<HttpResult> {
  const res = await rawHttp(baseUrl, opts);
  const location = res.headers.location;
  if (res.status !== 302 || !location || opts.follow === false || (opts.method ?? 'GET') !== 'GET') return res;
  const target = new URL(location, baseUrl);
  if (target.origin === new URL(baseUrl).origin) return res;
  const keep = ['range', 'if-range', 'if-none-match', 'if-modified-since'];
  const headers = Object.fromEntries(Object.entries(opts.headers ?? {}).filter(([k]) => keep.includes(k.toLowerCase())));
  const next = await rawHttp(target.origin, { path: target.pathname + target.search, headers });
  return { ...next, redirect: { status: res.status, headers: res.headers } };
}

/** One real HTTP request as `http` sends it, never following a redirect. */
export function rawHttp(baseUrl: string, opts: HttpOptions): Promise<HttpResult> {
  const url = new URL(baseUrl);
  const headers: Record<string, string> = { ...(opts.headers ?? {}) };
  if (opts.token) headers['private-token'] = opts.token;
  if (opts.body !== undefined) headers['content-length'] = String(Buffer.byteLength(opts.body));
  if (opts.chunks) headers['transfer-encoding'] = 'chunked';
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      { host: url.hostname, port: url.port, method: opts.method ?? 'GET', path: opts.path, headers, agent: false },
      (res) => {
        const parts: Buffer[] = [];
        res.on('data', (c: Buffer) => parts.push(c));
        res.on('error', reject);
        res.on('end', () => {
          const body = Buffer.concat(parts);
          const text = body.toString('utf8');
          resolve({ status: res.statusCode!, headers: res.headers, body, text, json: () => JSON.parse(text) });
        });
      },
    );
    // A server that answers before reading the whole body may reset the connection while we write.
    req.on('error', reject);
    if (opts.chunks) {
      for (const c of opts.chunks) req.write(c);
      req.end();
    } else {
      req.end(opts.body);
    }
  });
}
