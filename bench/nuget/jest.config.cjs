// Runs bench/nuget/*.bench.ts with the format-nuget package's Jest settings (sources mapped, no build).
module.exports = require('../lib/jest-bench-config.cjs')(__dirname, 'packages/format-nuget', { testTimeout: 600_000 });
