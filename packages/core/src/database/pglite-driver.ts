import { EventEmitter } from 'node:events';

import pg from 'pg';
import { serialize } from 'pg-protocol';

import type { EmbeddedDatabase } from './embedded-database';

/** Statement names prepared in each PGlite session (by node-postgres' bookkeeping), kept with the session. */
const prepared = new WeakMap<EmbeddedDatabase, { parsed: Record<string, string>; submitted: Record<string, string> }>();
function preparedIn(db: EmbeddedDatabase) {
  let names = prepared.get(db);
  if (!names) prepared.set(db, (names = { parsed: {}, submitted: {} }));
  return names;
}

/**
 * node-postgres' connection (the wire it writes frontend messages to and reads backend
 * messages from) over PGlite. Messages are held until the Sync, Flush or simple Query that
 * ends them and then run in one PGlite call: node-postgres writes five messages per
 * parameterised query, and PGlite's own `query()` makes six calls into PostgreSQL for one,
 * each with its fixed cost. Results, errors and notices are node-postgres' own handling of
 * the messages, so values come back exactly as in PostgreSQL mode.
 */
class PgliteConnection extends EventEmitter {
  // Read by pg's Client.end(): it only ends a connection that was connected.
  _connecting = false;
  readonly stream = { destroy: () => this.end() };
  private pending: Uint8Array[] = [];

  constructor(
    private readonly db: EmbeddedDatabase,
    private readonly session: { queue: Promise<void> },
  ) {
    super();
  }

  // node-postgres keeps the names it has prepared on the connection, as a server's session
  // keeps the statements: here every connection is the one PGlite session, which outlives a
  // client that pg-pool discards after an error and a second pool over the same database.
  get parsedStatements(): Record<string, string> {
    return preparedIn(this.db).parsed;
  }
  get submittedNamedStatements(): Record<string, string> {
    return preparedIn(this.db).submitted;
  }

  connect() {
    this._connecting = true;
    process.nextTick(() => this.emit('readyForQuery', { name: 'readyForQuery', length: 5, status: 'I' }));
  }

  private send() {
    const batch = this.pending.length === 1 ? this.pending[0] : Buffer.concat(this.pending);
    this.pending = [];
    this.session.queue = this.session.queue.then(async () => {
      try {
        const messages = await this.db.execProtocolStream(batch, { throwOnError: false });
        for (const m of messages) this.emit(m.name === 'error' ? 'errorMessage' : m.name, m);
      } catch (err) {
        this.emit('error', err);
      }
    });
  }

  query(text: string) {
    this.pending.push(serialize.query(text));
    this.send();
  }
  parse(q: Parameters<typeof serialize.parse>[0]) {
    this.pending.push(serialize.parse(q));
  }
  bind(config: Parameters<typeof serialize.bind>[0]) {
    this.pending.push(serialize.bind(config));
  }
  execute(config: Parameters<typeof serialize.execute>[0]) {
    this.pending.push(serialize.execute(config));
  }
  describe(msg: Parameters<typeof serialize.describe>[0]) {
    this.pending.push(serialize.describe(msg));
  }
  close(msg: Parameters<typeof serialize.close>[0]) {
    this.pending.push(serialize.close(msg));
  }
  flush() {
    this.pending.push(serialize.flush());
    this.send();
  }
  sync() {
    this.pending.push(serialize.sync());
    this.send();
  }
  sendCopyFromChunk(chunk: Buffer) {
    this.pending.push(serialize.copyData(chunk));
  }
  endCopyFrom() {
    this.pending.push(serialize.copyDone());
    this.send();
  }
  sendCopyFail(msg: string) {
    this.pending.push(serialize.copyFail(msg));
    this.send();
  }

  /** Like a socket closing; the PGlite session itself stays open (the pool closes it). */
  end() {
    this.pending = [];
    this.session.queue = this.session.queue.then(() => void this.emit('end'));
  }

  // Nothing to negotiate: PGlite is in-process and already started.
  requestSsl() {}
  startup() {}
  cancel() {}
  password() {}
  ref() {}
  unref() {}
}

/**
 * The node-postgres module TypeORM's postgres driver is given in embedded mode: pg's own Pool
 * and Client over one PGlite instance. PGlite is one session, so the pool has one client:
 * transactions from concurrent requests queue instead of interleaving, and (as with any pool
 * of size one) a query issued outside an open transaction's own query runner waits for it.
 */
export function pgliteNodePostgresShim(db: EmbeddedDatabase, opts: { closeOnEnd: boolean }): { Pool: new (o?: pg.PoolConfig) => object } {
  const session = { queue: Promise.resolve() };

  class Client extends pg.Client {
    constructor(config?: pg.ClientConfig) {
      super({ ...config, connection: new PgliteConnection(db, session) } as pg.ClientConfig);
    }
  }

  class Pool extends pg.Pool {
    constructor(config?: pg.PoolConfig) {
      // One client, kept: closing an idle one would only make the next request open another.
      super({ ...config, max: 1, idleTimeoutMillis: 0, Client } as pg.PoolConfig);
    }

    /** LISTEN on the embedded database: its own session's NOTIFYs, delivered as they commit. */
    async listen(channel: string, onMessage: (payload: string) => void): Promise<() => Promise<void>> {
      const client = await this.connect();
      let unlisten: () => Promise<void>;
      try {
        unlisten = await db.listen(channel, onMessage);
      } finally {
        client.release();
      }
      return async () => {
        const again = await this.connect();
        try {
          if (!db.closed) await unlisten();
        } finally {
          again.release();
        }
      };
    }

    override end(): Promise<void>;
    override end(cb: () => void): void;
    override end(cb?: () => void): Promise<void> | void {
      const done = super.end().then(() => (opts.closeOnEnd && !db.closed ? session.queue.then(() => db.close()) : undefined));
      if (!cb) return done;
      done.then(cb, cb);
    }
  }

  return { Pool };
}
