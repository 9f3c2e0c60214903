// Runs bench/go/*.bench.ts with the format-go package's Jest settings (sources mapped, no build).
const path = require('node:path');
const base = require('../../jest.base.cjs')(path.join(__dirname, '../../packages/format-go'));

module.exports = { ...base, displayName: 'bench/go', roots: [__dirname], testMatch: ['<rootDir>/../../bench/go/*.bench.ts'], testTimeout: 300_000 };
