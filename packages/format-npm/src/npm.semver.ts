import { compare, parse, prerelease, type SemVer } from 'semver';

// GitLab accepts strict SemVer 2.0.0 only, at most 256 characters. npm's `semver` in strict
// mode still trims whitespace and allows a leading `v`, so a version counts only when its
// canonical form (with build metadata) is exactly what was sent.
const MAX_VERSION_LENGTH = 256;

function strict(version: string): SemVer | null {
  if (version.length > MAX_VERSION_LENGTH) return null;
  const parsed = parse(version);
  if (!parsed) return null;
  const canonical = parsed.build.length ? `${parsed.version}+${parsed.build.join('.')}` : parsed.version;
  return canonical === version ? parsed : null;
}

export function isSemver(version: string): boolean {
  return strict(version) !== null;
}

/**
 * What `latest` means when no tag says: the highest release, else the highest prerelease
 * (else, were every version invalid, the last one).
 */
export function highestVersion(versions: string[]): string | undefined {
  const sorted = versions.filter(isSemver).sort(compare);
  return sorted.filter((v) => !prerelease(v)).pop() ?? sorted.pop() ?? versions[versions.length - 1];
}
