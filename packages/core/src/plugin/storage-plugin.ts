import { sectionAt, STORAGE_SECTIONS } from '../config/storage-sections';
import type { StowageConfig } from '../config/stowage-config';
import type { BlobStore, BlobStoreKind } from '../storage/blob-store';

export interface StoragePluginDefinition<C extends object = object> {
  name: string;
  /** 'local' serves packages.storage_path; 'object' serves packages.object_store. */
  kind: BlobStoreKind;
  /**
   * Class of the keys the plugin owns in its kind's section (`packages` for 'local',
   * `packages.object_store` for 'object': `STORAGE_SECTIONS`), as class-validator properties
   * named as the keys, as a format's `config`. The config loader validates them there.
   */
  config?: new () => C;
  /** `settings`: its validated keys (with core's keys of the same section). */
  create(config: StowageConfig, settings: C): BlobStore | Promise<BlobStore>;
}

const STORAGE_PLUGIN = Symbol.for('stowage.storage-plugin');

export interface StoragePlugin<C extends object = object> extends Readonly<StoragePluginDefinition<C>> {
  readonly [STORAGE_PLUGIN]: true;
}

export function defineStoragePlugin<C extends object = object>(def: StoragePluginDefinition<C>): StoragePlugin<C> {
  return { ...def, [STORAGE_PLUGIN]: true };
}

export function isStoragePlugin(value: unknown): value is StoragePlugin {
  return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[STORAGE_PLUGIN] === true;
}

/** Opens the plugin's store on its section of a resolved config. */
export function createBlobStore(plugin: StoragePlugin, config: StowageConfig): BlobStore | Promise<BlobStore> {
  return plugin.create(config, sectionAt(config, STORAGE_SECTIONS[plugin.kind]) ?? {});
}
