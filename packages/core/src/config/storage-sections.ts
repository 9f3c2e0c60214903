import type { BlobStoreKind } from '../storage/blob-store';

/**
 * Where each kind of storage plugin keeps its keys, GitLab's places for them: the local store's
 * `storage_path` in `packages`, the object store's `remote_directory` and `connection` in
 * `packages.object_store`. Core's own keys share these sections.
 */
export const STORAGE_SECTIONS: Readonly<Record<BlobStoreKind, readonly string[]>> = {
  local: ['packages'],
  object: ['packages', 'object_store'],
};

/** What the config loader needs of a storage plugin: where its section is and the class of its keys. */
export interface StorageConfigSchema {
  kind: BlobStoreKind;
  config?: new () => object;
}

/** The object at `path` in a config (resolved or raw); undefined where a level is missing or no mapping. */
export function sectionAt(root: object, path: readonly string[]): Record<string, unknown> | undefined {
  let node: unknown = root;
  for (const key of path) {
    if (typeof node !== 'object' || node === null || Array.isArray(node)) return undefined;
    node = (node as Record<string, unknown>)[key];
  }
  return typeof node === 'object' && node !== null && !Array.isArray(node) ? (node as Record<string, unknown>) : undefined;
}
