import { Inject, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';

import type { PackageScope } from '../auth/package-scope';
import { StowageConfig } from '../config';
import { AccessCache } from '../database/access-cache';
import { AccessEpoch } from '../database/access-epoch';
import { ApiParams } from '../http/api-params';
import { httpErrors } from '../http/http-error';
import { FormatRegistry } from '../plugin/format-registry';
import { isForwardingConfig } from './upstream-config';

export interface ForwardingSetting {
  /** Whether names nobody in scope holds go to the upstream here. */
  forwarding: boolean;
  /** This group's own lock: its descendants cannot change the switch. */
  lock: boolean;
  /** The instance or an ancestor group locked the switch, so this group cannot change it. */
  locked: boolean;
}

interface Row {
  forwarding: boolean | null;
  locked: boolean;
  depth: number;
  self_depth: number;
}

/**
 * GitLab's `<format>_package_requests_forwarding`: the instance default and lock from the
 * config, a group's own value (null inherits) and lock, and the nearest value in force, read
 * from the root group down and stopping at the first lock.
 */
@Injectable()
export class RequestForwarding {
  /** The switch in force per project or group and format: every local miss asks it. */
  private readonly inForce: AccessCache<boolean>;

  constructor(
    @InjectDataSource() private readonly ds: DataSource,
    @Inject(StowageConfig) private readonly config: StowageConfig,
    private readonly registry: FormatRegistry,
    epoch: AccessEpoch,
  ) {
    this.inForce = new AccessCache(epoch, ['namespace_forwarding', 'projects', 'namespaces'], 10_000);
  }

  /** The enabled formats that have the switch. */
  formats(): string[] {
    return this.registry.names().filter((f) => isForwardingConfig(this.config.formats[f]));
  }

  private instance(format: string): { forwarding: boolean; locked: boolean } {
    const c = this.config.formats[format];
    if (!isForwardingConfig(c)) return { forwarding: false, locked: true };
    return { forwarding: c.package_requests_forwarding, locked: c.lock_package_requests_forwarding };
  }

  /** Whether a request at this scope may forward (the instance default at instance scope). */
  async inScope(scope: PackageScope, format: string): Promise<boolean> {
    if (scope.kind === 'instance') return this.instance(format).forwarding;
    const namespace =
      scope.kind === 'project'
        ? { sql: '(SELECT namespace_id FROM projects WHERE id = $1)', id: scope.projectId }
        : { sql: '$1', id: scope.groupId };
    return this.inForce.get(
      `${scope.kind}:${namespace.id}:${format}`,
      async () => (await this.resolve(namespace.sql, namespace.id, format)).forwarding,
    );
  }

  /** The setting of one group, as its package settings show it. */
  group(namespaceId: number, format: string): Promise<ForwardingSetting> {
    return this.resolve('$1', namespaceId, format);
  }

  private async resolve(namespaceSql: string, id: number, format: string): Promise<ForwardingSetting> {
    const rows: Row[] = await this.ds.query(
      `SELECT f.forwarding, f.locked, array_position(n.traversal_ids, f.namespace_id) AS depth,
              array_length(n.traversal_ids, 1) AS self_depth
       FROM namespaces n JOIN namespace_forwarding f ON f.namespace_id = ANY(n.traversal_ids) AND f.package_type = $2
       WHERE n.id = ${namespaceSql} ORDER BY depth`,
      [id, format],
    );
    let { forwarding, locked } = this.instance(format);
    let lock = false;
    for (const r of rows) {
      const own = r.depth === r.self_depth;
      if (own) lock = r.locked;
      if (locked) continue;
      if (r.forwarding !== null) forwarding = r.forwarding;
      if (r.locked && !own) locked = true;
    }
    return { forwarding, lock, locked };
  }

  /** Applies `<format>_package_requests_forwarding` and `lock_…` from a group's package settings request; all or nothing. */
  async update(namespaceId: number, query: unknown, body: unknown): Promise<void> {
    const p = new ApiParams(query, body);
    const patches: { format: string; forwarding?: boolean; lock?: boolean }[] = [];
    for (const format of this.formats()) {
      const key = `${format}_package_requests_forwarding`;
      const patch = { format, forwarding: p.boolean(key), lock: p.boolean(`lock_${key}`) };
      if (patch.forwarding === undefined && patch.lock === undefined) continue;
      if ((await this.group(namespaceId, format)).locked)
        throw httpErrors.invalidParam(key, 'is locked by an ancestor group or the instance');
      patches.push(patch);
    }
    for (const { format, forwarding, lock } of patches) {
      await this.ds.query(
        `INSERT INTO namespace_forwarding (namespace_id, package_type, forwarding, locked) VALUES ($1, $2, $3, $4)
         ON CONFLICT (namespace_id, package_type) DO UPDATE SET
           forwarding = CASE WHEN $5 THEN EXCLUDED.forwarding ELSE namespace_forwarding.forwarding END,
           locked = CASE WHEN $6 THEN EXCLUDED.locked ELSE namespace_forwarding.locked END`,
        [namespaceId, format, forwarding ?? null, lock ?? false, forwarding !== undefined, lock !== undefined],
      );
    }
  }

  /** `{"npm_package_requests_forwarding": true, "lock_npm_package_requests_forwarding": false, …}` for a group. */
  async json(namespaceId: number): Promise<Record<string, boolean>> {
    const out: Record<string, boolean> = {};
    for (const format of this.formats()) {
      const s = await this.group(namespaceId, format);
      out[`${format}_package_requests_forwarding`] = s.forwarding;
      out[`lock_${format}_package_requests_forwarding`] = s.lock;
      out[`${format}_package_requests_forwarding_locked`] = s.locked;
    }
    return out;
  }
}
