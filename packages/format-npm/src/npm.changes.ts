import { Injectable } from '@nestjs/common';
import { isJsonObject, LIVE_STATUSES, type Package, PackageService, type ProjectContext } from '@stowage/core';

import { npmErrors } from './npm.errors';
import type { NpmManifest } from './npm.manifest';
import { assertTagName, NPM } from './npm.naming';

/** Everything npm changes on a published name besides publishing: deprecate, unpublish, dist-tags. */
@Injectable()
export class NpmChanges {
  constructor(private readonly packages: PackageService) {}

  private ref(ctx: ProjectContext, name: string) {
    return { projectId: ctx.project.id, packageType: NPM, name };
  }

  /** Deprecations and dist-tags change what installs of a name get: a protected name's are a push (GitLab's rule). */
  private mayPush(ctx: ProjectContext, name: string): Promise<void> {
    return this.packages.assertMayPush(ctx, NPM, name, npmErrors.protected);
  }

  private mayDelete(ctx: ProjectContext, name: string): Promise<void> {
    return this.packages.assertMayDelete(ctx, NPM, name, npmErrors.deletionProtected);
  }

  private async versions(ctx: ProjectContext, name: string): Promise<Map<string, Package>> {
    // Unpublish sees every version that still exists, whatever its state.
    const pkgs = await this.packages.listVersions(this.ref(ctx, name), LIVE_STATUSES);
    if (!pkgs.length) throw npmErrors.notFound();
    return new Map(pkgs.map((p) => [p.version, p]));
  }

  /**
   * `npm deprecate` PUTs the whole packument back with `deprecated` set on the versions it
   * matched (`""` to undo). Each listed version gets its own message.
   */
  async deprecate(ctx: ProjectContext, name: string, body: Record<string, unknown>): Promise<void> {
    const sent = isJsonObject(body.versions) ? body.versions : {};
    const messages = new Map<string, string>();
    for (const [version, manifest] of Object.entries(sent)) {
      if (isJsonObject(manifest) && typeof manifest.deprecated === 'string') messages.set(version, manifest.deprecated);
    }
    if (!messages.size) throw npmErrors.badRequest('"package versions to deprecate" not given');
    const existing = await this.versions(ctx, name);
    await this.mayPush(ctx, name);
    await this.packages.write(async (w) => {
      for (const [version, message] of messages) {
        const pkg = existing.get(version);
        if (!pkg || (pkg.metadata as NpmManifest).deprecated === (message || undefined)) continue;
        const { deprecated: _, ...rest } = pkg.metadata as NpmManifest;
        await w.update(pkg, {
          metadata: message ? { ...rest, deprecated: message } : rest,
          status: message ? 'deprecated' : pkg.status === 'deprecated' ? 'default' : undefined,
        });
      }
    });
  }

  /**
   * `npm unpublish name@version` PUTs the packument without that version (and with its
   * dist-tags re-pointed): versions missing from it are deleted, tags follow the body.
   */
  async unpublishVersions(ctx: ProjectContext, name: string, body: Record<string, unknown>): Promise<void> {
    const kept = isJsonObject(body.versions) ? body.versions : {};
    // Removing every version is `DELETE <name>/-rev/…`; a PUT without versions is a mistake.
    if (!Object.keys(kept).length) throw npmErrors.badRequest('"versions" not given');
    const tags = isJsonObject(body['dist-tags']) ? body['dist-tags'] : {};
    const existing = await this.versions(ctx, name);
    if ([...existing.keys()].some((version) => !(version in kept))) await this.mayDelete(ctx, name);
    await this.mayPush(ctx, name);
    const current = await this.packages.tags(this.ref(ctx, name));
    const normalizedName = this.packages.normalizeName(NPM, name);
    await this.packages.write(async (w) => {
      for (const [version, pkg] of existing) if (!(version in kept)) await w.deletePackage(pkg);
      for (const tag of current.keys()) {
        if (!(tag in tags)) await w.removeTag({ projectId: ctx.project.id, packageType: NPM, normalizedName }, tag);
      }
      for (const [tag, version] of Object.entries(tags)) {
        const pkg = typeof version === 'string' && version in kept ? existing.get(version) : undefined;
        if (pkg && current.get(tag) !== pkg.id) {
          assertTagName(tag);
          await w.setTag(pkg, tag);
        }
      }
    });
  }

  /** `npm unpublish name` (or of its only version): every version goes. */
  async unpublishAll(ctx: ProjectContext, name: string): Promise<void> {
    const existing = await this.versions(ctx, name);
    await this.mayDelete(ctx, name);
    await this.packages.write(async (w) => {
      for (const pkg of existing.values()) await w.deletePackage(pkg);
    });
  }

  /** The tarball DELETE that ends a one-version unpublish; the version is usually gone already. */
  async unpublishVersion(ctx: ProjectContext, name: string, version: string): Promise<void> {
    const pkg = (await this.versions(ctx, name)).get(version);
    if (!pkg) throw npmErrors.notFound();
    await this.mayDelete(ctx, name);
    await this.packages.deletePackage(pkg);
  }

  /** Whether a project has this version (live) of a name. */
  async hasVersion(projectId: number, name: string, version: string): Promise<boolean> {
    return Boolean(await this.packages.findPackage({ projectId, packageType: NPM, name, version }));
  }

  async hasTag(projectId: number, name: string, tag: string): Promise<boolean> {
    return (await this.packages.tags({ projectId, packageType: NPM, name })).has(tag);
  }

  async setTag(ctx: ProjectContext, name: string, tag: string, version: unknown): Promise<void> {
    assertTagName(tag);
    if (typeof version !== 'string' || !version) throw npmErrors.badRequest('"Version" not given');
    const pkg = await this.packages.findPackage({ ...this.ref(ctx, name), version });
    if (!pkg) throw npmErrors.notFound();
    await this.mayPush(ctx, name);
    await this.packages.write((w) => w.setTag(pkg, tag));
  }

  async removeTag(ctx: ProjectContext, name: string, tag: string): Promise<void> {
    const normalizedName = this.packages.normalizeName(NPM, name);
    await this.mayPush(ctx, name);
    const removed = await this.packages.write((w) => w.removeTag({ projectId: ctx.project.id, packageType: NPM, normalizedName }, tag));
    if (!removed) throw npmErrors.notFound('Package tag');
  }
}
