import { mkdirSync } from 'node:fs';

export interface EmbeddedDatabaseOptions {
  /** Directory holding the database files; in memory when absent. */
  dataDir?: string;
  /** A `dumpDataDir()` snapshot to start from (tests use one to skip initdb). */
  snapshot?: Blob;
}

/**
 * Opens (creating on first use) the embedded PostgreSQL-compatible database. The first
 * start runs initdb, which takes seconds; later starts reopen the existing files.
 */
export async function openEmbeddedDatabase(opts: EmbeddedDatabaseOptions) {
  if (opts.dataDir) mkdirSync(opts.dataDir, { recursive: true });
  const { PGlite, types } = await import('@electric-sql/pglite');
  return PGlite.create({
    dataDir: opts.dataDir,
    loadDataDir: opts.snapshot,
    // Answer as node-postgres does: int8 and numeric as strings.
    parsers: { [types.INT8]: (v: string) => v, [types.NUMERIC]: (v: string) => v },
    serializers: {
      [types.BOOL]: (v: unknown) =>
        v === true || v === 'true' || v === 1 ? 't' : v === false || v === 'false' || v === 0 ? 'f' : String(v),
    },
  });
}

/** The embedded database handle (PGlite). */
export type EmbeddedDatabase = Awaited<ReturnType<typeof openEmbeddedDatabase>>;
