import { Injectable } from '@nestjs/common';
import { type Package, PackageService } from '@stowage/core';

import { compareVersions, isPseudoVersion, parseSemver } from './go.naming';
import { GO } from './go.upload';

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

export interface ModuleIndex {
  revision: number;
  /** The `@v/list` body. */
  list: string;
  /** The `@latest` body. */
  latest: string;
}

const MAX_CACHED = 1000;

/**
 * `@v/list` and `@latest` of a module, cached by the name's revision: a hot read costs one
 * indexed lookup of the revision, a module never published costs the same and is a 404, and
 * any number of server processes may cache without serving a stale list.
 */
@Injectable()
export class GoModuleIndex {
  private readonly cache = new Map<string, ModuleIndex>();

  constructor(private readonly packages: PackageService) {}

  /** Null when the module has no versions here. */
  async get(projectId: number, module: string): Promise<ModuleIndex | null> {
    const name = { projectId, packageType: GO, name: module };
    // Read before the rows: a publish in between is cached under the older revision and re-rendered next time.
    const revision = await this.packages.revision(name);
    if (revision === 0) return null;
    const key = `${projectId}\u0000${module}`;
    const hit = this.cache.get(key);
    if (hit && hit.revision === revision) {
      this.cache.delete(key);
      this.cache.set(key, hit);
      return hit.list === '' && hit.latest === '' ? null : hit;
    }
    const versions = await this.packages.listVersions(name);
    const index = versions.length
      ? { revision, list: renderList(versions), latest: renderInfo(latest(versions)!) }
      : { revision, list: '', latest: '' };
    this.cache.set(key, index);
    if (this.cache.size > MAX_CACHED) this.cache.delete(this.cache.keys().next().value!);
    return versions.length ? index : null;
  }
}
