import { Inject, Injectable, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';

import { StowageConfig } from '../config';
import { ACCESS_CHANNEL, ACCESS_TABLES } from './migrations/1764000000400-access-notifications';
import { preparedRows } from './prepared';

export type AccessTable = (typeof ACCESS_TABLES)[number];

/** What listens on the embedded database (the PGlite shim's pool has it). */
interface EmbeddedListener {
  listen(channel: string, onMessage: (payload: string) => void): Promise<() => Promise<void>>;
}

/**
 * Tells the caches of access rows (tokens, users, members, projects, namespaces, groups'
 * forwarding switches: see the AccessNotifications migration) when what they hold is out of date.
 *
 * With a shared PostgreSQL, every change to those tables moves `access_epoch` in its own
 * transaction, and each request reads it once (`sync`, from AuthService.authenticate) before
 * any cache answers it: a request that starts after a change committed, on any server, sees
 * the change. One indexed single-row read replaces the token, project and membership reads.
 * The embedded database is one process's: its own NOTIFYs reach it as each write commits,
 * before the writer answers, so it reads nothing per request.
 */
@Injectable()
export class AccessEpoch implements OnModuleInit, OnApplicationShutdown {
  private readonly listeners = new Set<(table: AccessTable | null) => void>();
  private unlisten?: () => Promise<void>;
  private seen: string | null = null;

  constructor(
    @InjectDataSource() private readonly ds: DataSource,
    @Inject(StowageConfig) private readonly config: StowageConfig,
  ) {}

  /** Calls `fn` with the changed table, or null for "anything may have changed". */
  subscribe(fn: (table: AccessTable | null) => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  async onModuleInit(): Promise<void> {
    if (this.config.database.url) return;
    const pool = (this.ds.driver as unknown as { master?: Partial<EmbeddedListener> }).master;
    if (!pool?.listen) throw new Error('the embedded database cannot LISTEN');
    this.unlisten = await pool.listen(ACCESS_CHANNEL, (payload) => this.changed(payload));
  }

  async onApplicationShutdown(): Promise<void> {
    await this.unlisten?.().catch(() => undefined);
  }

  /** Brings the caches up to date with every change committed before this call. */
  async sync(): Promise<void> {
    if (!this.config.database.url) return;
    const [row] = await preparedRows<{ epoch: string }>(this.ds, 'access-epoch', 'SELECT epoch FROM access_epoch', []);
    if (row.epoch === this.seen) return;
    this.seen = row.epoch;
    this.changed('');
  }

  private changed(payload: string): void {
    const table = (ACCESS_TABLES as readonly string[]).includes(payload) ? (payload as AccessTable) : null;
    for (const fn of this.listeners) fn(table);
  }
}
