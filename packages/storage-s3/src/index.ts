import { defineStoragePlugin } from '@stowage/core';

import { S3BlobStore, type S3BlobStoreOptions, s3OptionsFromConfig } from './s3-blob-store';
import { S3ConnectionConfig, S3StorageConfig } from './s3-storage.config';

export { S3BlobStore, type S3BlobStoreOptions, S3ConnectionConfig, s3OptionsFromConfig, S3StorageConfig };

/** Blobs in the S3-compatible bucket `packages.object_store` names (GitLab's keys). */
export const s3Storage = defineStoragePlugin({
  name: 's3',
  kind: 'object',
  config: S3StorageConfig,
  create: (_config, settings) => new S3BlobStore(s3OptionsFromConfig(settings)),
});
