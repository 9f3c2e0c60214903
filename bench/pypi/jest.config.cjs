// Runs bench/pypi/*.bench.ts with the format-pypi package's Jest settings (sources mapped, no build).
module.exports = require('../lib/jest-bench-config.cjs')(__dirname, 'packages/format-pypi', { testTimeout: 600_000 });
