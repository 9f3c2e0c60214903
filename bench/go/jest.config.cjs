// Runs bench/go/*.bench.ts with the format-go package's Jest settings (sources mapped, no build).
module.exports = require('../lib/jest-bench-config.cjs')(__dirname, 'packages/format-go', { testTimeout: 300_000 });
