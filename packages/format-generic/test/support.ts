import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readdir } from 'node:fs/promises';
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { join, relative } from 'node:path';
import { promisify } from 'node:util';
import type { TestServer } from '@stowage/testkit';

export const execFileAsync = promisify(execFile);

export interface HttpResult {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
  text: string;
  json<T = any>(): T;
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
}

/** One real HTTP request to the listening server over node:http. */
export function http(baseUrl: string, opts: HttpOptions): Promise<HttpResult> {
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

/** Blob files under the storage dir (`ab/cd/<key>`), relative to it, temp files excluded. */
export async function blobFiles(s: TestServer): Promise<string[]> {
  const root = s.config.packages.storage_path!;
  return (await walk(root)).map((p) => relative(root, p)).filter((p) => !p.startsWith('tmp/')).sort();
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
