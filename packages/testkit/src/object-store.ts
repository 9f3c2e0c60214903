import { mkdtemp, rm } from 'node:fs/promises';
import type { Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import type { StoragePlugin } from '@stowage/core';

// s3rver ships no types; this is the part of its API used here.
interface S3rverInstance {
  run(): Promise<{ port: number; address: string }>;
  close(): Promise<void>;
  httpServer?: Server;
}
type S3rverCtor = new (opts: Record<string, unknown>) => S3rverInstance;

/** Loaded only when a test server needs object storage. */
function loadS3rver(): S3rverCtor {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return require('s3rver');
}

const OBJECT_STORE_HOST = '127.0.0.2';

export interface TestObjectStore {
  endpoint: string;
  bucket: string;
  /** s3rver's files (one directory per bucket). */
  directory: string;
  /** `packages.object_store.connection` for it. */
  connection: Record<string, unknown>;
  /** The storage plugin (`s3Storage` from @stowage/storage-s3). */
  plugin: StoragePlugin;
  /** Stops s3rver and removes its directory. */
  close(): Promise<void>;
}

/**
 * An in-process s3rver on 127.0.0.2 (a random port, its own temp directory, one bucket).
 * While it runs, never start synchronous child processes (execFileSync, spawnSync): they
 * block its event loop and the request that waits for it deadlocks.
 */
export async function startTestObjectStore(opts: { bucket?: string } = {}): Promise<TestObjectStore> {
  const bucket = opts.bucket ?? 'packages';
  // Required here, not imported at the top: only object-storage runs pay for loading the AWS SDK.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { s3Storage } = require('@stowage/storage-s3') as typeof import('@stowage/storage-s3');
  const S3rver = loadS3rver();
  const directory = await mkdtemp(join(tmpdir(), 'stowage-s3rver-'));
  // On 127.0.0.2, not the server's 127.0.0.1: clients keep their registry credentials on a
  // redirect to the same host name (npm even across ports), and S3 rejects a presigned URL
  // that also carries an Authorization header. Object storage never shares the registry's host.
  const server = new S3rver({ port: 0, address: OBJECT_STORE_HOST, silent: true, directory, configureBuckets: [{ name: bucket }] });
  let port: number;
  try {
    ({ port } = await server.run());
  } catch (err) {
    await rm(directory, { recursive: true, force: true });
    throw err;
  }
  const endpoint = `http://${OBJECT_STORE_HOST}:${port}`;
  return {
    endpoint,
    bucket,
    directory,
    connection: { endpoint, path_style: true, aws_access_key_id: 'S3RVER', aws_secret_access_key: 'S3RVER', region: 'us-east-1' },
    plugin: s3Storage,
    close: async () => {
      const closed = server.close();
      // Keep-alive connections (the server's S3 client, clients that followed redirects) would hold it open.
      server.httpServer?.closeAllConnections();
      await closed.catch(() => undefined);
      await rm(directory, { recursive: true, force: true });
    },
  };
}
