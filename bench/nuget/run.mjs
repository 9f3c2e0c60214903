#!/usr/bin/env node
// NuGet read benchmark against an in-process server (no build needed):
//   node bench/nuget/run.mjs                 postgres mode (the test PostgreSQL and Redis)
//   BENCH_MODE=embedded node bench/nuget/run.mjs
//   BENCH_CLIENTS=10 BENCH_REQUESTS=2000 BENCH_VERSIONS=3000 node bench/nuget/run.mjs
import { runJestBench } from '../lib/run-jest-bench.mjs';

runJestBench(import.meta.dirname);
