// Runs bench/maven/*.bench.ts with the format-maven package's Jest settings (sources mapped, no build).
module.exports = require('../lib/jest-bench-config.cjs')(__dirname, 'packages/format-maven', { testTimeout: 600_000 });
