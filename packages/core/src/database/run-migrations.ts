import type { DataSource } from 'typeorm';

/** Any constant: it names the advisory lock that serializes migrations across processes. */
const MIGRATION_LOCK = 0x5354_4f57;

/**
 * Runs pending migrations, each in its own transaction. Against a shared PostgreSQL, an
 * advisory lock makes concurrently starting servers take turns instead of racing.
 */
export async function runMigrations(ds: DataSource, opts: { shared: boolean }): Promise<string[]> {
  if (!opts.shared) return (await ds.runMigrations({ transaction: 'each' })).map((m) => m.name);
  const lock = ds.createQueryRunner();
  await lock.connect();
  try {
    await lock.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK]);
    return (await ds.runMigrations({ transaction: 'each' })).map((m) => m.name);
  } finally {
    await lock.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK]).catch(() => undefined);
    await lock.release();
  }
}
