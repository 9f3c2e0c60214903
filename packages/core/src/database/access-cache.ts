import { LRUCache } from 'lru-cache';

import type { AccessEpoch, AccessTable } from './access-epoch';

/**
 * Rows of the access tables (or what is computed from them) kept in this process, dropped
 * whole when AccessEpoch tells of a change to a table they were read from. Consult it only in
 * a request that has authenticated (AuthService.authenticate syncs the epoch first); code
 * that runs outside a request reads the database. A value whose load straddled a change is
 * not kept. Values are shared between requests: callers must not change them.
 */
export class AccessCache<V> {
  private readonly entries: LRUCache<string, { value: V }>;
  /** Moves on every change told, so a load that straddles one is not kept. */
  private generation = 0;

  constructor(epoch: AccessEpoch, tables: readonly AccessTable[], max: number) {
    this.entries = new LRUCache({ max });
    epoch.subscribe((table) => {
      if (table !== null && !tables.includes(table)) return;
      this.generation++;
      this.entries.clear();
    });
  }

  /** The value under `key`, loaded (and kept unless `keep` says no) on a miss. */
  async get(key: string, load: () => Promise<V>, keep: (value: V) => boolean = () => true): Promise<V> {
    const hit = this.entries.get(key);
    if (hit) return hit.value;
    const generation = this.generation;
    const value = await load();
    if (generation === this.generation && keep(value)) this.entries.set(key, { value });
    return value;
  }
}
