import { EventEmitter } from 'node:events';

import type { EmbeddedDatabase } from './embedded-database';

type Callback = (err: Error | null, result?: unknown) => void;

/** A FIFO lock: PGlite is one session, so only one pool "connection" may be out at a time. */
class SessionLock {
  private tail: Promise<void> = Promise.resolve();

  acquire(): Promise<() => void> {
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    const ready = this.tail.then(() => {
      let done = false;
      return () => {
        if (!done) {
          done = true;
          release();
        }
      };
    });
    this.tail = this.tail.then(() => held);
    return ready;
  }
}

const COMMAND = /^\s*(?:--[^\n]*\n\s*|\/\*[\s\S]*?\*\/\s*)*(\w+)/;

/**
 * The subset of node-postgres' `Pool` that TypeORM's postgres driver uses, over one PGlite
 * instance. Every `connect()` holds the session until released, so transactions from
 * concurrent requests queue instead of interleaving (typeorm-pglite shares one connection
 * and lets them interleave). As with a pool of size one, a query issued outside an open
 * transaction's own query runner waits for that transaction.
 */
export function pgliteNodePostgresShim(db: EmbeddedDatabase, opts: { closeOnEnd: boolean }): { Pool: new () => object } {
  const lock = new SessionLock();

  async function run(sql: string, params?: unknown[]) {
    const command = COMMAND.exec(sql)?.[1]?.toUpperCase() ?? '';
    if (params && params.length > 0) {
      const r = await db.query(sql, params);
      return { rows: r.rows, rowCount: r.affectedRows ?? r.rows.length, command, fields: r.fields };
    }
    // exec runs multi-statement scripts (migrations); node-postgres answers with the last.
    const results = await db.exec(sql);
    const last = results[results.length - 1];
    return { rows: last?.rows ?? [], rowCount: last?.affectedRows ?? last?.rows.length ?? 0, command, fields: last?.fields ?? [] };
  }

  // TypeORM attaches and removes error listeners on the connection it is handed.
  const client = Object.assign(new EventEmitter(), {
    query(sql: string | { text: string; values?: unknown[] }, params?: unknown[] | Callback, cb?: Callback) {
      const text = typeof sql === 'string' ? sql : sql.text;
      const values = typeof sql === 'string' ? (Array.isArray(params) ? params : undefined) : sql.values;
      const callback = typeof params === 'function' ? params : cb;
      const p = run(text, values);
      if (callback)
        p.then(
          (r) => callback(null, r),
          (e: Error) => callback(e),
        );
      return p;
    },
  });

  class Pool extends EventEmitter {
    connect(cb?: (err: Error | null, c?: typeof client, release?: () => void) => void) {
      const p = lock.acquire().then((release) => {
        if (db.closed) {
          release();
          throw new Error('the embedded database is closed');
        }
        return release;
      });
      if (cb)
        p.then(
          (release) => cb(null, client, release),
          (e: Error) => cb(e),
        );
      return p.then(() => client);
    }

    async query(sql: string, params?: unknown[]) {
      const release = await lock.acquire();
      try {
        return await run(sql, params);
      } finally {
        release();
      }
    }

    /** LISTEN on the embedded database: its own session's NOTIFYs, delivered as they commit. */
    async listen(channel: string, onMessage: (payload: string) => void): Promise<() => Promise<void>> {
      const release = await lock.acquire();
      let unlisten: () => Promise<void>;
      try {
        unlisten = await db.listen(channel, onMessage);
      } finally {
        release();
      }
      return async () => {
        const again = await lock.acquire();
        try {
          if (!db.closed) await unlisten();
        } finally {
          again();
        }
      };
    }

    end(cb?: (err?: Error) => void) {
      const done = opts.closeOnEnd && !db.closed ? lock.acquire().then(() => db.close()) : Promise.resolve();
      done.then(
        () => cb?.(),
        (e: Error) => cb?.(e),
      );
      return done;
    }
  }

  return { Pool };
}
