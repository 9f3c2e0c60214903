import { join, resolve } from 'node:path';

import { defineStoragePlugin, sectionAt, STORAGE_SECTIONS, type StowageConfig } from '@stowage/core';

import { LocalBlobStore } from './local-blob-store';
import { LocalStorageConfig } from './local-storage.config';

export { LocalBlobStore, LocalStorageConfig };

/** The directory blobs are kept in: `packages.storage_path`, by default `<data_dir>/packages`. */
export function localStoragePath(
  config: StowageConfig,
  settings: LocalStorageConfig = sectionAt(config, STORAGE_SECTIONS.local) as LocalStorageConfig,
): string {
  return resolve(settings.storage_path ?? join(config.data_dir, 'packages'));
}

/** Blobs under `packages.storage_path`. */
export const localStorage = defineStoragePlugin({
  name: 'local',
  kind: 'local',
  config: LocalStorageConfig,
  create: (config, settings) => new LocalBlobStore(localStoragePath(config, settings)),
});
