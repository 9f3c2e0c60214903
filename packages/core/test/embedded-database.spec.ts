import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { DataSource } from 'typeorm';

import { type EmbeddedDatabase, openEmbeddedDatabase } from '../src/database/embedded-database';
import { makeInitdbSnapshot, usableInitdbSnapshot } from '../src/database/initdb-snapshot';
import { pgliteNodePostgresShim } from '../src/database/pglite-driver';
import { preparedRows } from '../src/database/prepared';

describe('embedded database (PGlite behind a serialized node-postgres shim)', () => {
  let ds: DataSource;
  let db: EmbeddedDatabase;

  beforeAll(async () => {
    db = await openEmbeddedDatabase({});
    ds = new DataSource({ type: 'postgres', driver: pgliteNodePostgresShim(db, { closeOnEnd: true }), installExtensions: false } as never);
    await ds.initialize();
    await ds.query('CREATE TABLE t (id serial PRIMARY KEY, n int NOT NULL UNIQUE, flag boolean, tags text[], big bigint)');
  }, 60_000);

  afterAll(() => ds.destroy());

  it('keeps concurrent transactions apart: the ones that throw commit nothing', async () => {
    const results = await Promise.allSettled(
      Array.from({ length: 20 }, (_, i) =>
        ds.transaction(async (m) => {
          await m.query('INSERT INTO t (n) VALUES ($1)', [i]);
          await new Promise((r) => setTimeout(r, 2));
          if (i % 2) throw new Error(`rollback ${i}`);
        }),
      ),
    );
    expect(results.filter((r) => r.status === 'rejected')).toHaveLength(10);
    const rows: { n: number }[] = await ds.query('SELECT n FROM t ORDER BY n');
    expect(rows.map((r) => r.n)).toEqual([0, 2, 4, 6, 8, 10, 12, 14, 16, 18]);
  });

  it('answers like node-postgres: affected counts, unique violations, arrays, int8 as text', async () => {
    const [, affected] = await ds.query('UPDATE t SET flag = $1, tags = $2, big = $3 WHERE n < $4', [true, ['a', 'b'], 5_000_000_000, 5]);
    expect(affected).toBe(3);
    const [row] = await ds.query('SELECT flag, tags, big FROM t WHERE n = 0');
    expect(row).toEqual({ flag: true, tags: ['a', 'b'], big: '5000000000' });
    await expect(ds.query('INSERT INTO t (n) VALUES (0)')).rejects.toMatchObject({ driverError: { code: '23505' } });
  });

  it('answers the next query after one fails inside a transaction, and rolls that transaction back', async () => {
    await expect(
      ds.transaction(async (m) => {
        await m.query('INSERT INTO t (n) VALUES ($1)', [100]);
        await m.query('SELECT no_such_column FROM t');
      }),
    ).rejects.toMatchObject({ driverError: { code: '42703' } });
    expect(await ds.query('SELECT count(*)::int AS c FROM t WHERE n = 100')).toEqual([{ c: 0 }]);
    expect(await ds.query('SELECT $1::jsonb AS j, $2::timestamptz AS d', [{ a: [1] }, new Date('2026-01-02T03:04:05Z')])).toEqual([
      { j: { a: [1] }, d: new Date('2026-01-02T03:04:05Z') },
    ]);
  });

  it('keeps prepared statements usable when the pool replaces its client, and through a second pool on the same database', async () => {
    const double = () => preparedRows<{ c: number }>(ds, 'double', 'SELECT $1::int * 2 AS c', [21]);
    expect(await double()).toEqual([{ c: 42 }]);
    // A failed pool.query makes pg-pool discard its client; the PGlite session, and what it prepared, stays.
    await expect(preparedRows(ds, 'fails', 'SELECT 1 / $1::int', [0])).rejects.toMatchObject({ code: '22012' });
    expect(await double()).toEqual([{ c: 42 }]);
    // The server's restart opens a new DataSource over the same database (closeOnEnd: false).
    const again = new DataSource({
      type: 'postgres',
      driver: pgliteNodePostgresShim(db, { closeOnEnd: false }),
      installExtensions: false,
    } as never);
    await again.initialize();
    try {
      expect(await preparedRows(again, 'double', 'SELECT $1::int * 2 AS c', [21])).toEqual([{ c: 42 }]);
    } finally {
      await again.destroy();
    }
  });

  it('delivers its own NOTIFYs to a listener as the transaction commits', async () => {
    const got: string[] = [];
    const pool = (ds.driver as unknown as { master: { listen(c: string, f: (p: string) => void): Promise<() => Promise<void>> } }).master;
    const unlisten = await pool.listen('chan', (p) => got.push(p));
    await ds.transaction(async (m) => {
      await m.query("SELECT pg_notify('chan', 'one')");
      expect(got).toEqual([]);
    });
    expect(got).toEqual(['one']);
    await unlisten();
    await ds.query("SELECT pg_notify('chan', 'two')");
    expect(got).toEqual(['one']);
  });
});

describe('first start of an embedded data directory from an initdb snapshot', () => {
  const dir = mkdtempSync(join(tmpdir(), 'stowage-initdb-'));
  const snapshot = join(dir, 'initdb.tar.gz');

  beforeAll(() => makeInitdbSnapshot(snapshot), 120_000);
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('unpacks the snapshot into a new data directory and opens it, which then keeps its data', async () => {
    const dataDir = join(dir, 'db');
    const systemId = async (db: Awaited<ReturnType<typeof openEmbeddedDatabase>>) =>
      (await db.query<{ id: string }>('SELECT system_identifier::text AS id FROM pg_control_system()')).rows[0].id;
    const fromSnapshot = await openEmbeddedDatabase({ snapshot: new Blob([readFileSync(snapshot)]) });
    const snapshotId = await systemId(fromSnapshot);
    await fromSnapshot.close();

    let db = await openEmbeddedDatabase({ dataDir, initdbSnapshot: snapshot });
    expect(existsSync(join(dataDir, 'PG_VERSION'))).toBe(true);
    // initdb would have given the cluster a new identifier.
    expect(await systemId(db)).toBe(snapshotId);
    expect(readdirSync(dir).filter((f) => f.includes('.initdb-'))).toEqual([]);
    await db.exec('CREATE TABLE kept (v text); INSERT INTO kept VALUES ($$x$$)');
    await db.close();
    db = await openEmbeddedDatabase({ dataDir, initdbSnapshot: snapshot });
    expect((await db.query('SELECT v FROM kept')).rows).toEqual([{ v: 'x' }]);
    await db.close();
  }, 60_000);

  it('is not used when another PGlite version made it', async () => {
    expect(await usableInitdbSnapshot(snapshot)).toBe(true);
    const other = join(dir, 'other.tar.gz');
    writeFileSync(other, 'not a snapshot');
    writeFileSync(`${other}.version`, '0.0.1');
    expect(await usableInitdbSnapshot(other)).toBe(false);
    expect(await usableInitdbSnapshot(join(dir, 'missing.tar.gz'))).toBe(false);
  });
});
