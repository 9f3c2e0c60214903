import { Injectable } from '@nestjs/common';
import { type Package, PackageService, type RenderedDocument, renderedDocument, RenderedDocuments } from '@stowage/core';

import { compareVersions, isPseudoVersion, parseSemver } from './go.naming';
import { GO } from './go.naming';

// The GOPROXY documents, rendered from package rows alone (no per-version queries).

/** `@v/list`: the tagged versions, one per line, oldest first; pseudo-versions never appear. */
export function renderList(pkgs: readonly Package[]): string {
  const versions = pkgs.map((p) => p.version).filter((v) => !isPseudoVersion(v));
  versions.sort(compareVersions);
  return versions.map((v) => `${v}\n`).join('');
}

/** `.info` / `@latest`: `{"Version","Time"}`, Time being when the version was published. */
export function renderInfo(pkg: Package): string {
  return JSON.stringify({ Version: pkg.version, Time: pkg.created_at.toISOString() });
}

/**
 * What `go get m@latest` should pick: the highest release, else the highest pre-release,
 * else the highest pseudo-version.
 */
export function latest(pkgs: readonly Package[]): Package | undefined {
  const rank = (v: string) => (isPseudoVersion(v) ? 0 : parseSemver(v)?.prerelease ? 1 : 2);
  let best: Package | undefined;
  for (const p of pkgs) {
    if (!best) best = p;
    else {
      const d = rank(p.version) - rank(best.version) || compareVersions(p.version, best.version);
      if (d > 0) best = p;
    }
  }
  return best;
}

/** The module documents that change with every publish: `@v/list` and `@latest`. */
export type ModuleIndexKind = 'list' | 'latest';

/**
 * `@v/list` and `@latest` of a module, kept in core's RenderedDocuments under the name's
 * revision: a hot read costs one indexed lookup of the revision, a module never published
 * costs the same and is a 404, and any number of server processes may cache without serving
 * a stale list.
 */
@Injectable()
export class GoMetadata {
  constructor(
    private readonly packages: PackageService,
    private readonly documents: RenderedDocuments,
  ) {}

  /** Null when the module has no versions here. */
  async document(projectId: number, module: string, kind: ModuleIndexKind): Promise<RenderedDocument | null> {
    const name = { projectId, packageType: GO, name: module };
    // Read before the rows: a publish in between is cached under the older revision and re-rendered next time.
    const revision = await this.packages.revision(name);
    if (revision === 0) return null;
    return this.documents.get(`${GO}\u0000${kind}\u0000${projectId}\u0000${module}`, revision, async () => {
      const versions = await this.packages.listVersions(name);
      if (!versions.length) return null;
      return renderedDocument(kind === 'list' ? renderList(versions) : renderInfo(latest(versions)!));
    });
  }
}
