import { relative } from 'node:path';

import { filesUnder, type TestServer } from '@stowage/testkit';

export interface ListedPackage {
  id: number;
  name: string;
  version: string;
  package_type: string;
}

/** Conan packages of a project through GitLab's Packages API. */
export async function conanPackages(s: TestServer, projectId: number): Promise<ListedPackage[]> {
  const res = await s.api.inject({ url: `/api/v4/projects/${projectId}/packages?package_type=conan&per_page=100`, token: s.rootToken });
  if (res.status !== 200) throw new Error(`list packages → ${res.status} ${res.body}`);
  return res.json();
}

export async function conanFiles(s: TestServer, projectId: number, packageId: number): Promise<{ file_name: string; size: number }[]> {
  const res = await s.api.inject({
    url: `/api/v4/projects/${projectId}/packages/${packageId}/package_files?per_page=100`,
    token: s.rootToken,
  });
  if (res.status !== 200) throw new Error(`list files → ${res.status} ${res.body}`);
  return res.json();
}

/** Blob files under the storage dir, temp files excluded. */
export async function blobFiles(s: TestServer): Promise<string[]> {
  const root = s.storagePath;
  return (await filesUnder(root))
    .map((p) => relative(root, p))
    .filter((p) => !p.startsWith('tmp/'))
    .sort();
}
