import { createHash } from 'node:crypto';

import { buildZip } from '@stowage/testkit';

// Composer package archives (zips and multipart bodies in general: @stowage/testkit).

/** A package archive: composer.json plus sources, under an optional top directory. */
export function packageZip(composerJson: object | string, files: Record<string, string> = {}, top = ''): Buffer {
  const json = typeof composerJson === 'string' ? composerJson : JSON.stringify(composerJson, null, 2);
  return buildZip([
    { name: `${top}composer.json`, data: json },
    ...Object.entries(files).map(([name, data]) => ({ name: `${top}${name}`, data })),
  ]);
}

export const sha1 = (b: Buffer) => createHash('sha1').update(b).digest('hex');
export const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');
