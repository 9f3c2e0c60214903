import { isJsonObject } from '@stowage/core';

// Fields GitLab leaves out of the stored package.json: large, and never needed to install.
const DROPPED_FIELDS = ['readme', 'readmeFilename', 'licenseText', 'contributors', 'dist', '_attachments'];
const INSTALL_SCRIPTS = ['preinstall', 'install', 'postinstall'];
export const MAX_MANIFEST_CHARS = 20_000;

/** The package.json of a published version as stored (and rendered into packuments). */
export type NpmManifest = Record<string, unknown> & { name: string; version: string };

/** The most of a README kept for the web UI's package page (the public registry cuts packuments' at 64 KiB too). */
export const MAX_README_CHARS = 65_536;

/**
 * The README npm sends with a publish (in the version's manifest, or at the top of the body),
 * kept beside the stored manifest for the package page only: packuments never carry it.
 */
export function publishedReadme(body: Record<string, unknown>, manifest: Record<string, unknown>): string | undefined {
  const readme = [manifest.readme, body.readme].find((r): r is string => typeof r === 'string' && r.trim() !== '');
  return readme?.slice(0, MAX_README_CHARS);
}

/** The stored manifest as packuments render it: without the README kept for the package page. */
export function packumentManifest(metadata: Record<string, unknown>): NpmManifest {
  const { readme: _readme, ...manifest } = metadata;
  return manifest as NpmManifest;
}

export function storedManifest(version: Record<string, unknown>): NpmManifest {
  const manifest: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(version)) if (!DROPPED_FIELDS.includes(k)) manifest[k] = v;
  const scripts = manifest.scripts;
  if (isJsonObject(scripts) && INSTALL_SCRIPTS.some((s) => s in scripts)) manifest.hasInstallScript = true;
  return manifest as NpmManifest;
}
