import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { LocalBlobStore } from '../src/local-blob-store';

// The readiness probe: the storage path is created when missing, and must be a directory.
describe('LocalBlobStore.check', () => {
  let root: string;

  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), 'local-store-check-'));
  });
  afterEach(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('creates a missing storage path', async () => {
    const path = join(root, 'a', 'b');
    await new LocalBlobStore(path).check();
    expect((await stat(path)).isDirectory()).toBe(true);
  });

  it('fails when the storage path is a file', async () => {
    const path = join(root, 'file');
    await writeFile(path, 'not a directory');
    await expect(new LocalBlobStore(path).check()).rejects.toThrow();
  });
});
