import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';

import { INITDB_SNAPSHOT, restoreInitdbSnapshot, usableInitdbSnapshot } from './initdb-snapshot';

export interface EmbeddedDatabaseOptions {
  /** Directory holding the database files; in memory when absent. */
  dataDir?: string;
  /** A `dumpDataDir()` snapshot to start from (tests use one to skip initdb). */
  snapshot?: Blob;
  /** Bytes of PostgreSQL's shared_buffers; 16 MiB when absent. */
  sharedBuffers?: number;
  /**
   * A new `dataDir` starts from this initdb snapshot (initdb-snapshot.ts) when it was made by
   * the installed PGlite; false: always run initdb. The build's snapshot when absent.
   */
  initdbSnapshot?: string | false;
}

const MiB = 1024 * 1024;

/**
 * PostgreSQL settings of the embedded database, on top of PGlite's own start parameters.
 * PGlite's shared memory comes from Emscripten's mmap, which zero-fills it: all of it is
 * resident from the start, so PostgreSQL's defaults (128 MB of shared_buffers and room for
 * 100 connections) cost ~150 MB of RSS for a session of one. A registry's hot rows (tokens,
 * projects, packages, files) fit in far less; further pages come from the OS's file cache.
 */
function settings(sharedBuffers: number): string[] {
  return [`shared_buffers=${Math.max(16, Math.floor(sharedBuffers / 8192))}`, 'max_connections=10'];
}

/**
 * Opens (creating on first use) the embedded PostgreSQL-compatible database. The first
 * start unpacks the build's initdb snapshot, or runs initdb (seconds) without one; later
 * starts reopen the existing files.
 */
export async function openEmbeddedDatabase(opts: EmbeddedDatabaseOptions) {
  const snapshot = opts.initdbSnapshot ?? INITDB_SNAPSHOT;
  if (opts.dataDir && !opts.snapshot && snapshot && !existsSync(join(opts.dataDir, 'PG_VERSION')) && (await usableInitdbSnapshot(snapshot)))
    await restoreInitdbSnapshot(opts.dataDir, snapshot);
  if (opts.dataDir) mkdirSync(opts.dataDir, { recursive: true });
  const { PGlite, types } = await import('@electric-sql/pglite');
  return PGlite.create({
    dataDir: opts.dataDir,
    loadDataDir: opts.snapshot,
    startParams: [...PGlite.defaultStartParams, ...settings(opts.sharedBuffers ?? 16 * MiB).flatMap((s) => ['-c', s])],
    // For direct use (the TypeORM driver parses with node-postgres): int8 and numeric as strings.
    parsers: { [types.INT8]: (v: string) => v, [types.NUMERIC]: (v: string) => v },
    serializers: {
      [types.BOOL]: (v: unknown) =>
        v === true || v === 'true' || v === 1 ? 't' : v === false || v === 'false' || v === 0 ? 'f' : String(v),
    },
  });
}

/** The embedded database handle (PGlite). */
export type EmbeddedDatabase = Awaited<ReturnType<typeof openEmbeddedDatabase>>;
