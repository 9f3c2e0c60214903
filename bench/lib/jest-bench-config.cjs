// The Jest settings of a bench directory's *.bench.ts: those of the package it measures
// (sources mapped, no build), with a benchmark's longer timeout.
const path = require('node:path');
const jestConfig = require('../../jest.base.cjs');

module.exports = function jestBenchConfig(benchDir, packageDir, { testTimeout }) {
  return {
    ...jestConfig(path.join(__dirname, '../..', packageDir)),
    displayName: `bench/${path.basename(benchDir)}`,
    roots: [benchDir],
    testMatch: [path.join(benchDir, '*.bench.ts')],
    testTimeout,
  };
};
