import { Injectable } from '@nestjs/common';
import { type Package, type PackageFile, PackageService } from '@stowage/core';

import { type ConanFileMetadata, fileMeta } from './conan.metadata';

/** Removes files of a recipe by a predicate over their metadata; the package goes with its last file. */
@Injectable()
export class ConanRemoval {
  constructor(private readonly packages: PackageService) {}

  async removeRecipe(pkg: Package): Promise<void> {
    await this.packages.deletePackage(pkg);
  }

  /** Returns how many files were removed. */
  async removeFiles(pkg: Package, which: (f: PackageFile, meta: ConanFileMetadata) => boolean): Promise<number> {
    return this.packages.write(async (w) => {
      const files = await w.files(pkg);
      const gone = files.filter((f) => which(f, fileMeta(f)));
      if (gone.length && gone.length === files.length) await w.deletePackage(pkg);
      else await w.deleteFiles(pkg, gone);
      return gone.length;
    });
  }
}
