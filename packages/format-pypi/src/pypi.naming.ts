export const PYPI = 'pypi';

// PEP 508 project names: letters, digits, `.`, `_`, `-`, starting and ending alphanumeric.
const PROJECT_NAME = /^([A-Z0-9]|[A-Z0-9][A-Z0-9._-]*[A-Z0-9])$/i;
const MAX_NAME = 255;

/** PEP 503: lower-case, every run of `-`, `_`, `.` becomes one `-`. */
export function normalizePypiName(name: string): string {
  return name.toLowerCase().replace(/[-_.]+/g, '-');
}

export function isValidProjectName(name: string): boolean {
  return name.length <= MAX_NAME && PROJECT_NAME.test(name);
}

// PEP 440, as `packaging` parses it (case-insensitive, surrounding whitespace ignored).
const VERSION = new RegExp(
  '^\\s*v?' +
    '(?:(?<epoch>[0-9]+)!)?' +
    '(?<release>[0-9]+(?:\\.[0-9]+)*)' +
    '(?<pre>[-_.]?(?<pre_l>alpha|a|beta|b|preview|pre|c|rc)[-_.]?(?<pre_n>[0-9]+)?)?' +
    '(?<post>(?:-(?<post_n1>[0-9]+))|(?:[-_.]?(?<post_l>post|rev|r)[-_.]?(?<post_n2>[0-9]+)?))?' +
    '(?<dev>[-_.]?(?<dev_l>dev)[-_.]?(?<dev_n>[0-9]+)?)?' +
    '(?:\\+(?<local>[a-z0-9]+(?:[-_.][a-z0-9]+)*))?\\s*$',
  'i',
);

export interface Pep440Version {
  epoch: number;
  release: number[];
  pre?: { label: 'a' | 'b' | 'rc'; n: number };
  post?: number;
  dev?: number;
  local?: (string | number)[];
}

const PRE_LABEL: Record<string, 'a' | 'b' | 'rc'> = { a: 'a', alpha: 'a', b: 'b', beta: 'b', c: 'rc', rc: 'rc', pre: 'rc', preview: 'rc' };

export function parseVersion(version: string): Pep440Version | null {
  if (version.length > MAX_NAME) return null;
  const m = VERSION.exec(version);
  if (!m?.groups) return null;
  const g = m.groups;
  const v: Pep440Version = { epoch: Number(g.epoch ?? 0), release: g.release.split('.').map(Number) };
  if (g.pre_l) v.pre = { label: PRE_LABEL[g.pre_l.toLowerCase()], n: Number(g.pre_n ?? 0) };
  if (g.post) v.post = Number(g.post_n1 ?? g.post_n2 ?? 0);
  if (g.dev) v.dev = Number(g.dev_n ?? 0);
  if (g.local)
    v.local = g.local
      .toLowerCase()
      .split(/[-_.]/)
      .map((s) => (/^\d+$/.test(s) ? Number(s) : s));
  return v;
}

function render(v: Pep440Version, release: number[]): string {
  let s = v.epoch ? `${v.epoch}!` : '';
  s += release.join('.');
  if (v.pre) s += `${v.pre.label}${v.pre.n}`;
  if (v.post !== undefined) s += `.post${v.post}`;
  if (v.dev !== undefined) s += `.dev${v.dev}`;
  if (v.local) s += `+${v.local.join('.')}`;
  return s;
}

/**
 * The identity of a release: normalized with trailing zero release segments dropped, so
 * `1.0` and `1.0.0` are the same release. Not PEP 440: lower-cased as is.
 */
export function canonicalVersion(version: string): string {
  const v = parseVersion(version);
  if (!v) return version.trim().toLowerCase();
  const release = [...v.release];
  while (release.length > 1 && release[release.length - 1] === 0) release.pop();
  return render(v, release);
}

type Key = (number | string)[];

function sortKey(v: Pep440Version): Key[] {
  const release = [...v.release];
  while (release.length > 1 && release[release.length - 1] === 0) release.pop();
  const NEG = -Infinity;
  const POS = Infinity;
  // As packaging's _cmpkey: a dev-only release sorts before its pre-releases.
  const pre: Key = v.pre ? [['a', 'b', 'rc'].indexOf(v.pre.label), v.pre.n] : v.post === undefined && v.dev !== undefined ? [NEG] : [POS];
  const post: Key = v.post === undefined ? [NEG] : [v.post];
  const dev: Key = v.dev === undefined ? [POS] : [v.dev];
  // Local segments: numbers sort above strings; a shorter local sorts first.
  const local: Key = v.local ? v.local.flatMap((s) => (typeof s === 'number' ? [1, s] : [0, s])) : [NEG];
  return [[v.epoch], release, pre, post, dev, local];
}

