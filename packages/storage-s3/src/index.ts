import { defineStoragePlugin } from '@stowage/core';

import { S3BlobStore, type S3BlobStoreOptions, s3OptionsFromConfig } from './s3-blob-store';

export { S3BlobStore, type S3BlobStoreOptions, s3OptionsFromConfig };

/** Blobs in the S3-compatible bucket `packages.object_store` names (GitLab's keys). */
export const s3Storage = defineStoragePlugin({
  name: 's3',
  kind: 'object',
  create: (config) => new S3BlobStore(s3OptionsFromConfig(config)),
});
