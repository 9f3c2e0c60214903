import type { EntityManager } from 'typeorm';

import type { Package } from './package.entity';
import { PackageFile } from './package-file.entity';

/** What one upload would duplicate, and how the format refuses it. */
export interface DuplicateRule {
  packageType: string;
  name: string;
  version: string;
  /** The version the exception regex is matched against when it is not `version` (Conan: `1.0`, not the row's `1.0@user/channel`). */
  regexVersion?: string;
  /**
   * What makes the upload a duplicate of the live package of its name and version: that
   * package existing at all (`'version'`: npm, Go), or some of its files (a file of the same
   * name, a .nupkg…).
   */
  conflicts: 'version' | ((files: PackageFile[]) => boolean);
  /**
   * Who may allow a duplicate: the project's package settings (GitLab's rule: nearest setting,
   * XOR the exception regex), or nobody (`'never'`: published versions are immutable).
   */
  allowedBy?: 'settings' | 'never';
  /** The format's own refusal (GitLab's wording and status code for it). */
  refuse: () => Error;
  /** The format's refusal of a push a protection rule holds back (default: core's `403 Package protected.`). */
  refuseProtected?: () => Error;
}

/** A rule with the settings in force resolved: hand it to `PackageWriter.upsertPackage`. */
export interface DuplicateCheck {
  readonly rule: DuplicateRule;
  readonly allowed: boolean;
}

/**
 * Throws the rule's refusal when `existing` (the live package the upload lands in, or null)
 * makes the upload a duplicate. The one check behind both the early refusal (outside any
 * transaction, before the body is read) and the authoritative one (in the write transaction,
 * under the package row's lock), so the two cannot disagree.
 */
export async function refuseDuplicate(manager: EntityManager, check: DuplicateCheck, existing: Package | null): Promise<void> {
  if (check.allowed || !existing) return;
  const { conflicts, refuse } = check.rule;
  if (conflicts === 'version') throw refuse();
  const files = await manager.getRepository(PackageFile).find({ where: { package_id: existing.id }, order: { id: 'ASC' } });
  if (conflicts(files)) throw refuse();
}
