import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

// s3rver ships no types; this is the part of its API the tests use.
interface S3rverInstance {
  run(): Promise<{ port: number; address: string }>;
  on(event: 'error', listener: (err: Error & { status?: number }) => void): void;
  close(): Promise<void>;
  httpServer?: import('node:http').Server;
}
type S3rverCtor = new (opts: Record<string, unknown>) => S3rverInstance;
// eslint-disable-next-line @typescript-eslint/no-require-imports
const S3rver: S3rverCtor = require('s3rver');

export const S3RVER_KEY = 'S3RVER';

export interface TestS3 {
  endpoint: string;
  port: number;
  bucket: string;
  directory: string;
  /** `packages.object_store.connection` for this server. */
  connection: Record<string, unknown>;
  /** Every error s3rver answered with a 5xx (its answer says only "internal error"), with its stack. */
  internalErrors: string[];
  /** Stops the server (S3 "goes down"); files stay in `directory`. */
  stop(): Promise<void>;
  /** Starts it again on the same port and directory. */
  start(): Promise<void>;
  /** Stops it and removes its directory. */
  close(): Promise<void>;
}

/**
 * An in-process s3rver on 127.0.0.1 with one bucket. Never run synchronous child processes
 * while it runs: they block its event loop (use async execFile).
 */
export async function startS3rver(opts: { bucket?: string } = {}): Promise<TestS3> {
  const bucket = opts.bucket ?? 'packages';
  const directory = await mkdtemp(join(tmpdir(), 's3rver-'));
  let server: S3rverInstance | undefined;
  let port = 0;
  let stopping: Promise<void> | undefined;
  const internalErrors: string[] = [];
  const start = async () => {
    await stopping;
    if (server) return;
    const s = new S3rver({ port, address: '127.0.0.1', silent: true, directory, configureBuckets: [{ name: bucket }] });
    s.on('error', (err) => {
      if ((err.status ?? 500) >= 500) internalErrors.push(err.stack ?? String(err));
    });
    const info = await s.run();
    port = info.port;
    server = s;
  };
  const stop = async () => {
    const s = server;
    server = undefined;
    if (!s) return stopping;
    const closed = s.close();
    // In-flight requests (an upload) are cut, as when the service goes away.
    s.httpServer?.closeAllConnections();
    stopping = closed.finally(() => (stopping = undefined));
    await stopping;
  };
  await start();
  const endpoint = `http://127.0.0.1:${port}`;
  return {
    endpoint,
    port,
    bucket,
    directory,
    connection: { endpoint, path_style: true, aws_access_key_id: S3RVER_KEY, aws_secret_access_key: S3RVER_KEY, region: 'us-east-1' },
    internalErrors,
    stop,
    start,
    close: async () => {
      await stop();
      await rm(directory, { recursive: true, force: true });
    },
  };
}
