import { existsSync } from 'node:fs';
import { readFile, rename, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { type EmbeddedDatabase, openEmbeddedDatabase } from '@stowage/core';

// A fresh PGlite runs initdb (4–8 s here); loading a snapshot of a freshly initialised one
// takes about a second. The snapshot holds no schema, so every test still runs migrations.
const SNAPSHOT = join(tmpdir(), `stowage-pglite-initdb-${process.versions.node}.tar.gz`);

/** A new, empty in-memory embedded database, made from a cached post-initdb snapshot. */
export async function openTestEmbeddedDatabase(): Promise<EmbeddedDatabase> {
  if (existsSync(SNAPSHOT)) {
    try {
      const bytes = await readFile(SNAPSHOT);
      return await openEmbeddedDatabase({ snapshot: new Blob([bytes]) });
    } catch {
      // A corrupt or foreign snapshot: fall through and make a new one.
    }
  }
  const db = await openEmbeddedDatabase({});
  const dump = await db.dumpDataDir('gzip');
  const tmp = `${SNAPSHOT}.${process.pid}.tmp`;
  await writeFile(tmp, Buffer.from(await dump.arrayBuffer()));
  await rename(tmp, SNAPSHOT);
  return db;
}
