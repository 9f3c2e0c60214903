// The server never unpacks the archives it stores, but the clients that install them do (npm, pip,
// NuGet, Composer, Conan), and older or careless ones write wherever an entry's name or a link
// points. These rules refuse, at upload, every entry that could land outside the directory a
// client unpacks into, so the same rule holds for every format.

export type ArchiveEntryKind = 'file' | 'directory' | 'symlink' | 'hardlink' | 'other';

const shown = (name: string) => JSON.stringify(name);

/** Why a path (an entry's name, or a hard link's target) cannot be unpacked safely, if it cannot. */
function unsafePathProblem(path: string): string | undefined {
  if (path.includes('\0')) return 'has a NUL character in its name';
  if (path.includes('\\')) return 'has a backslash in its name';
  if (path.startsWith('/')) return 'points outside the package directory (an absolute path)';
  if (path.charCodeAt(1) === 0x3a /* : */ && /^[A-Za-z]/.test(path)) return 'points outside the package directory (a drive path)';
  if (path.includes('..') && path.split('/').includes('..')) return 'points outside the package directory (a ".." segment)';
  return undefined;
}

/** Whether normalizing leaves `path` as it is (a trailing `/` aside): no empty or `.` segment. */
function isPlain(path: string): boolean {
  if (path === '' || path === '.' || path.startsWith('/') || path.startsWith('./')) return false;
  return !path.includes('//') && !path.includes('/./') && !path.endsWith('/.');
}

/** `a/./b/` → `a/b`; '' for the archive's root (`./`). */
function normalized(path: string): string {
  // Most names are already plain (`lib/a.dll`, `lib/`): only the trailing slash goes.
  if (isPlain(path)) return path.endsWith('/') ? path.slice(0, -1) : path;
  return path
    .split('/')
    .filter((s) => s !== '' && s !== '.')
    .join('/');
}

/**
 * The problem with one entry, as a message naming it, or undefined when it is safe: a name that
 * is empty, absolute (`/x`, `C:\x`, `C:/x`), climbs out (`lib/../../x`), holds a backslash or a
 * NUL, or an entry that is a link or a special file.
 */
export function unsafeEntryProblem(name: string, kind: ArchiveEntryKind): string | undefined {
  return entryProblem(name, normalized(name), kind);
}

/** unsafeEntryProblem of `name`, whose normalized path is `path`. */
function entryProblem(name: string, path: string, kind: ArchiveEntryKind): string | undefined {
  const unsafe = unsafePathProblem(name);
  if (unsafe) return `the archive entry ${shown(name)} ${unsafe}`;
  // `./` is the root directory itself; a file needs a name.
  if (path === '') return kind === 'directory' ? undefined : `the archive has an entry with an empty name (${shown(name)})`;
  if (kind === 'symlink') return `the archive entry ${shown(name)} is a symbolic link`;
  if (kind === 'hardlink') return `the archive entry ${shown(name)} is a hard link`;
  if (kind === 'other') return `the archive entry ${shown(name)} is a device, FIFO or other special file`;
  return undefined;
}

export interface ArchiveEntryRules {
  /**
   * `refuse` (default): no links at all. `inside`: symbolic links with a relative target that
   * stays inside the archive, and hard links to a safe path, as Conan packages of shared
   * libraries hold (`libz.so -> libz.so.1`).
   */
  links?: 'refuse' | 'inside';
}

/**
 * Checks the entries of one archive in order: each by `unsafeEntryProblem`, a file name held
 * twice (clients keep the last copy, the server would read the first), and with `links: inside`
 * whatever would reach outside through a link: a target that climbs out, an entry under a
 * symbolic link, a target that passes through another symbolic link.
 */
export class ArchiveEntryCheck {
  private readonly files = new Set<string>();
  private readonly symlinks = new Set<string>();
  /** Every directory some entry lies in, and every path a symlink target passes through. */
  private readonly traversed = new Set<string>();

  constructor(private readonly rules: ArchiveEntryRules = {}) {}

  /** The problem with this entry (a message naming it), or undefined. */
  add(entry: { name: string; kind: ArchiveEntryKind; linkTarget?: string }): string | undefined {
    const isLink = entry.kind === 'symlink' || entry.kind === 'hardlink';
    const path = normalized(entry.name);
    const problem = entryProblem(entry.name, path, this.rules.links === 'inside' && isLink ? 'file' : entry.kind);
    if (problem) return problem;
    if (path === '') return undefined;
    // Links are refused outright unless `links: inside`: only then can a directory be a link.
    if (this.rules.links === 'inside') {
      for (let slash = path.indexOf('/'); slash !== -1; slash = path.indexOf('/', slash + 1)) {
        const dir = path.slice(0, slash);
        if (this.symlinks.has(dir)) return `the archive entry ${shown(entry.name)} lies under the symbolic link ${shown(dir)}`;
        this.traversed.add(dir);
      }
    }
    if (entry.kind !== 'directory') {
      if (this.files.has(path)) return `the archive holds ${shown(entry.name)} more than once`;
      this.files.add(path);
    }
    if (entry.kind === 'hardlink') return this.hardlinkProblem(entry.name, entry.linkTarget ?? '');
    if (entry.kind === 'symlink') return this.symlinkProblem(entry.name, path, entry.linkTarget ?? '');
    return undefined;
  }

  private hardlinkProblem(name: string, target: string): string | undefined {
    const problem = normalized(target) === '' ? 'is empty' : unsafePathProblem(target);
    if (problem) return `the hard link ${shown(name)} to ${shown(target)}: its target ${problem}`;
    const parts = normalized(target).split('/');
    for (let i = 1; i < parts.length; i++) {
      const dir = parts.slice(0, i).join('/');
      if (this.symlinks.has(dir)) return `the hard link ${shown(name)} points through the symbolic link ${shown(dir)}`;
    }
    return undefined;
  }

  private symlinkProblem(name: string, path: string, target: string): string | undefined {
    const outside = `the symbolic link ${shown(name)} points outside the package directory (to ${shown(target)})`;
    if (target === '' || target.includes('\0') || target.includes('\\')) {
      return `the symbolic link ${shown(name)} has an unusable target ${shown(target)}`;
    }
    if (target.startsWith('/') || /^[A-Za-z]:/.test(target)) return outside;
    if (this.traversed.has(path)) return `the symbolic link ${shown(name)} stands where other entries need a directory`;
    // Resolve from the link's directory, as the file system will; every step but the last is a
    // directory the system follows, which must not be a link itself (a link's own `..` would escape).
    const at = path.split('/').slice(0, -1);
    const steps = target.split('/').filter((s) => s !== '' && s !== '.');
    for (let i = 0; i < steps.length; i++) {
      if (steps[i] === '..') {
        if (!at.length) return outside;
        at.pop();
      } else {
        at.push(steps[i]);
      }
      if (i === steps.length - 1) break;
      const through = at.join('/');
      if (this.symlinks.has(through)) return `the symbolic link ${shown(name)} points through the symbolic link ${shown(through)}`;
      this.traversed.add(through);
    }
    this.symlinks.add(path);
    return undefined;
  }
}
