import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource, EntityManager } from 'typeorm';

import { httpErrors } from '../../http/http-error';
import { FormatRegistry } from '../../plugin/format-registry';
import type { PackageCaller, ProjectContext } from '../../projects/project-context';
import type { PackageName } from '../package.service';

export type ProtectedAction = 'push' | 'delete';

const LEVEL_COLUMN: Record<ProtectedAction, string> = {
  push: 'r.minimum_access_level_for_push',
  delete: 'r.minimum_access_level_for_delete',
};

/**
 * GitLab's refusals (`403 Forbidden - Package protected.`), also as the reason phrase: mvn and
 * NuGet show a failed request's status line only. A format whose clients read another shape
 * (npm's `{"error"}`) passes its own refusal.
 */
export const packageProtected = (): Error => httpErrors.forbidden('Package protected.').withReason('Forbidden - Package protected.');
export const packageDeletionProtected = (): Error =>
  httpErrors.forbidden('Package is deletion protected.').withReason('Forbidden - Package is deletion protected.');

/**
 * Package protection rules, read from the database on every check (writes are rare next to
 * reads, and a rule changed on one server holds on all of them at once). A name matches a
 * rule's pattern as it was sent or in its format's normalized spelling, so `My_Pkg` cannot
 * slip past a PyPI rule on `my-pkg`.
 */
@Injectable()
export class PackageProtection {
  constructor(
    @InjectDataSource() private readonly ds: DataSource,
    private readonly formats: FormatRegistry,
  ) {}

  /**
   * Whether a rule on the name refuses `action` to a caller: admins pass; a deploy token (no
   * role) is refused by every rule that sets a level for the action, as GitLab; a user or a
   * job token's user is refused below the rule's level.
   */
  async refuses(ref: PackageName, action: ProtectedAction, caller: PackageCaller): Promise<boolean> {
    const { principal } = caller;
    if ((principal.kind === 'user' || principal.kind === 'job') && principal.user.is_admin) return false;
    const level = principal.kind === 'deploy' ? 0 : caller.accessLevel;
    return this.matches(ref, { column: LEVEL_COLUMN[action], level });
  }

  /**
   * Whether any rule covers the name, whatever its levels: what nobody but a person with the
   * rule's level may change, and so what automated deletion (cleanup policies) must leave alone.
   */
  async protects(ref: PackageName, manager?: EntityManager): Promise<boolean> {
    return this.matches(ref, null, manager);
  }

  /** Refuses (`403 Package protected.`, or the format's `refuse()`) a push of `name` by the request's caller. */
  async assertMayPush(ctx: ProjectContext, packageType: string, name: string, refuse = packageProtected): Promise<void> {
    if (await this.refuses({ projectId: ctx.project.id, packageType, name }, 'push', callerOf(ctx))) throw refuse();
  }

  /**
   * Refuses (`403 Package is deletion protected.`, or `refuse()`) a deletion of `name` (a
   * version, or some of its files) by the request's caller.
   */
  async assertMayDelete(ctx: ProjectContext, packageType: string, name: string, refuse = packageDeletionProtected): Promise<void> {
    if (await this.refuses({ projectId: ctx.project.id, packageType, name }, 'delete', callerOf(ctx))) throw refuse();
  }

  /**
   * Whether a rule matches the name (and, with `below`, sets a level for the action above the
   * caller's). A project has few rules, so they are matched here: the name as sent against the
   * pattern as written, and both in the format's normalized spelling, so a PyPI rule on
   * `acme_core` holds against `Acme.Core` and `acme-core` alike.
   */
  private async matches(
    ref: PackageName,
    below: { column: string; level: number } | null,
    manager: EntityManager = this.ds.manager,
  ): Promise<boolean> {
    const params: unknown[] = [ref.projectId, ref.packageType];
    const levelCondition = below ? `AND ${below.column} > $${params.push(below.level)}` : '';
    const rules: { package_name_pattern: string }[] = await manager.query(
      `SELECT r.package_name_pattern FROM package_protection_rules r WHERE r.project_id = $1 AND r.package_type = $2 ${levelCondition}`,
      params,
    );
    if (!rules.length) return false;
    const format = this.formats.has(ref.packageType) ? this.formats.get(ref.packageType) : null;
    const normalize = (name: string) => (format ? format.normalizeName(name) : name);
    const normalized = normalize(ref.name);
    return rules.some(({ package_name_pattern: pattern }) => globMatches(pattern, ref.name) || globMatches(normalize(pattern), normalized));
  }
}

function callerOf(ctx: ProjectContext): PackageCaller {
  // Every route that writes has one (PackageAccessGuard, or a format resolving the project itself through `withCaller`).
  if (!ctx.caller) throw new Error(`no caller for a package change in project ${ctx.project.id}`);
  return ctx.caller;
}

/**
 * GitLab's glob (`Gitlab::SQL::Glob`): `*` is any run of characters, everything else itself,
 * case-insensitive. Greedy with one backtrack point, so linear-ish in the lengths: no regex
 * is built from a pattern a user wrote.
 */
export function globMatches(pattern: string, name: string): boolean {
  const p = pattern.toLowerCase();
  const n = name.toLowerCase();
  let pi = 0;
  let ni = 0;
  let star = -1;
  let resume = 0;
  while (ni < n.length) {
    if (pi < p.length && p[pi] === '*') {
      star = pi++;
      resume = ni;
    } else if (pi < p.length && p[pi] === n[ni]) {
      pi++;
      ni++;
    } else if (star >= 0) {
      pi = star + 1;
      ni = ++resume;
    } else {
      return false;
    }
  }
  while (pi < p.length && p[pi] === '*') pi++;
  return pi === p.length;
}
