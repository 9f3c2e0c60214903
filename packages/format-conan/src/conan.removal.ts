import { Injectable } from '@nestjs/common';
import { type Package, type PackageFile, PackageService, type ProjectContext } from '@stowage/core';

import { type ConanFileMetadata, fileMeta } from './conan.metadata';

/**
 * Removes files of a recipe by a predicate over their metadata; the package goes with its last
 * file. A recipe a protection rule holds back from the caller is refused first (`403`).
 */
@Injectable()
export class ConanRemoval {
  constructor(private readonly packages: PackageService) {}

  async removeRecipe(ctx: ProjectContext, pkg: Package): Promise<void> {
    await this.packages.assertMayDelete(ctx, pkg.package_type, pkg.name);
    await this.packages.deletePackage(pkg);
  }

  /** Returns how many files were removed. */
  async removeFiles(ctx: ProjectContext, pkg: Package, which: (f: PackageFile, meta: ConanFileMetadata) => boolean): Promise<number> {
    await this.packages.assertMayDelete(ctx, pkg.package_type, pkg.name);
    return this.packages.write(async (w) => {
      const files = await w.files(pkg);
      const gone = files.filter((f) => which(f, fileMeta(f)));
      if (gone.length && gone.length === files.length) await w.deletePackage(pkg);
      else await w.deleteFiles(pkg, gone);
      return gone.length;
    });
  }
}