function compareKey(a: Key, b: Key): number {
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    if (i >= a.length) return -1;
    if (i >= b.length) return 1;
    const x = a[i];
    const y = b[i];
    if (x === y) continue;
    if (typeof x === 'number' && typeof y === 'number') return x < y ? -1 : 1;
    return String(x) < String(y) ? -1 : 1;
  }
  return 0;
}

function compareParsed(a: string, ka: Key[] | null, b: string, kb: Key[] | null): number {
  if (!ka || !kb) return !ka && !kb ? (a < b ? -1 : a > b ? 1 : 0) : ka ? 1 : -1;
  for (let i = 0; i < ka.length; i++) {
    const c = compareKey(ka[i], kb[i]);
    if (c) return c;
  }
  return 0;
}

const keyOf = (version: string): Key[] | null => {
  const v = parseVersion(version);
  return v ? sortKey(v) : null;
};

/** PEP 440 ordering; versions that do not parse sort first, by string. */
export function compareVersions(a: string, b: string): number {
  return compareParsed(a, keyOf(a), b, keyOf(b));
}

/**
 * Each distinct version's rank in PEP 440 order (equal versions share a rank). Parses every
 * version once, where sorting with compareVersions would parse O(n log n) times.
 */
export function versionRanks(versions: Iterable<string>): Map<string, number> {
  const keyed = [...new Set(versions)].map((v) => ({ v, k: keyOf(v) }));
  keyed.sort((a, b) => compareParsed(a.v, a.k, b.v, b.k));
  const ranks = new Map<string, number>();
  let rank = 0;
  keyed.forEach((e, i) => {
    if (i > 0 && compareParsed(keyed[i - 1].v, keyed[i - 1].k, e.v, e.k) !== 0) rank++;
    ranks.set(e.v, rank);
  });
  return ranks;
}

export type DistKind = 'wheel' | 'sdist';

export interface DistFilename {
  kind: DistKind;
  /** The name part (wheel: escaped with `_`). */
  name: string;
  version: string;
  /** The wheel's python tag (`py3`), or `source` for an sdist. */
  pyversion: string;
}

const SAFE_FILENAME = /^[A-Za-z0-9][A-Za-z0-9._+!-]*$/;
const SDIST_SUFFIXES = ['.tar.gz', '.zip', '.tar.bz2'];

/**
 * What a distribution's file name says (PEP 427 wheels; `name-version.tar.gz|.zip|.tar.bz2`
 * sdists), or null. An sdist name may itself contain `-`, so the split that makes the name
 * part equal `expectedName` (normalized) wins; without one, the last `-` splits.
 */
export function parseDistFilename(fileName: string, expectedName?: string): DistFilename | null {
  if (fileName.length > MAX_NAME || !SAFE_FILENAME.test(fileName)) return null;
  if (fileName.endsWith('.whl')) {
    const parts = fileName.slice(0, -4).split('-');
    if (parts.length !== 5 && parts.length !== 6) return null;
    if (parts.some((p) => p === '')) return null;
    return { kind: 'wheel', name: parts[0], version: parts[1], pyversion: parts[parts.length - 3] };
  }
  const suffix = SDIST_SUFFIXES.find((s) => fileName.endsWith(s));
  if (!suffix) return null;
  const stem = fileName.slice(0, -suffix.length);
  const splits: number[] = [];
  for (let i = stem.indexOf('-'); i > 0; i = stem.indexOf('-', i + 1)) splits.push(i);
  if (!splits.length) return null;
  const want = expectedName !== undefined ? normalizePypiName(expectedName) : undefined;
  const at = splits.find((i) => want !== undefined && normalizePypiName(stem.slice(0, i)) === want) ?? splits[splits.length - 1];
  const version = stem.slice(at + 1);
  if (!version) return null;
  return { kind: 'sdist', name: stem.slice(0, at), version, pyversion: 'source' };
}

/** `.metadata` files (PEP 658) are stored beside the distribution they describe. */
export const METADATA_SUFFIX = '.metadata';

/** Every (name, version) a distribution file name can be read as; for looking files up. */
export function distNameCandidates(fileName: string): { name: string; version: string }[] {
  const dist = parseDistFilename(fileName);
  if (!dist) return [];
  if (dist.kind === 'wheel') return [{ name: dist.name, version: dist.version }];
  const stem = fileName.slice(0, fileName.length - (fileName.endsWith('.zip') ? 4 : 7));
  const out: { name: string; version: string }[] = [];
  for (let i = stem.indexOf('-'); i > 0; i = stem.indexOf('-', i + 1)) {
    const version = stem.slice(i + 1);
    if (parseVersion(version)) out.push({ name: stem.slice(0, i), version });
  }
  return out;
}
