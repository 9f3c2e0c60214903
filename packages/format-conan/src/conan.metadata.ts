import { Injectable } from '@nestjs/common';
import {
  HttpError,
  httpErrors,
  type Package,
  type PackageFile,
  type PackageScope,
  PackageService,
  type ProjectContext,
  ProjectsService,
} from '@stowage/core';

import {
  CONAN,
  type FileKind,
  type FileSlot,
  packageVersion,
  type RecipeRef,
  refFromPackage,
  refString,
  type SearchPattern,
} from './conan.naming';

/** What each stored file records about itself (PackageFile.metadata). */
export interface ConanFileMetadata {
  conan_file_type: 'recipe_file' | 'package_file';
  recipe_revision: string;
  conan_package_reference?: string;
  package_revision?: string;
  /** conaninfo.txt only: its parsed sections, for binary search. */
  conan_info?: ConanInfo;
}

export interface ConanInfo {
  /** The file as uploaded (what the reference server answers as `content`). */
  content: string;
  settings: Record<string, string>;
  options: Record<string, string>;
  requires: string[];
  /** Conan 1's `[full_requires]`; Conan 2 has only `[requires]`. */
  full_requires: string[];
  recipe_hash: string | null;
}

export interface Revision {
  revision: string;
  time: string;
}

export const fileMeta = (f: PackageFile) => f.metadata as unknown as ConanFileMetadata;

export function slotMetadata(slot: FileSlot): ConanFileMetadata {
  return slot.kind === 'recipe'
    ? { conan_file_type: 'recipe_file', recipe_revision: slot.recipeRevision }
    : {
        conan_file_type: 'package_file',
        recipe_revision: slot.recipeRevision,
        conan_package_reference: slot.packageId,
        package_revision: slot.packageRevision,
      };
}

/** The file is in the slot (a missing package revision matches any). */
export function inSlot(f: PackageFile, slot: FileSlot): boolean {
  const m = fileMeta(f);
  if (m.recipe_revision !== slot.recipeRevision) return false;
  if (slot.kind === 'recipe') return m.conan_file_type === 'recipe_file';
  return (
    m.conan_file_type === 'package_file' &&
    m.conan_package_reference === slot.packageId &&
    (slot.packageRevision === undefined || m.package_revision === slot.packageRevision)
  );
}

/** The newest file of each name in a slot, by name. */
export function slotFiles(files: PackageFile[], slot: FileSlot): Map<string, PackageFile> {
  const out = new Map<string, PackageFile>();
  for (const f of files) if (inSlot(f, slot)) out.set(f.file_name, f); // files come oldest first
  return new Map([...out].sort(([a], [b]) => (a < b ? -1 : 1)));
}

/** `{file: md5}`: Conan 1's snapshot. */
export const snapshot = (files: Map<string, PackageFile>) => Object.fromEntries([...files].map(([n, f]) => [n, f.file_md5]));

/** `{files: {name: {}}}`: Conan 2's file list. */
export const fileList = (files: Map<string, PackageFile>) => ({ files: Object.fromEntries([...files.keys()].map((n) => [n, {}])) });

/** Revisions of a recipe (or of one binary), newest first; a revision's time is its first file's. */
export function revisions(files: PackageFile[], pick: (m: ConanFileMetadata) => string | undefined): Revision[] {
  const first = new Map<string, Date>();
  for (const f of files) {
    const r = pick(fileMeta(f));
    if (r === undefined || r === '0') continue;
    const t = first.get(r);
    if (!t || f.created_at < t) first.set(r, f.created_at);
  }
  return [...first].sort(([, a], [, b]) => b.getTime() - a.getTime()).map(([revision, t]) => ({ revision, time: t.toISOString() }));
}

export const recipeRevisions = (files: PackageFile[]) =>
  revisions(files, (m) => (m.conan_file_type === 'recipe_file' ? m.recipe_revision : undefined));

export const packageRevisions = (files: PackageFile[], rrev: string, pkgid: string) =>
  revisions(files, (m) =>
    m.conan_file_type === 'package_file' && m.recipe_revision === rrev && m.conan_package_reference === pkgid
      ? m.package_revision
      : undefined,
  );

/**
 * Binary search: `{package_id: info}` of every binary of a recipe revision, from its newest
 * conaninfo.txt. Carries both GitLab's keys and the reference server's (`content`,
 * `full_requires`), since clients of either read it.
 */
export function binaries(files: PackageFile[], rrev: string): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const f of files) {
    const m = fileMeta(f);
    if (m.conan_file_type !== 'package_file' || m.recipe_revision !== rrev || !m.conan_info || !m.conan_package_reference) continue;
    const info = m.conan_info;
    out[m.conan_package_reference] = {
      content: info.content,
      settings: info.settings,
      options: info.options,
      requires: info.requires,
      full_requires: info.full_requires,
      recipe_hash: info.recipe_hash,
    };
  }
  return out;
}

const SECTION = /^\[([A-Za-z0-9_.-]+)\]$/;
export const MAX_INFO_SIZE = 64 * 1024;

