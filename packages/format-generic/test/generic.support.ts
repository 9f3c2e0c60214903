import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { promisify } from 'node:util';

import { PackageService } from '@stowage/core';
import { filesUnder, storedBlobKeys, type TestServer } from '@stowage/testkit';

export const execFileAsync = promisify(execFile);

export const sha256 = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');
export const md5 = (b: Buffer | string) => createHash('md5').update(b).digest('hex');
export const sha1 = (b: Buffer | string) => createHash('sha1').update(b).digest('hex');

/**
 * Stored blobs (`ab/cd/<key>`): files under the storage dir (temp files excluded), or objects
 * in the bucket when the tests run with object storage.
 */
export async function blobFiles(s: TestServer): Promise<string[]> {
  return storedBlobKeys(s);
}

/** Files in the store's temp directory (partial uploads). */
export async function tempFiles(s: TestServer): Promise<string[]> {
  return filesUnder(join(s.storagePath, 'tmp'));
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
  const res = await s.api.inject({
    url: `/api/v4/projects/${projectId}/packages/${packageId}/package_files?per_page=100`,
    token: s.rootToken,
  });
  if (res.status !== 200) throw new Error(`list files → ${res.status} ${res.body}`);
  return res.json();
}

/** Every generic package (all listable statuses plus hidden) and file of a project. */
export async function projectState(s: TestServer, projectId: number): Promise<{ packages: ListedPackage[]; files: ListedFile[] }> {
  const lists = await Promise.all([
    listPackages(s, projectId),
    listPackages(s, projectId, 'hidden'),
    listPackages(s, projectId, 'processing'),
  ]);
  const packages = lists.flat();
  // Files of hidden and processing packages are not in the Packages API (GitLab answers 404 for them).
  const files: ListedFile[] = await s.app.get(PackageService).listFiles(packages.map((p) => p.id));
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
