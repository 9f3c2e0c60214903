import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';

import { PackageProtection } from '../packages/protection/package-protection';

/** What a guard is asked about: one package version a cleanup would delete, or whose files it would trim. */
export interface CleanupCandidate {
  id: number;
  project_id: number;
  /** The stored package_type (the format's name: `go`, not GitLab's `golang`). */
  package_type: string;
  name: string;
  normalized_name: string;
  version: string;
}

/**
 * What cleanup must leave alone, asked of every package before it is planned and again before
 * it is deleted: any package a protection rule covers, whatever the rule's levels (a cleanup
 * acts for nobody in particular, so no level lets it through).
 */
@Injectable()
export class CleanupGuards {
  constructor(private readonly protection: PackageProtection) {}

  /** `manager`: the transaction the caller holds (the embedded database has one connection). */
  protects(pkg: CleanupCandidate, manager?: EntityManager): Promise<boolean> {
    return this.protection.protects({ projectId: pkg.project_id, packageType: pkg.package_type, name: pkg.name }, manager);
  }
}