/** conaninfo.txt (INI-like): `[settings]`, `[options]` (key=value), `[requires]` (lines), `[recipe_hash]` (one line); others ignored. */
export function parseConanInfo(text: string): ConanInfo {
  const info: ConanInfo = { content: text, settings: {}, options: {}, requires: [], full_requires: [], recipe_hash: null };
  let full: string[] | null = null;
  let section: string | null = null;
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    if (line.startsWith('[')) {
      const m = SECTION.exec(line);
      if (!m) throw httpErrors.badRequest(`conaninfo.txt: invalid section header ${line.slice(0, 60)}`);
      section = m[1];
      continue;
    }
    if (section === 'settings' || section === 'options') {
      const eq = line.indexOf('=');
      if (eq <= 0 || eq === line.length - 1) throw httpErrors.badRequest(`conaninfo.txt: invalid line in [${section}]`);
      info[section][line.slice(0, eq).trim()] = line.slice(eq + 1).trim();
    } else if (section === 'requires') {
      info.requires.push(line);
    } else if (section === 'full_requires') {
      (full ??= []).push(line);
    } else if (section === 'recipe_hash') {
      if (info.recipe_hash !== null) throw httpErrors.badRequest('conaninfo.txt: recipe_hash must be one line');
      info.recipe_hash = line;
    }
  }
  info.full_requires = full ?? info.requires;
  return info;
}

/** `{"results": [refs]}` from package rows (Conan 2 reads `_` as "no user/channel"). */
export const searchResults = (pkgs: Package[]) => ({ results: [...new Set(pkgs.map((p) => refString(refFromPackage(p))))].sort() });

/** A recipe's package row and all of its files: every metadata document is rendered from these two reads. */
@Injectable()
export class ConanMetadata {
  constructor(
    private readonly packages: PackageService,
    private readonly projects: ProjectsService,
  ) {}

  findRecipe(ctx: ProjectContext, ref: RecipeRef): Promise<Package | null> {
    return this.packages.findPackage({ projectId: ctx.project.id, packageType: CONAN, name: ref.name, version: packageVersion(ref) });
  }

  /** The package and its files, oldest first; 404 when the recipe is unknown. */
  async recipe(ctx: ProjectContext, ref: RecipeRef, what = 'Recipe'): Promise<{ pkg: Package; files: PackageFile[] }> {
    const pkg = await this.findRecipe(ctx, ref);
    if (!pkg) throw httpErrors.notFound(what);
    return { pkg, files: await this.packages.listFiles([pkg.id]) };
  }

  /** The files of one slot; 404 when there are none. */
  async slot(ctx: ProjectContext, ref: RecipeRef, slot: FileSlot): Promise<{ pkg: Package; files: Map<string, PackageFile> }> {
    const { pkg, files } = await this.recipe(ctx, ref);
    const found = slotFiles(files, slot);
    if (!found.size) throw httpErrors.notFound(slot.kind === 'recipe' ? 'Recipe files' : 'Package files');
    return { pkg, files: found };
  }

  /** The recipes in a project whose reference matches (one query for names, one per matching name). */
  async search(ctx: ProjectContext, pattern: SearchPattern, limit = 500): Promise<Package[]> {
    const scope: PackageScope = { kind: 'project', projectId: ctx.project.id };
    const names = await this.packages.scopeNames(scope, CONAN);
    const out: Package[] = [];
    for (const { name } of names) {
      if (!pattern.matchesName(name)) continue;
      for (const pkg of await this.packages.scopeVersions(scope, CONAN, name)) if (pattern.matches(refFromPackage(pkg))) out.push(pkg);
    }
    return out.slice(-limit);
  }

  /**
   * Instance-wide search: a user part names the project (`group+sub+project`); otherwise every
   * project the caller may list. Unlistable or unknown projects give no results.
   */
  async searchInstance(
    listing: PackageScope,
    pattern: SearchPattern,
    resolve: (ref: RecipeRef) => Promise<ProjectContext>,
    limit = 500,
  ): Promise<Package[]> {
    if (pattern.user) {
      const ctx = await resolve({ name: '', version: '', user: pattern.user, channel: '' }).catch((err) => {
        if (err instanceof HttpError && err.status < 500) return null;
        throw err;
      });
      return ctx ? this.search(ctx, pattern, limit) : [];
    }
    const { packages } = await this.packages.searchNames(listing, CONAN, { text: '', limit: 1000, offset: 0 });
    const out: Package[] = [];
    const paths = new Map<number, string | undefined>();
    for (const latest of packages) {
      if (!pattern.matchesName(latest.name)) continue;
      if (!paths.has(latest.project_id))
        paths.set(latest.project_id, (await this.projects.findProjectById(latest.project_id))?.project.full_path);
      // Only recipes the instance remote can address: user = their own project's path.
      const user = paths.get(latest.project_id)?.replace(/\//g, '+').toLowerCase();
      const versions = await this.packages.listVersions({ projectId: latest.project_id, packageType: CONAN, name: latest.name });
      out.push(...versions.filter((p) => refFromPackage(p).user.toLowerCase() === user && pattern.matches(refFromPackage(p))));
    }
    return out.slice(-limit);
  }

  /** Records the download of a package's binary (GitLab counts conan_package.tgz). */
  markDownloaded(pkg: Package, kind: FileKind, fileName: string, request: { method: string }): void {
    if (kind === 'package' && fileName === 'conan_package.tgz') this.packages.markDownloaded(pkg, request);
  }
}
