import type { Readable } from 'node:stream';

import { Agent, request } from 'undici';

import { gitlabMessage, HttpError } from '../http/http-error';
import type { UpstreamConfig } from './upstream-config';

/** `invalid`: a format could not read what the upstream answered (a document that is not one). */
export type UpstreamFailure = 'unreachable' | 'timeout' | 'status' | 'too-large' | 'redirect' | 'digest' | 'host' | 'invalid';

/** An upstream that could not give what was asked; never a server error of ours (502, or 504 for a timeout). */
export class UpstreamError extends Error {
  constructor(
    readonly failure: UpstreamFailure,
    message: string,
    /** The upstream's own status, for `status` failures. */
    readonly upstreamStatus?: number,
  ) {
    super(message);
    this.name = 'UpstreamError';
  }

  toHttpError(): HttpError {
    if (this.upstreamStatus === 404 || this.upstreamStatus === 410) return new HttpError(404, gitlabMessage(404));
    const status = this.failure === 'timeout' ? 504 : 502;
    return new HttpError(status, gitlabMessage(status, `upstream: ${this.message}`));
  }
}

export interface UpstreamResponse {
  status: number;
  headers: Record<string, string | undefined>;
  body: Readable;
  /** Where the answer came from, after redirects. */
  url: string;
}

const MAX_REDIRECTS = 5;
const REDIRECTS = new Set([301, 302, 303, 307, 308]);

/**
 * Drops an upstream body unread. undici reports a destroyed body as an 'error' (aborted) event:
 * with no listener that is an uncaught exception, which would end the process.
 */
export function discard(body: Readable): void {
  body.on('error', () => undefined);
  body.destroy();
}

function header(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

function failureOf(err: unknown): UpstreamError {
  const code = (err as { code?: string }).code ?? '';
  if (/TIMEOUT/.test(code)) return new UpstreamError('timeout', 'no answer within the configured timeout');
  return new UpstreamError('unreachable', `cannot be reached (${code || (err as Error).message})`);
}

/** Where a redirect leads; a Location no URL parser accepts is the upstream's fault, never a 500 of ours. */
function redirectTarget(location: string, from: URL): URL {
  try {
    return new URL(location, from);
  } catch {
    throw new UpstreamError('redirect', 'redirected to an address that is not a URL');
  }
}

/**
 * HTTP to one configured upstream. Only its own host and the hosts its config declares are
 * ever fetched, redirects included; credentials go to its own origin only; every wait (connect,
 * headers, each body chunk) is bounded, never the total time of a large download.
 */
export class UpstreamHttp {
  private readonly base: URL;
  private readonly hosts: Set<string>;
  private readonly agent: Agent;

  constructor(readonly config: UpstreamConfig) {
    this.base = new URL(config.url.endsWith('/') ? config.url : `${config.url}/`);
    this.hosts = new Set([this.base.host.toLowerCase(), ...config.hosts.map((h) => h.toLowerCase())]);
    const ms = (s: number) => Math.round(s * 1000);
    this.agent = new Agent({
      connect: { timeout: ms(config.connect_timeout) },
      headersTimeout: ms(config.timeout),
      bodyTimeout: ms(config.timeout),
    });
  }

  /** The upstream URL of a path relative to the configured URL (`lodash`, `simple/foo/`, `org/x/1.0/x-1.0.jar`). */
  url(path: string): string {
    return new URL(path.replace(/^\/+/, ''), this.base).toString();
  }

  /** An absolute or relative link found in an upstream document, resolved against `from`; null if it leads off the allowed hosts. */
  link(href: string, from: string): string | null {
    let url: URL;
    try {
      url = new URL(href, from);
    } catch {
      return null;
    }
    return this.allowed(url) ? url.toString() : null;
  }

  private allowed(url: URL): boolean {
    return (url.protocol === 'http:' || url.protocol === 'https:') && this.hosts.has(url.host.toLowerCase());
  }

  private authorization(url: URL): Record<string, string> {
    if (url.origin !== this.base.origin) return {};
    const { token, username, password } = this.config;
    if (token) return { authorization: `Bearer ${token}` };
    if (username !== undefined) return { authorization: `Basic ${Buffer.from(`${username}:${password ?? ''}`).toString('base64')}` };
    return {};
  }

  /** GET, following redirects among the allowed hosts. Any status is returned; the caller reads or destroys the body. */
  async get(target: string, headers: Record<string, string> = {}): Promise<UpstreamResponse> {
    let url = new URL(target);
    for (let hop = 0; ; hop++) {
      if (!this.allowed(url)) throw new UpstreamError('host', `${url.host || url.protocol} is not a configured upstream host`);
      let res;
      try {
        res = await request(url, {
          method: 'GET',
          dispatcher: this.agent,
          headers: { 'user-agent': 'stowage', ...headers, ...this.authorization(url) },
        });
      } catch (err) {
        throw failureOf(err);
      }
      const location = header(res.headers.location);
      if (REDIRECTS.has(res.statusCode) && location) {
        discard(res.body as unknown as Readable);
        if (hop === MAX_REDIRECTS) throw new UpstreamError('redirect', 'too many redirects');
        url = redirectTarget(location, url);
        continue;
      }
      const flat: Record<string, string | undefined> = {};
      for (const [k, v] of Object.entries(res.headers)) flat[k] = header(v);
      // undici reports a stalled or cut body as an error on the stream; name it the upstream's fault.
      const body = res.body as unknown as Readable;
      return { status: res.statusCode, headers: flat, body, url: url.toString() };
    }
  }

  /** The whole body of a small document, at most `maxSize` bytes. */
  async read(body: Readable, maxSize: number): Promise<Buffer> {
    const chunks: Buffer[] = [];
    let size = 0;
    try {
      for await (const chunk of body) {
        size += (chunk as Buffer).length;
        if (size > maxSize) {
          discard(body);
          throw new UpstreamError('too-large', `the document exceeds ${maxSize} bytes`);
        }
        chunks.push(chunk as Buffer);
      }
    } catch (err) {
      if (err instanceof UpstreamError) throw err;
      throw failureOf(err);
    }
    return Buffer.concat(chunks);
  }

  /** A status the caller did not expect, as the error a client sees. */
  static unexpected(res: UpstreamResponse): UpstreamError {
    discard(res.body);
    return new UpstreamError('status', `answered ${res.status}`, res.status);
  }

  close(): Promise<void> {
    return this.agent.close();
  }
}

export { failureOf as upstreamFailure };
