import {
  type HttpError,
  httpErrors,
  type Package,
  PackageService,
  type Principal,
  type SqlCondition,
  unauthorizedWithChallenge,
} from '@stowage/core';

export const MAVEN = 'maven';

/**
 * Where a download looks: one project, the readable projects of a group's tree, or every
 * readable project whose path the package name starts with (GitLab's instance endpoint
 * naming convention).
 */
/** Where a name's documents come from in a scope, and their version there. */
export interface ScopeRevision {
  /** The scope and the projects holding the name: one cached document each, whatever their revisions. */
  sources: string;
  /** Changes whenever anything of the name changes in those projects. */
  stamp: string;
}

export interface MavenScope {
  /** Null when the name is unknown here (answer at once). */
  revision(name: string): Promise<ScopeRevision | null>;
  findPackage(name: string, version: string): Promise<Package | null>;
  /** Every live package of the name (versionless metadata package included), oldest first. */
  listVersions(name: string): Promise<Package[]>;
  /** The answer when nothing matched. */
  miss(): HttpError;
}

const packageNotFound = () => httpErrors.notFound('Package');

export class ProjectScope implements MavenScope {
  constructor(
    private readonly packages: PackageService,
    private readonly projectId: number,
  ) {}

  async revision(name: string): Promise<ScopeRevision | null> {
    const rev = await this.packages.revision({ projectId: this.projectId, packageType: MAVEN, name });
    return rev === 0 ? null : { sources: `p${this.projectId}`, stamp: String(rev) };
  }

  findPackage(name: string, version: string) {
    return this.packages.findPackage({ projectId: this.projectId, packageType: MAVEN, name, version });
  }

  listVersions(name: string) {
    return this.packages.listVersions({ projectId: this.projectId, packageType: MAVEN, name });
  }

  miss() {
    return packageNotFound();
  }
}

/**
 * Group and instance scopes: one joined query per lookup, restricted by SQL to what the
 * caller may read, and cached under the stamp of the readable projects holding the name.
 * As in GitLab (`unauthorized_or! { not_found! }`), an anonymous miss is a 401 with the
 * Basic challenge, so that mvn retries with the credentials it holds.
 */
export class ProjectsScope implements MavenScope {
  private constructor(
    private readonly packages: PackageService,
    private readonly principal: Principal,
    private readonly label: string,
    private readonly projects: (name: string) => SqlCondition,
  ) {}

  static group(packages: PackageService, principal: Principal, readable: SqlCondition, groupId: number): ProjectsScope {
    const condition = {
      where: `(${readable.where}) AND :mvnGroup = ANY(n.traversal_ids)`,
      params: { ...readable.params, mvnGroup: groupId },
    };
    return new ProjectsScope(packages, principal, `g${groupId}`, () => condition);
  }

  /** GitLab's naming convention for the instance endpoint: the package name starts with its project's full path. */
  static instance(packages: PackageService, principal: Principal, readable: SqlCondition): ProjectsScope {
    return new ProjectsScope(packages, principal, 'i', (name) => ({
      where: `(${readable.where}) AND starts_with(lower(:mvnName), lower(p.full_path) || '/')`,
      params: { ...readable.params, mvnName: name },
    }));
  }

  async revision(name: string): Promise<ScopeRevision | null> {
    const stamp = await this.packages.revisionIn({ packageType: MAVEN, name }, this.projects(name));
    // revisionIn lists `project.revision` pairs; callers who may read different projects get different documents.
    return stamp === null ? null : { sources: `${this.label}:${stamp.replace(/\.\d+/g, '')}`, stamp };
  }

  findPackage(name: string, version: string) {
    return this.packages.findPackageIn({ packageType: MAVEN, name, version }, this.projects(name));
  }

  listVersions(name: string) {
    return this.packages.listVersionsIn({ packageType: MAVEN, name }, this.projects(name));
  }

  miss() {
    return this.principal.kind === 'anonymous' ? unauthorizedWithChallenge() : packageNotFound();
  }
}
