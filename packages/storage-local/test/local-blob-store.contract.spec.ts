import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { describeBlobStoreContract } from '@stowage/testkit';

import { LocalBlobStore } from '../src/local-blob-store';

// The contract storage-s3 meets too (s3-blob-store.contract.spec.ts), on a fresh directory.
describeBlobStoreContract('LocalBlobStore', async () => {
  const root = await mkdtemp(join(tmpdir(), 'local-store-contract-'));
  return { store: new LocalBlobStore(root), close: () => rm(root, { recursive: true, force: true }) };
});
