import { createHash } from 'node:crypto';
import { readdir } from 'node:fs/promises';
import { request as httpRequest } from 'node:http';
import { join } from 'node:path';

import { FileStorage, type RawConfig } from '@stowage/core';
import { genericFormat } from '@stowage/format-generic';
import { startTestServer, type TestMode, type TestServer, uniqueName } from '@stowage/testkit';

export { waitFor } from '@stowage/testkit';
import { type S3BlobStore, s3Storage } from '../src';
import { startS3rver, type TestS3 } from './s3rver';

export const sha256 = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');

export interface ObjectStoreSettings {
  direct_upload: boolean;
  background_upload: boolean;
  proxy_download: boolean;
}

/** A Stowage server with the generic format and object storage on `s3` (its own key prefix). */
export async function startObjectStoreServer(
  s3: TestS3,
  mode: TestMode,
  os: ObjectStoreSettings,
  extra: RawConfig = {},
): Promise<TestServer> {
  return startTestServer({
    mode,
    formats: [genericFormat],
    storages: [s3Storage],
    config: {
      ...extra,
      packages: {
        ...((extra.packages as RawConfig) ?? {}),
        object_store: { enabled: true, ...os, remote_directory: `${s3.bucket}/${uniqueName('t')}`, connection: s3.connection },
      },
    },
  });
}

export function objectStore(server: TestServer): S3BlobStore {
  return server.app.get(FileStorage).blobStore('object') as S3BlobStore;
}

export async function objectKeys(server: TestServer): Promise<string[]> {
  const keys: string[] = [];
  for await (const o of objectStore(server).list()) keys.push(o.key);
  return keys;
}

/** Files under the local store (the `tmp/` staging directory included, as `tmp/…`). */
export async function localFiles(server: TestServer): Promise<string[]> {
  const root = server.storagePath;
  const entries = await readdir(root, { recursive: true, withFileTypes: true }).catch(() => []);
  return entries
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath ?? (e as unknown as { path: string }).path, e.name).slice(root.length + 1));
}

export function genericPath(projectId: number, pkg: string, version: string, file: string): string {
  return `/api/v4/projects/${projectId}/packages/generic/${pkg}/${version}/${file}`;
}

export async function upload(server: TestServer, path: string, body: Buffer): Promise<Response> {
  return fetch(`${server.url}${path}?select=package_file`, { method: 'PUT', headers: { 'private-token': server.rootToken }, body });
}

export async function download(
  server: TestServer,
  path: string,
  init: { headers?: Record<string, string>; redirect?: 'follow' | 'manual' } = {},
): Promise<{ res: Response; body: Buffer }> {
  const res = await fetch(`${server.url}${path}`, {
    headers: { 'private-token': server.rootToken, ...(init.headers ?? {}) },
    redirect: init.redirect ?? 'follow',
  });
  return { res, body: Buffer.from(await res.arrayBuffer()) };
}

/**
 * A GET over node:http with a connection of its own (no keep-alive pool), following one
 * redirect as curl -L would. fetch's pool can leave a connection open that never carried a
 * request, which keeps the server from closing until its header timeout.
 */
export function httpGet(
  server: TestServer,
  path: string,
  opts: { follow?: boolean } = {},
): Promise<{ status: number; body: Buffer; redirected: boolean; location?: string }> {
  const get = (url: string, headers: Record<string, string>) =>
    new Promise<{ status: number; body: Buffer; location?: string }>((resolve, reject) => {
      const req = httpRequest(url, { headers, agent: false }, (res) => {
        const parts: Buffer[] = [];
        res.on('data', (c: Buffer) => parts.push(c));
        res.on('end', () => resolve({ status: res.statusCode!, body: Buffer.concat(parts), location: res.headers.location }));
        res.on('error', reject);
      });
      req.on('error', reject);
      req.end();
    });
  return get(`${server.url}${path}`, { 'private-token': server.rootToken }).then(async (r) => {
    if (r.status !== 302 || !r.location || opts.follow === false)
      return { status: r.status, body: r.body, redirected: false, location: r.location };
    const next = await get(r.location, {});
    return { status: next.status, body: next.body, redirected: true };
  });
}

/**
 * A PUT whose body is written in chunks with a pause after `pauseAfter` bytes, during which
 * `during()` runs (e.g. S3 goes down). Resolves with the status and body the server answered.
 */
export function slowUpload(
  server: TestServer,
  path: string,
  chunks: Buffer[],
  pauseAfter: number,
  during: () => Promise<void>,
): Promise<{ status: number; text: string }> {
  const url = new URL(server.url);
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      {
        host: url.hostname,
        port: url.port,
        method: 'PUT',
        path,
        headers: { 'private-token': server.rootToken, 'transfer-encoding': 'chunked' },
        agent: false,
      },
      (res) => {
        const parts: Buffer[] = [];
        res.on('data', (c: Buffer) => parts.push(c));
        res.on('end', () => {
          req.destroy();
          resolve({ status: res.statusCode!, text: Buffer.concat(parts).toString() });
        });
        res.on('error', reject);
      },
    );
    req.on('error', () => undefined); // the server may close while we still write
    void (async () => {
      let sent = 0;
      let paused = false;
      for (const c of chunks) {
        if (req.destroyed) return;
        if (!req.write(c)) await new Promise((r) => (req.once('drain', r), req.once('close', r)));
        sent += c.length;
        if (!paused && sent >= pauseAfter) {
          paused = true;
          await new Promise((r) => setTimeout(r, 300));
          await during();
        }
      }
      req.end();
    })().catch(reject);
  });
}

/** One s3rver for a test file: started before its tests, closed after them. */
export function useS3rver(): () => TestS3 {
  let s3: TestS3 | undefined;
  beforeAll(async () => {
    s3 = await startS3rver();
  });
  afterAll(async () => {
    await s3?.close();
  });
  return () => s3!;
}
