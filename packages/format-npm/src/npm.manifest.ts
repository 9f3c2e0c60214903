import { isObject } from './npm.body';

// Fields GitLab leaves out of the stored package.json: large, and never needed to install.
const DROPPED_FIELDS = ['readme', 'readmeFilename', 'licenseText', 'contributors', 'dist', '_attachments'];
const INSTALL_SCRIPTS = ['preinstall', 'install', 'postinstall'];
export const MAX_MANIFEST_CHARS = 20_000;

/** The package.json of a published version as stored (and rendered into packuments). */
export type NpmManifest = Record<string, unknown> & { name: string; version: string };

export function storedManifest(version: Record<string, unknown>): NpmManifest {
  const manifest: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(version)) if (!DROPPED_FIELDS.includes(k)) manifest[k] = v;
  const scripts = manifest.scripts;
  if (isObject(scripts) && INSTALL_SCRIPTS.some((s) => s in scripts)) manifest.hasInstallScript = true;
  return manifest as NpmManifest;
}
