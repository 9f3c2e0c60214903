import { TimeSlice, type ZipEntry, ZipError, ZipReader, type ZipSource } from '@stowage/core';

import { checkFilePath, GoNameError } from './go.naming';

// The module zip rules of golang.org/x/mod/zip (CheckZip / Unzip), which `go mod download`
// enforces: a zip we accept is one every go command can extract.

export const MAX_ZIP_FILE = 500 * 1024 * 1024;
export const MAX_GO_MOD = 16 * 1024 * 1024;
export const MAX_LICENSE = 16 * 1024 * 1024;
/**
 * Default of `formats.go.max_zip_entries`. The go command sets no count, only the 500 MiB of
 * MaxZipFile: at the ~10 KiB of a typical Go source file that is ~50,000 files, and the largest
 * modules published (SDKs generated per API version) stay below that. A count bounds what one
 * upload may cost in CPU and memory (each entry is parsed and checked; ~1 s of CPU per 200,000).
 */
export const DEFAULT_MAX_ZIP_ENTRIES = 200_000;

export class ModuleZipError extends Error {}

const bad = (message: string): never => {
  throw new ModuleZipError(message);
};

/**
 * Opens a module zip as the go command reads one: names are UTF-8 whatever their flag says.
 * The go command limits sizes only; Stowage also refuses more than `maxEntries` entries.
 */
export function openModuleZip(source: ZipSource, maxEntries = DEFAULT_MAX_ZIP_ENTRIES): Promise<ZipReader> {
  return ZipReader.open(source, { utf8Names: true, maxDirectorySize: 64 * 1024 * 1024, maxEntries });
}

/** Two paths that differ only in case collide on case-insensitive file systems. */
class CollisionChecker {
  /** Each path seen (directories included), by its case-folded spelling. */
  private readonly seen = new Map<string, string>();
  private readonly directories = new Set<string>();

  check(path: string, isDir: boolean): void {
    // An ASCII path folds to its lower case, which costs no copy when it is lower case already.
    const fold = ASCII.test(path) ? path.toLowerCase() : path.toUpperCase().toLowerCase();
    const prev = this.seen.get(fold);
    if (prev !== undefined) {
      if (prev !== path) bad(`case-insensitive file name collision: "${prev}" and "${path}"`);
      if (this.directories.has(fold) !== isDir) bad(`entry "${path}" is both a file and a directory`);
      if (!isDir) bad(`multiple entries for file "${path}"`);
      return;
    }
    this.seen.set(fold, path);
    if (isDir) this.directories.add(fold);
    const slash = path.lastIndexOf('/');
    if (slash > 0) this.check(path.slice(0, slash), true);
  }
}

const ASCII = /^[\x00-\x7f]*$/;

/** The first `module` directive of a go.mod file, or null if it has none. */
export function moduleDirective(goMod: string): string | null {
  const lines = goMod.split(/\r?\n/).map((l) => l.replace(/\/\/.*$/, '').trim());
  for (let i = 0; i < lines.length; i++) {
    let arg: string | undefined;
    if (lines[i] === 'module (') arg = lines.slice(i + 1).find((l) => l !== '');
    else arg = /^module\s+(\S.*)$/.exec(lines[i])?.[1];
    if (arg === undefined) continue;
    arg = arg.trim();
    if (arg.startsWith('"')) {
      try {
        return JSON.parse(arg) as string;
      } catch {
        return null;
      }
    }
    if (arg.startsWith('`') && arg.endsWith('`') && arg.length > 1) return arg.slice(1, -1);
    return arg;
  }
  return null;
}

/**
 * Checks every entry of a module zip for `module@version` and verifies each file's data
 * against its declared size and CRC. Returns the root go.mod's bytes (null if there is none).
 */
export async function checkModuleZip(zip: ZipReader, module: string, version: string): Promise<Buffer | null> {
  const prefix = `${module}@${version}/`;
  const collisions = new CollisionChecker();
  const files: ZipEntry[] = [];
  let total = 0;
  let goMod: ZipEntry | undefined;
  const slice = new TimeSlice();
  for (const entry of zip.entries) {
    if (slice.due()) await slice.pause();
    if (!entry.name.startsWith(prefix)) bad(`${entry.name}: path does not have prefix "${prefix}"`);
    let name = entry.name.slice(prefix.length);
    if (name === '') continue;
    if (entry.isDirectory) name = name.slice(0, -1);
    try {
      checkFilePath(name);
    } catch (err) {
      if (err instanceof GoNameError) bad(`${entry.name}: malformed file path "${name}": ${err.message}`);
      throw err;
    }
    collisions.check(name, entry.isDirectory);
    if (entry.isDirectory) continue;
    if (entry.kind !== 'file') bad(`${entry.name}: symlinks and other irregular files are not allowed in module zips`);
    const base = name.slice(name.lastIndexOf('/') + 1);
    if (base.toLowerCase() === 'go.mod') {
      if (base !== name) bad(`${entry.name}: go.mod file not in module root directory`);
      if (name !== 'go.mod') bad(`${entry.name}: go.mod files must be spelled exactly "go.mod"`);
      goMod = entry;
    }
    total += entry.uncompressedSize;
    if (total > MAX_ZIP_FILE) bad(`total uncompressed size of module contents exceeds ${MAX_ZIP_FILE} bytes`);
    if (name === 'go.mod' && entry.uncompressedSize > MAX_GO_MOD) bad(`go.mod file too large (max size is ${MAX_GO_MOD} bytes)`);
    if (name === 'LICENSE' && entry.uncompressedSize > MAX_LICENSE) bad(`LICENSE file too large (max size is ${MAX_LICENSE} bytes)`);
    files.push(entry);
  }
  if (!files.length) bad('module zip has no files');
  try {
    const kept = await zip.verifyEntries(files, { keep: (e) => e === goMod, maxKeptSize: MAX_GO_MOD });
    return goMod ? kept.get(goMod)! : null;
  } catch (err) {
    if (err instanceof ZipError) bad(err.entry === undefined ? err.message : `zip entry ${err.message}`);
    throw err;
  }
}
