import { randomUUID } from 'node:crypto';

import { describeBlobStoreContract } from '@stowage/testkit';

import { S3BlobStore } from '../src';
import { S3RVER_KEY, startS3rver } from './s3rver';

// The contract storage-local meets too (local-blob-store.contract.spec.ts), on a fresh s3rver.
describeBlobStoreContract('S3BlobStore on s3rver', async () => {
  const s3 = await startS3rver();
  const store = new S3BlobStore({
    remoteDirectory: `${s3.bucket}/${randomUUID()}`,
    region: 'us-east-1',
    endpoint: s3.endpoint,
    pathStyle: true,
    accessKeyId: S3RVER_KEY,
    secretAccessKey: S3RVER_KEY,
  });
  return {
    store,
    close: async () => {
      store.destroy();
      await s3.close();
    },
  };
});
