import { defineStoragePlugin } from '@stowage/core';

import { LocalBlobStore } from './local-blob-store';

export { LocalBlobStore };

/** Blobs under `packages.storage_path`. */
export const localStorage = defineStoragePlugin({
  name: 'local',
  kind: 'local',
  create: (config) => new LocalBlobStore(config.packages.storage_path!),
});
