// Runs bench/maven/*.bench.ts with the format-maven package's Jest settings (sources mapped, no build).
const path = require('node:path');
const base = require('../../jest.base.cjs')(path.join(__dirname, '../../packages/format-maven'));

module.exports = { ...base, displayName: 'bench/maven', roots: [__dirname], testMatch: ['<rootDir>/../../bench/maven/*.bench.ts'], testTimeout: 600_000 };
