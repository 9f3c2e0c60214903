import { createReadStream, createWriteStream, existsSync } from 'node:fs';
import { mkdir, readFile, rename, rm, rmdir, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join, normalize, sep } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';

import { extract } from 'tar-stream';

// The embedded database's first start spends most of its time in initdb (PGlite runs it in a
// second instance, then copies the result over as a tar). A data directory just out of initdb is
// the same for every installation of one PGlite version, so the build makes one
// (`stowage-make-initdb-snapshot`, run by `pnpm build`) and a first start unpacks it instead.

/** Where the build puts the snapshot: next to this module in dist/. */
export const INITDB_SNAPSHOT = join(__dirname, 'initdb-snapshot.tar.gz');

/** The installed PGlite's version: a snapshot of another version's initdb is not used. */
export function pgliteVersion(): string {
  const require = createRequire(__filename);
  let dir = dirname(require.resolve('@electric-sql/pglite'));
  while (!existsSync(join(dir, 'package.json'))) dir = dirname(dir);
  return (JSON.parse(require('node:fs').readFileSync(join(dir, 'package.json'), 'utf8')) as { version: string }).version;
}

const stamp = (snapshot: string) => `${snapshot}.version`;

/** Writes a snapshot of a fresh initdb (PGlite's dumpDataDir, gzip) and the PGlite version it is of. */
export async function makeInitdbSnapshot(snapshot = INITDB_SNAPSHOT): Promise<void> {
  const { PGlite } = await import('@electric-sql/pglite');
  const db = await PGlite.create();
  try {
    const dump = await db.dumpDataDir('gzip');
    const tmp = `${snapshot}.${process.pid}.tmp`;
    await writeFile(tmp, Buffer.from(await dump.arrayBuffer()));
    await rename(tmp, snapshot);
    await writeFile(stamp(snapshot), pgliteVersion());
  } finally {
    await db.close();
  }
}

/** True when `snapshot` exists and was made by the installed PGlite. */
export async function usableInitdbSnapshot(snapshot = INITDB_SNAPSHOT): Promise<boolean> {
  if (!existsSync(snapshot)) return false;
  const version = await readFile(stamp(snapshot), 'utf8').catch(() => '');
  return version.trim() === pgliteVersion();
}

/**
 * Unpacks `snapshot` as the data directory `dataDir`, which must not exist yet (an empty one
 * is fine): into a sibling first, then renamed, so an interrupted start leaves no half database.
 */
export async function restoreInitdbSnapshot(dataDir: string, snapshot = INITDB_SNAPSHOT): Promise<void> {
  const tmp = `${dataDir}.initdb-${process.pid}`;
  await rm(tmp, { recursive: true, force: true });
  await mkdir(tmp, { recursive: true, mode: 0o700 });
  try {
    const unpack = extract();
    unpack.on('entry', (header, stream, next) => {
      void (async () => {
        const rel = normalize(header.name.replace(/^\/+/, ''));
        if (rel === '.' || rel.startsWith('..') || rel.split(sep).includes('..'))
          throw new Error(`initdb snapshot: bad entry ${header.name}`);
        const target = join(tmp, rel);
        if (header.type === 'directory') {
          await mkdir(target, { recursive: true, mode: 0o700 });
          stream.resume();
        } else if (header.type === 'file') {
          await mkdir(dirname(target), { recursive: true, mode: 0o700 });
          await pipeline(stream, createWriteStream(target, { mode: 0o600 }));
        } else {
          stream.resume();
        }
      })().then(() => next(), next);
    });
    await pipeline(createReadStream(snapshot), createGunzip(), unpack);
    // Only an empty (or absent) directory is replaced.
    await rmdir(dataDir).catch((e: NodeJS.ErrnoException) => {
      if (e.code !== 'ENOENT') throw e;
    });
    await rename(tmp, dataDir);
  } catch (err) {
    await rm(tmp, { recursive: true, force: true });
    throw err;
  }
}
