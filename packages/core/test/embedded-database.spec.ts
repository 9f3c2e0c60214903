import { DataSource } from 'typeorm';

import { openEmbeddedDatabase } from '../src/database/embedded-database';
import { pgliteNodePostgresShim } from '../src/database/pglite-driver';

describe('embedded database (PGlite behind a serialized node-postgres shim)', () => {
  let ds: DataSource;

  beforeAll(async () => {
    const db = await openEmbeddedDatabase({});
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
});
