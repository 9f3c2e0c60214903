#!/usr/bin/env node
// Part of the build (after tsc): makes the embedded database's initdb snapshot
// (dist/database/initdb-snapshot.tar.gz, see src/database/initdb-snapshot.ts) unless the
// one there was made by the installed PGlite already.
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const { makeInitdbSnapshot, usableInitdbSnapshot, INITDB_SNAPSHOT } = require('../dist/database/initdb-snapshot.js');

if (!(await usableInitdbSnapshot())) {
  const started = Date.now();
  await makeInitdbSnapshot();
  console.log(`made ${INITDB_SNAPSHOT} (${((Date.now() - started) / 1000).toFixed(1)} s)`);
}
