import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readdir } from 'node:fs/promises';
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { join, relative } from 'node:path';
import { promisify } from 'node:util';
import { storedBlobKeys, type TestServer } from '@stowage/testkit';

export const execFileAsync = promisify(execFile);

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
 * One real HTTP request to the listening server over node:http. A GET answered with a 302 to
 * another origin (a presigned object-storage URL) is followed like curl --location: Range
 * and conditional headers are sent again, credentials are not.
 */
export async function http(baseUrl: string, opts: HttpOptions): Promise<HttpResult> {
  const res = await request(baseUrl, opts);
  const location = res.headers.location;
  if (res.status !== 302 || !location || opts.follow === false || (opts.method ?? 'GET') !== 'GET') return res;
  const target = new URL(location, baseUrl);
  if (target.origin === new URL(baseUrl).origin) return res;
  const keep = ['range', 'if-range', 'if-none-match', 'if-modified-since'];
  const headers = Object.fromEntries(Object.entries(opts.headers ?? {}).filter(([k]) => keep.includes(k.toLowerCase())));
  const next = await request(target.origin, { path: target.pathname + target.search, headers });
  return { ...next, redirect: { status: res.status, headers: res.headers } };
}

function request(baseUrl: string, opts: HttpOptions): Promise<HttpResult> {
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

export const sha256 = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');
export const md5 = (b: Buffer | string) => createHash('md5').update(b).digest('hex');
export const sha1 = (b: Buffer | string) => createHash('sha1').update(b).digest('hex');

async function walk(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true }).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return [];
    throw err;
  });
  const out: string[] = [];
  for (const e of entries) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...(await walk(p)));
    else out.push(p);
  }
  return out;
}

/**
 * Stored blobs (`ab/cd/<key>`): files under the storage dir (temp files excluded), or objects
 * in the bucket when the tests run with object storage.
 */
export async function blobFiles(s: TestServer): Promise<string[]> {
  return storedBlobKeys(s);
}

/** Files in the store's temp directory (partial uploads). */
export async function tempFiles(s: TestServer): Promise<string[]> {
  return walk(join(s.config.packages.storage_path!, 'tmp'));
}

export interface ListedPackage {
  id: number;
  name: string;
  version: string;
  package_type: string;
  status: string;
}

/** Generic packages of a project through GitLab's Packages API (optionally one status). */
export async function listPackages(s: TestServer, projectId: number, status?: string): Promise<ListedPackage[]> {
  const q = `package_type=generic&per_page=100${status ? `&status=${status}` : ''}`;
  const res = await s.api.inject({ url: `/api/v4/projects/${projectId}/packages?${q}`, token: s.rootToken });
  if (res.status !== 200) throw new Error(`list packages → ${res.status} ${res.body}`);
  return res.json();
}

export interface ListedFile {
  id: number;
  package_id: number;
  file_name: string;
  size: number;
  file_md5: string | null;
  file_sha1: string | null;
  file_sha256: string;
}

export async function listFiles(s: TestServer, projectId: number, packageId: number): Promise<ListedFile[]> {
  const res = await s.api.inject({ url: `/api/v4/projects/${projectId}/packages/${packageId}/package_files?per_page=100`, token: s.rootToken });
  if (res.status !== 200) throw new Error(`list files → ${res.status} ${res.body}`);
  return res.json();
}

/** Every generic package (all listable statuses plus hidden) and file of a project. */
export async function projectState(s: TestServer, projectId: number): Promise<{ packages: ListedPackage[]; files: ListedFile[] }> {
  const lists = await Promise.all([listPackages(s, projectId), listPackages(s, projectId, 'hidden'), listPackages(s, projectId, 'processing')]);
  const packages = lists.flat();
  const files = (await Promise.all(packages.map((p) => listFiles(s, projectId, p.id)))).flat();
  return { packages, files };
}

export function genericPath(project: number | string, rest: string): string {
  return `/api/v4/projects/${project}/packages/generic/${rest}`;
}

/** Polls until `check` passes or the time is up (the server finishes cleanup after the client has gone). */
export async function eventually(check: () => Promise<void>, ms = 5000): Promise<void> {
  const until = Date.now() + ms;
  for (;;) {
    try {
      return await check();
    } catch (err) {
      if (Date.now() > until) throw err;
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}
