import { Injectable } from '@nestjs/common';
import { type Package, PackageService } from '@stowage/core';

const INTERVAL_MS = 60_000;
const MAX_TRACKED = 10_000;

/**
 * Records tarball downloads at most once a minute per version and process: `npm install`
 * of a busy package would otherwise queue one UPDATE per request behind the reads.
 */
@Injectable()
export class NpmDownloads {
  private readonly lastMarked = new Map<number, number>();

  constructor(private readonly packages: PackageService) {}

  mark(pkg: Package): void {
    const now = Date.now();
    const last = this.lastMarked.get(pkg.id);
    if (last !== undefined && now - last < INTERVAL_MS) return;
    if (this.lastMarked.size >= MAX_TRACKED) this.lastMarked.clear();
    this.lastMarked.set(pkg.id, now);
    this.packages.markDownloaded(pkg);
  }
}
