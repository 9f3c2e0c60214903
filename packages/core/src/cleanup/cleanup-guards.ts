import { Injectable } from '@nestjs/common';

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
 * it is deleted. By default nothing is protected; package protection rules plug in here (a
 * provider of this class whose `protects` answers from `packages_protection_rules`).
 */
@Injectable()
export class CleanupGuards {
  protects(_pkg: CleanupCandidate): boolean | Promise<boolean> {
    return false;
  }
}
