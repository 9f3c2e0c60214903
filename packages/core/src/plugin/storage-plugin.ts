import type { StowageConfig } from '../config/stowage-config';
import type { BlobStore, BlobStoreKind } from '../storage/blob-store';

export interface StoragePluginDefinition {
  name: string;
  /** 'local' serves packages.storage_path; 'object' serves packages.object_store. */
  kind: BlobStoreKind;
  create(config: StowageConfig): BlobStore | Promise<BlobStore>;
}

const STORAGE_PLUGIN = Symbol.for('stowage.storage-plugin');

export interface StoragePlugin extends Readonly<StoragePluginDefinition> {
  readonly [STORAGE_PLUGIN]: true;
}

export function defineStoragePlugin(def: StoragePluginDefinition): StoragePlugin {
  return { ...def, [STORAGE_PLUGIN]: true };
}

export function isStoragePlugin(value: unknown): value is StoragePlugin {
  return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[STORAGE_PLUGIN] === true;
}
