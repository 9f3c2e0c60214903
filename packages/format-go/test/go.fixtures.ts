import { createHash } from 'node:crypto';

import { buildZip } from '@stowage/testkit';

// Go module zips and their go.sum hashes (the zip builder itself, for broken zips too: @stowage/testkit).

/** A module zip in the layout the go command writes: every file under `module@version/`. */
export function moduleZip(module: string, version: string, files: Record<string, string>): Buffer {
  return buildZip(Object.entries(files).map(([name, data]) => ({ name: `${module}@${version}/${name}`, data })));
}

/** golang.org/x/mod/sumdb/dirhash Hash1 over the files of a module zip: what go.sum records. */
export function h1(module: string, version: string, files: Record<string, string>): string {
  const sha = (s: string | Buffer) => createHash('sha256').update(s).digest();
  const lines = Object.keys(files)
    .map((name) => `${module}@${version}/${name}`)
    .sort()
    .map((full) => `${sha(files[full.slice(module.length + version.length + 2)]).toString('hex')}  ${full}\n`);
  return `h1:${sha(lines.join('')).toString('base64')}`;
}

/** The `/go.mod h1:` line's hash: Hash1 over the single file `go.mod`. */
export function h1GoMod(goMod: string): string {
  const sha = (s: string) => createHash('sha256').update(s).digest();
  return `h1:${sha(`${sha(goMod).toString('hex')}  go.mod\n`).toString('base64')}`;
}
